"""``metarr``: the command line, a thin wrapper over the library.

Every command loads the settings (``--config`` / ``$METARR_CONFIG`` / the bundled demo config), calls one
library function and prints its report. Errors are turned into one readable line here, and only here.
Exit codes, for scripts (the README lists them too): 0 done; 1 something failed (any movie, a player, the
state database, a provider key); 2 a usage or configuration problem (an unknown option, movie key or artwork
type, an invalid setting); 130 interrupted; 141 stdout was closed early (``metarr scan | head``: the rest of
the output is dropped quietly, no traceback).

Modules, in reading order (each adds its group of subcommands to the parser and holds their handlers):

- ``common``: usage errors, movie keys checked, JSON output, progress bars; ``merge``: stepped reports joined.
- ``pipeline``: scan, status, fetch, enrich, publish (``plans``: its ``--dry-run``), backfill.
- ``identify``: identify (a movie by hand, or TMDB's candidates for it).
- ``review``: manual, and art (list, pick, reject, lock, unlock).
- ``backups``: backups, restore (the user's NFOs publishing replaced).
- ``players``: players (test, notify, status).
- ``tools``: simulator, demo.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from metarr_pipeline.cli.backups import add_backup_commands
from metarr_pipeline.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PIPE, EXIT_USAGE, UsageError
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
    add_backup_commands(sub)
    add_players_commands(sub)
    add_tool_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    simulator_at = _simulator_position(argv)
    if simulator_at is not None:  # its options belong to the simulator's own parser
        return run_simulator(argv[simulator_at + 1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows up here, inside the handler below
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except (ConfigError, UsageError) as exc:
        prefix = "configuration error: " if isinstance(exc, ConfigError) else ""
        print(f"metarr: {prefix}{exc}", file=sys.stderr)
        return EXIT_USAGE
    except MetarrError as exc:
        print(f"metarr: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("metarr: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _simulator_position(argv: list[str]) -> int | None:
    """Where ``simulator`` stands, if it is the command: after the global options (``--config F``, ``-v``)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--config":
            i += 2
        elif arg.startswith("--config=") or arg in ("-v", "--verbose"):
            i += 1
        else:
            return i if arg == "simulator" else None
    return None


def _stdout_closed() -> int:
    """The reader went away (``| head``): drop the rest of the output quietly, as a Unix tool does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
    return EXIT_PIPE
