"""``metarr backups KEY`` and ``metarr restore KEY [--at N]``: the user's NFOs that publishing replaced."""

from __future__ import annotations

import argparse

from metarr_pipeline.cli.common import print_json, require_keys
from metarr_pipeline.config import load_settings
from metarr_pipeline.store import MovieRecord, Store


def add_backup_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backups", help="list the NFOs of yours that publishing backed up for a movie",
                       description="List the user's own NFOs publishing backed up (once each) before replacing "
                                   "them with metarr's, oldest first, numbered for 'metarr restore --at N'.")
    p.add_argument("key", help="partition key")
    p.add_argument("--json", action="store_true", help="print the backups as JSON")
    p.set_defaults(func=cmd_backups)

    p = sub.add_parser("restore", help="put a backed-up NFO of yours back into the movie folder",
                       description="Write a backed-up NFO back (verified, atomically) where it was, hand the file "
                                   "back to you (a later publish backs it up again and carries its state over) "
                                   "and mark the movie manual so no automatic publish replaces it.")
    p.add_argument("key", help="partition key")
    p.add_argument("--at", type=int, metavar="N", help="backup number from 'metarr backups' (default: newest)")
    p.set_defaults(func=cmd_restore)


def _movie(store: Store, key: str) -> MovieRecord:
    require_keys(store, [key])
    movie = store.movie_by_partition(key)
    assert movie is not None
    return movie


def cmd_backups(args: argparse.Namespace) -> int:
    from metarr_pipeline.publish.restore import list_backups

    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    backups = list_backups(settings, store, _movie(store, args.key))
    if args.json:
        print_json(backups)
        return 0
    if not backups:
        print(f"{args.key}: no NFO of yours was backed up (publishing backs one up before replacing it).")
        return 0
    for b in backups:
        state = "" if b.cached else "  (missing from the cache)"
        print(f"{b.number:>3}  {b.saved_at:%Y-%m-%d %H:%M:%S}  {b.path}  {b.size or 0} bytes  {b.sha256[:12]}{state}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from metarr_pipeline.publish.restore import restore_backup

    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    movie = _movie(store, args.key)
    restored = restore_backup(settings, store, movie, args.at)
    print(f"{args.key}: restored backup {restored.number} ({restored.saved_at:%Y-%m-%d %H:%M:%S}) to "
          f"'{restored.path}'; marked manual so automatic publishing leaves it ('metarr manual {args.key} off' "
          "to undo).")
    return 0
