"""The media players (Kodi, Jellyfin, Plex): test the connections, deliver the queued notifications, show the
queue."""

from __future__ import annotations

import argparse

from metarr_pipeline.config import load_settings
from metarr_pipeline.store import Store


def add_players_commands(sub: argparse._SubParsersAction) -> None:
    players = sub.add_parser("players", help="media players (Kodi, Jellyfin, Plex): test, notify, status",
                             description="The players configured under [[players]]: check that each can be reached "
                                         "and that the library roots map into it, deliver the notifications the "
                                         "publish queued, or show the queue.")
    players_sub = players.add_subparsers(dest="players_command", metavar="ACTION", required=True)
    a = players_sub.add_parser("test", help="check each player's connection, credentials and path mappings",
                               description="For every enabled player (or the ones named): connect, authenticate "
                                           "(Kodi JSONRPC.Ping, Jellyfin /System/Info, Plex /identity), and show "
                                           "which player library (Kodi source, Jellyfin library, Plex section) each "
                                           "library root maps into. Sends no notification.")
    a.add_argument("names", nargs="*", help="player names (default: every enabled player)")
    a.set_defaults(func=cmd_players_test)
    a = players_sub.add_parser("notify", help="deliver the notifications that are due",
                               description="Deliver due notifications (queued by publishing, retried after a "
                                           "failure, or deferred while Kodi was playing) to every enabled player, "
                                           "one batch per player, and record the outcome. Movies removed from "
                                           "the library are queued first.")
    a.add_argument("keys", nargs="*", help="only these movies' notifications (partition keys)")
    a.add_argument("--now", action="store_true",
                   help="deliver every undelivered notification now, even not yet due or given up on")
    a.set_defaults(func=cmd_players_notify)
    a = players_sub.add_parser("status", help="the notification queue: counts per player, undelivered ones",
                               description="Show per player how many notifications are pending, deferred, failed "
                                           "and sent, and list the undelivered ones with their reasons.")
    a.set_defaults(func=cmd_players_status)



def cmd_players_test(args: argparse.Namespace) -> int:
    from metarr_pipeline.players.check import check_players
    from metarr_pipeline.players.report import check_text

    settings = load_settings(args.config, check_roots=False)
    reports = check_players(settings, args.names)
    print(check_text(reports))
    return 0 if all(r.ok for r in reports) else 1


def cmd_players_notify(args: argparse.Namespace) -> int:
    from metarr_pipeline.players.deliver import deliver_notifications
    from metarr_pipeline.players.report import delivery_text

    settings = load_settings(args.config, check_roots=False)
    report = deliver_notifications(settings, Store(settings.database_path), args.keys or None, force=args.now)
    print(delivery_text(report))
    return 1 if report.failed else 0


def cmd_players_status(args: argparse.Namespace) -> int:
    from metarr_pipeline.players.report import queue_text

    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    print(queue_text(store.notification_counts(), store.notifications(undelivered=True, limit=200)))
    return 0
