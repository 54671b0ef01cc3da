"""The pipeline's own commands, in the order they run: scan, status, fetch, enrich, publish, backfill.

Each exits 1 when any movie failed (see :mod:`.common` for every exit code); ``status``, ``enrich`` and
``publish`` print JSON with ``--json``; long work shows a progress bar when stdout is a terminal.
"""

from __future__ import annotations

import argparse
import os
import sys

from metarr_pipeline.cli.common import failed_exit, in_steps, print_json, require_keys, say, show_progress, spinner
from metarr_pipeline.cli.merge import merge_enrich, merge_fetch, merge_publish, movie_status
from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.providers.fetch import FetchReport, fetch_metadata
from metarr_pipeline.providers.session import ProviderSession, open_providers
from metarr_pipeline.report import enrich_text, fetch_text, publish_text, scan_text, sets_text, status_table
from metarr_pipeline.scan.scan import ScanReport, scan_library
from metarr_pipeline.store import Store


def add_pipeline_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scan", help="find, identify and probe the movies in the library roots",
                       description="Scan the library roots: find movie folders, identify each film, probe its "
                                   "streams (unchanged files are not re-probed). Writes only the state database.")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("status", help="a table of every movie: identity, state and streams",
                       description="Show every movie the state database knows, with its identity, state and "
                                   "a summary of its streams. Reads only.")
    p.add_argument("--problems", action="store_true", help="only movies that need attention")
    p.add_argument("--json", action="store_true", help="print the movies as JSON instead of a table")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("fetch", help="fetch provider metadata (TMDB, fanart.tv) for identified movies",
                       description="Fetch TMDB and fanart.tv data for identified movies (all, or the given "
                                   "partition keys), reusing cached responses younger than the TTL, and merge it "
                                   "into each movie's metadata. Never writes into the library.")
    p.add_argument("keys", nargs="*", help="partition keys (default: every identified movie)")
    p.add_argument("--force", action="store_true", help="refetch even when the cache is fresh")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("enrich", help="fetch provider data, then choose, score and cache artwork and actors",
                       description="For identified movies (all, or the given partition keys): fetch provider "
                                   "metadata (cached for the TTL), then score every artwork candidate, drop "
                                   "near-duplicates, select the best per type, cache the winners and the actors' "
                                   "headshots. Never writes into the library.")
    p.add_argument("keys", nargs="*", help="partition keys (default: every identified movie)")
    p.add_argument("--refresh", action="store_true", help="refetch provider data even when the cache is fresh")
    p.add_argument("--json", action="store_true", help="print the fetch and enrichment reports as JSON")
    p.set_defaults(func=cmd_enrich)
    _add_publish_commands(sub)


def _add_publish_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="write NFO, artwork and .actors/ into the movie folders",
                       description="Publish enriched movies (the given partition keys, or every movie that is "
                                   "unpublished or outdated): write the NFO, rank-named artwork and .actors/ "
                                   "atomically, skip files whose bytes are already right, and remove only files "
                                   "metarr wrote before that are no longer selected.")
    p.add_argument("keys", nargs="*", help="partition keys (default: every unpublished or outdated movie)")
    p.add_argument("--all", action="store_true", help="republish every enriched movie, not only outdated ones")
    p.add_argument("--dry-run", action="store_true",
                   help="print each movie's file plan (write, unchanged, remove, keep) and write nothing")
    p.add_argument("--json", action="store_true", help="print the report (or the plan) as JSON")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("backfill", help="re-run exactly the movies a config change made stale",
                       description="Compare each movie's stored config fingerprints with the current config and "
                                   "re-enrich exactly the stale ones (republishing published movies only with "
                                   "auto_publish on; files written under another naming config always). A "
                                   "scoring-only change re-scores from stored data with zero provider requests: "
                                   "new winners' originals are downloaded when the movie is published.")
    p.add_argument("--dry-run", action="store_true", help="only list the stale movies")
    p.set_defaults(func=cmd_backfill)


def run_scan(settings: Settings, *, show: bool = False) -> ScanReport:
    with open_providers(settings) as providers:
        print(providers.describe())
        with spinner("Scanning the library...", show=show):
            return scan_library(settings, Store(settings.database_path), resolver=providers.tmdb)


def cmd_scan(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    report = run_scan(settings, show=show_progress())
    print(scan_text(report))
    s = report.summary()
    return failed_exit(s["invalid"] + s["probe_failures"])


def cmd_status(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    movies = store.movies()
    if args.problems:
        movies = [m for m in movies if m.status != "identified" or m.probe_error or m.warnings]
    if not movies and not args.json:
        print("No movies known yet: run 'metarr scan'." if not args.problems else "No problems.")
        return 0
    from metarr_pipeline.orchestration import stale_movies

    stale = stale_movies(settings, store)
    streams, publish = store.streams(), store.publish_state()
    if args.json:
        print_json([movie_status(m, streams, publish, stale) for m in movies])
        return 0
    print(status_table(movies, streams, publish, stale))
    counts: dict[str, int] = {}
    for m in movies:
        state = "gone" if m.gone_at else m.status
        counts[state] = counts.get(state, 0) + 1
    print("\n" + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    return 0


def _fetch(settings: Settings, store: Store, providers: ProviderSession, keys: list[str] | None, *,
           force: bool, show: bool, previews: bool = False) -> FetchReport:
    """The metadata; with ``previews`` (an enrichment follows) the new answers' previews analysed beside it."""
    def fetch(chunk: list[str] | None) -> FetchReport:
        if previews:
            from metarr_pipeline.artwork.enrich.prefetch import fetch_with_previews

            return fetch_with_previews(settings, store, providers, chunk, force=force)[0]
        return fetch_metadata(settings, store, providers, chunk, force=force)

    if keys is None and show:
        keys = store.partition_keys()
    if keys is None:
        return fetch(None)
    return merge_fetch(in_steps(keys, fetch, "Fetching provider data", show=show))


def cmd_fetch(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    keys = require_keys(store, args.keys) or None
    with open_providers(settings) as providers:
        print(providers.describe())
        report = _fetch(settings, store, providers, keys, force=args.force, show=show_progress())
    print(fetch_text(report))
    return failed_exit(len(report.failures))


def cmd_enrich(args: argparse.Namespace) -> int:
    from metarr_pipeline.artwork.enrich import enrich_movies
    from metarr_pipeline.artwork.sets import enrich_collections

    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    keys = require_keys(store, args.keys) or None
    show = show_progress(args.json)
    with open_providers(settings) as providers:
        say(providers.describe(), quiet=args.json)
        fetched = _fetch(settings, store, providers, keys, force=args.refresh, show=show, previews=True)
        if not args.json:
            print(fetch_text(fetched))
        todo = keys if keys is not None or not show else store.partition_keys()
        if todo is None:
            report = enrich_movies(settings, store, providers, None)
        else:
            report = merge_enrich(in_steps(todo, lambda chunk: enrich_movies(settings, store, providers, chunk),
                                           "Enriching artwork", show=show))
        sets = enrich_collections(settings, store, providers)  # every set of the library: cached, cheap when unchanged
    if args.json:
        print_json({"fetch": {"summary": fetched.summary(), "movies": fetched.outcomes},
                    "enrich": {"summary": report.summary(), "movies": report.movies},
                    "sets": {"summary": sets.summary(), "sets": sets.sets}})
    else:
        print(enrich_text(report))
        print(sets_text(sets))
    _report_to_dagster("artwork_selection", [m.partition_key for m in report.movies if m.selection_changed],
                       "metarr enrich: selection changed", "changed selection(s)", quiet=args.json)
    return failed_exit(len(fetched.failures) + len(report.failures) + len(sets.failures))


def _report_to_dagster(asset: str, keys: list[str], description: str, what: str, *, quiet: bool = False) -> None:
    """With ``$METARR_DAGSTER_URL`` set, tell the Dagster instance which movies this command made anew (runless
    materialisations of ``asset``), so its UI agrees with ``metarr status``."""
    url = os.environ.get("METARR_DAGSTER_URL", "").strip()
    if not url or not keys:
        return
    from metarr_pipeline.review.dagster_api import DagsterClient, DagsterUnavailable

    try:
        DagsterClient(url).report_materializations(asset, keys, description)
        say(f"Reported {len(keys)} {what} to Dagster at {url}.", quiet=quiet)
    except DagsterUnavailable as exc:
        print(f"metarr: warning: the Dagster UI was not told about the {what}: {exc}", file=sys.stderr)


def cmd_publish(args: argparse.Namespace) -> int:
    from metarr_pipeline.publish.publish import publish_movies

    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    keys = require_keys(store, args.keys)
    if not keys:
        states = store.publish_state()
        wanted = {mid for mid, s in states.items() if s.enriched and (args.all or s.state != "published")}
        keys = [m.partition_key for m in store.movies(include_gone=False) if m.id in wanted and m.partition_key]
    if args.dry_run:
        from metarr_pipeline.cli.plans import print_plan
        from metarr_pipeline.publish.dry_run import plan_publish

        plans = plan_publish(settings, store, keys)
        print_json(plans) if args.json else print_plan(plans)
        return failed_exit(sum(1 for p in plans if p.error))
    show = show_progress(args.json)
    with open_providers(settings) as providers:
        report = merge_publish(in_steps(
            keys, lambda chunk: publish_movies(settings, store, providers, chunk, reclaim=not show),
            "Publishing", show=show), settings, store, reclaim=show)
    if args.json:
        print_json({"summary": report.summary(), "movies": report.movies})
    else:
        print(publish_text(report))
    _report_to_dagster("published_library_files", [m.partition_key for m in report.movies if m.status == "published"],
                       "metarr publish", "published movie(s)", quiet=args.json)
    return failed_exit(len(report.failures))


def cmd_backfill(args: argparse.Namespace) -> int:
    from metarr_pipeline.artwork.enrich import enrich_movies
    from metarr_pipeline.orchestration import stale_movies
    from metarr_pipeline.publish.publish import publish_movies

    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    stale = stale_movies(settings, store)
    print(f"Stale after the config change: {len(stale['enrich'])} to re-enrich, {len(stale['publish'])} to republish.")
    for stage, keys in stale.items():
        for key in keys:
            print(f"  {stage}: {key}")
    if args.dry_run or not (stale["enrich"] or stale["publish"]):
        return 0
    failures = 0
    with open_providers(settings) as providers:
        if stale["enrich"]:
            enriched = enrich_movies(settings, store, providers, stale["enrich"], download_originals=False)
            print(enrich_text(enriched))
            failures += len(enriched.failures)
        # Files written under another naming/format config are republished; a new selection is left for review
        # (the UI, `metarr publish`) unless auto_publish is on, as the sensors do.
        republish_set = set(stale["publish"])
        if settings.publish.auto_publish:
            movies = {m.partition_key: m.id for m in store.movies(partition_keys=stale["enrich"])}
            published = store.publish_fingerprints([i for i in movies.values() if i is not None])
            republish_set |= {k for k, i in movies.items() if i in published and k}
        republish = sorted(republish_set)
        if republish:
            report = publish_movies(settings, store, providers, republish, automatic=True)
            print(publish_text(report))
            failures += len(report.failures)
    return failed_exit(failures)
