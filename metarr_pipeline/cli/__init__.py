"""``metarr``: the command line, a thin wrapper over the library.

Every command loads the settings (``--config`` / ``$METARR_CONFIG`` / the bundled demo config), calls one
library function and prints its report. Errors are turned into one readable line here, and only here;
the exit status is 2 for a usage or configuration problem, 1 for a failed operation.

Modules, in reading order (each adds its group of subcommands to the parser and holds their handlers):

- ``pipeline``: scan, status, fetch, enrich, publish, backfill.
- ``identify``: identify (a movie by hand, or TMDB's candidates for it).
- ``review``: manual, and art (list, pick, reject, lock, unlock).
- ``players``: players (test, notify, status).
- ``tools``: simulator, demo.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from metarr_pipeline.cli.identify import add_identify_commands
from metarr_pipeline.cli.pipeline import add_pipeline_commands
from metarr_pipeline.cli.players import add_players_commands
from metarr_pipeline.cli.review import add_review_commands
from metarr_pipeline.cli.tools import add_tool_commands, run_simulator
from metarr_pipeline.errors import ConfigError, MetarrError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metarr",
        description="Keep a movie library's metadata and artwork rich, correct and safe for Kodi, Jellyfin "
                    "and Plex. Without --config, $METARR_CONFIG or the bundled demo config is used.",
    )
    parser.add_argument("--config", help="settings file (TOML); default: $METARR_CONFIG or the demo config")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_pipeline_commands(sub)
    add_identify_commands(sub)
    add_review_commands(sub)
    add_players_commands(sub)
    add_tool_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulator"]:  # its options belong to the simulator's own parser
        return run_simulator(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"metarr: configuration error: {exc}", file=sys.stderr)
        return 2
    except MetarrError as exc:
        print(f"metarr: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("metarr: interrupted", file=sys.stderr)
        return 130
