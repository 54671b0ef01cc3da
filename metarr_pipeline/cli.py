"""``metarr``: the command line, a thin wrapper over the library.

Every command loads the settings (``--config`` / ``$METARR_CONFIG`` / the bundled demo config), calls one
library function and prints its report. Errors are turned into one readable line here, and only here;
the exit status is 2 for a usage or configuration problem, 1 for a failed operation.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.errors import ConfigError, MetarrError
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.report import art_text, enrich_text, fetch_text, publish_text, scan_text, status_table
from metarr_pipeline.scan.scan import ScanReport, scan_library
from metarr_pipeline.store import Store


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metarr",
        description="Keep a movie library's metadata and artwork rich, correct and safe for Kodi, Jellyfin "
                    "and Plex. Without --config, $METARR_CONFIG or the bundled demo config is used.",
    )
    parser.add_argument("--config", help="settings file (TOML); default: $METARR_CONFIG or the demo config")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("scan", help="find, identify and probe the movies in the library roots",
                       description="Scan the library roots: find movie folders, identify each film, probe its "
                                   "streams (unchanged files are not re-probed). Writes only the state database.")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("status", help="a table of every movie: identity, state and streams",
                       description="Show every movie the state database knows, with its identity, state and "
                                   "a summary of its streams. Reads only.")
    p.add_argument("--problems", action="store_true", help="only movies that need attention")
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
    p.set_defaults(func=cmd_enrich)

    p = sub.add_parser("publish", help="write NFO, artwork and .actors/ into the movie folders",
                       description="Publish enriched movies (the given partition keys, or every movie that is "
                                   "unpublished or outdated): write the NFO, rank-named artwork and .actors/ "
                                   "atomically, skip files whose bytes are already right, and remove only files "
                                   "metarr wrote before that are no longer selected.")
    p.add_argument("keys", nargs="*", help="partition keys (default: every unpublished or outdated movie)")
    p.add_argument("--all", action="store_true", help="republish every enriched movie, not only outdated ones")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("backfill", help="re-run exactly the movies a config change made stale",
                       description="Compare each movie's stored config fingerprints with the current config and "
                                   "re-enrich exactly the stale ones (republishing published movies only with "
                                   "auto_publish on; files written under another naming config always). A "
                                   "scoring-only change re-scores from stored data with zero provider requests: "
                                   "new winners' originals are downloaded when the movie is published.")
    p.add_argument("--dry-run", action="store_true", help="only list the stale movies")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("manual", help="mark a movie as published by hand only (auto-publish skips it)",
                       description="Mark or unmark a movie as manual: auto-publish and scheduled runs never "
                                   "publish a manual movie; publishing it explicitly still works.")
    p.add_argument("key", help="partition key")
    p.add_argument("state", choices=("on", "off"))
    p.set_defaults(func=cmd_manual)

    art = sub.add_parser("art", help="review and steer a movie's artwork: list, pick, reject, lock, unlock",
                         description="Review the artwork candidates of a movie and steer the selection. A pick "
                                     "locks its type; run 'metarr enrich KEY' afterwards to apply.")
    art_sub = art.add_subparsers(dest="art_command", metavar="ACTION", required=True)
    a = art_sub.add_parser("list", help="candidates with score parts, selection and gates",
                           description="List a movie's candidates, best first per type, with score parts.")
    a.add_argument("key", help="partition key")
    a.add_argument("--type", dest="kind", help="only this artwork type")
    a.add_argument("--all", action="store_true", help="every candidate, not just the top 5 per type")
    a.set_defaults(func=cmd_art_list)
    for action, text in (("pick", "select this candidate first and lock its type"),
                         ("reject", "never select this candidate")):
        a = art_sub.add_parser(action, help=text, description=text.capitalize() + ".")
        a.add_argument("key", help="partition key")
        a.add_argument("kind", metavar="type", help="artwork type (poster, fanart, ...)")
        a.add_argument("candidate", help="candidate id (see 'metarr art list')")
        a.set_defaults(func=cmd_art_choice, action=action)
    for action, text in (("lock", "freeze the type's current selection"),
                         ("unlock", "let the type be selected automatically again (forgets picks)")):
        a = art_sub.add_parser(action, help=text, description=text.capitalize() + ".")
        a.add_argument("key", help="partition key")
        a.add_argument("kind", metavar="type", help="artwork type (poster, fanart, ...)")
        a.set_defaults(func=cmd_art_choice, action=action, candidate=None)

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
    return parser


def _scan(settings: Settings) -> ScanReport:
    with open_providers(settings) as providers:
        print(providers.describe())
        return scan_library(settings, Store(settings.database_path), resolver=providers.tmdb)


def cmd_scan(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    print(scan_text(_scan(settings)))
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, check_roots=False)
    with open_providers(settings) as providers:
        print(providers.describe())
        report = fetch_metadata(settings, Store(settings.database_path), providers, args.keys or None,
                                force=args.force)
    print(fetch_text(report))
    return 1 if report.outcomes and len(report.failures) == len(report.outcomes) else 0


def cmd_enrich(args: argparse.Namespace) -> int:
    from metarr_pipeline.artwork.enrich import enrich_movies

    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    with open_providers(settings) as providers:
        print(providers.describe())
        fetched = fetch_metadata(settings, store, providers, args.keys or None, force=args.refresh)
        print(fetch_text(fetched))
        report = enrich_movies(settings, store, providers, args.keys or None)
    print(enrich_text(report))
    return 1 if report.movies and len(report.failures) == len(report.movies) else 0


def cmd_publish(args: argparse.Namespace) -> int:
    from metarr_pipeline.publish.publish import publish_movies

    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    keys = args.keys or None
    if keys is None:
        states = store.publish_state()
        wanted = {mid for mid, s in states.items() if s["enriched"] and (args.all or s["state"] != "published")}
        keys = [m.partition_key for m in store.movies(include_gone=False) if m.id in wanted and m.partition_key]
    with open_providers(settings) as providers:
        report = publish_movies(settings, store, providers, keys)
    print(publish_text(report))
    return 1 if report.movies and len(report.failures) == len(report.movies) else 0


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
    with open_providers(settings) as providers:
        if stale["enrich"]:
            print(enrich_text(enrich_movies(settings, store, providers, stale["enrich"], download_originals=False)))
        # Files written under another naming/format config are republished; a new selection is left for review
        # (the UI, `metarr publish`) unless auto_publish is on, as the sensors do.
        republish_set = set(stale["publish"])
        if settings.publish.auto_publish:
            movies = {m.partition_key: m.id for m in store.movies(partition_keys=stale["enrich"])}
            published = store.publish_fingerprints([i for i in movies.values() if i is not None])
            republish_set |= {k for k, i in movies.items() if i in published and k}
        republish = sorted(republish_set)
        if republish:
            print(publish_text(publish_movies(settings, store, providers, republish, automatic=True)))
    return 0


def cmd_manual(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, check_roots=False)
    if not Store(settings.database_path).set_manual(args.key, args.state == "on"):
        raise MetarrError(f"no movie with partition key '{args.key}'")
    print(f"{args.key}: manual {args.state}")
    return 0


def cmd_art_list(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    movie = store.movie_by_partition(args.key)
    if movie is None or movie.id is None:
        raise MetarrError(f"no movie with partition key '{args.key}'")
    print(art_text(store.artwork_candidates([movie.id]), kind=args.kind, everything=args.all))
    return 0


def cmd_art_choice(args: argparse.Namespace) -> int:
    from metarr_pipeline.artwork.choices import record

    settings = load_settings(args.config, check_roots=False)
    record(Store(settings.database_path), args.key, args.kind, args.candidate, args.action)
    what = f"{args.kind} {args.candidate}" if args.candidate else args.kind
    print(f"{args.action}: {args.key} {what}. Run 'metarr enrich {args.key}' to apply.")
    return 0


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


def cmd_simulator(args: argparse.Namespace) -> int:
    from metarr_pipeline.simulator import run_cli

    return int(run_cli(args.args) or 0)


def cmd_status(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    movies = store.movies()
    if args.problems:
        movies = [m for m in movies if m.status != "identified" or m.probe_error or m.warnings]
    if not movies:
        print("No movies known yet: run 'metarr scan'." if not args.problems else "No problems.")
        return 0
    from metarr_pipeline.orchestration import stale_movies

    stale = stale_movies(settings, store)
    print(status_table(movies, store.streams(), store.publish_state(), stale))
    counts: dict[str, int] = {}
    for m in movies:
        state = "gone" if m.gone_at else m.status
        counts[state] = counts.get(state, 0) + 1
    print("\n" + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from metarr_pipeline.demo.library import generate_demo_library

    settings = load_settings(args.config, check_roots=False)
    if not settings.library.roots:
        raise ConfigError(f"{settings.config_path}: library.roots is empty: the demo needs a folder to fill")
    root = settings.library.roots[0]
    folders = generate_demo_library(root, force=args.force)
    print(f"Demo library: {root} ({len(folders)} movie folders)")
    settings = load_settings(args.config)
    print(scan_text(_scan(settings)))
    print()
    from metarr_pipeline.artwork.enrich import enrich_movies

    with open_providers(settings) as providers:
        report = fetch_metadata(settings, Store(settings.database_path), providers)
        print(fetch_text(report))
        enriched = enrich_movies(settings, Store(settings.database_path), providers)
        print(enrich_text(enriched))
        from metarr_pipeline.publish.publish import publish_movies

        published = publish_movies(settings, Store(settings.database_path), providers)
    print(publish_text(published))
    print()
    store = Store(settings.database_path)
    print(status_table(store.movies(), store.streams()))
    print(f"\nState database: {settings.database_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulator"]:  # its options belong to the simulator's own parser
        from metarr_pipeline.simulator import run_cli

        return int(run_cli(argv[1:]) or 0)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
