"""Tools around the pipeline: the provider simulator, and the demo that runs the whole pipeline on a
generated library."""

from __future__ import annotations

import argparse

from metarr_pipeline.cli.common import failed_exit
from metarr_pipeline.cli.pipeline import run_scan
from metarr_pipeline.config import load_settings
from metarr_pipeline.errors import ConfigError
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.report import enrich_text, fetch_text, publish_text, scan_text, sets_text, status_table
from metarr_pipeline.store import Store


def add_tool_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulator", help="run the provider simulator (a test double of TMDB and fanart.tv)",
                       description="Serve the built-in provider simulator on loopback until Ctrl-C, and print "
                                   "the base URLs to point METARR_TMDB_API_URL / METARR_FANART_API_URL at. "
                                   "Options: see 'metarr simulator --help'.")
    p.set_defaults(func=cmd_simulator, args=[])

    p = sub.add_parser("demo", help="generate the bundled demo library and run the pipeline on it",
                       description="Generate the demo library (tiny real video files) into the first library "
                                   "root of the config, then scan, enrich and publish it (offline, against the "
                                   "built-in simulator unless real keys are set). Safe to repeat: generation is "
                                   "skipped when the library is already there, and a republish changes nothing.")
    p.add_argument("--force", action="store_true", help="regenerate the demo library")
    p.set_defaults(func=cmd_demo)



def cmd_simulator(args: argparse.Namespace) -> int:
    return run_simulator(args.args)


def run_simulator(argv: list[str]) -> int:
    """The simulator's own command line: the product's one way in besides the providers' session."""
    from metarr_pipeline.simulator import run_cli

    return int(run_cli(argv) or 0)


def cmd_demo(args: argparse.Namespace) -> int:
    from metarr_pipeline.demo.library import generate_demo_library

    settings = load_settings(args.config, check_roots=False)
    if not settings.library.roots:
        raise ConfigError(f"{settings.config_path}: library.roots is empty: the demo needs a folder to fill")
    root = settings.library.roots[0]
    folders = generate_demo_library(root, force=args.force)
    print(f"Demo library: {root} ({len(folders)} movie folders)")
    settings = load_settings(args.config)
    print(scan_text(run_scan(settings)))
    print()
    from metarr_pipeline.artwork.enrich import enrich_movies

    with open_providers(settings) as providers:
        report = fetch_metadata(settings, Store(settings.database_path), providers)
        print(fetch_text(report))
        enriched = enrich_movies(settings, Store(settings.database_path), providers)
        print(enrich_text(enriched))
        from metarr_pipeline.artwork.sets import enrich_collections

        print(sets_text(enrich_collections(settings, Store(settings.database_path), providers)))
        from metarr_pipeline.publish.publish import publish_movies

        published = publish_movies(settings, Store(settings.database_path), providers)
    print(publish_text(published))
    print()
    store = Store(settings.database_path)
    print(status_table(store.movies(), store.streams()))
    print(f"\nState database: {settings.database_path}")
    return failed_exit(len(report.failures) + len(enriched.failures) + len(published.failures))
