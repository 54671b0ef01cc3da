"""Steering by hand: mark a movie manual, review and steer its artwork selection."""

from __future__ import annotations

import argparse

from metarr_pipeline.art_types import ART_TYPE_NAMES
from metarr_pipeline.cli.common import UsageError, print_json, require_keys
from metarr_pipeline.config import load_settings
from metarr_pipeline.report import art_filtered, art_text
from metarr_pipeline.store import Store

_TYPE_HELP = "artwork type: " + ", ".join(ART_TYPE_NAMES)


def _art_type(value: str) -> str:
    """An artwork type by name; anything else is a usage error (exit 2) naming the known ones."""
    if value not in ART_TYPE_NAMES:
        raise argparse.ArgumentTypeError(f"unknown artwork type '{value}' (known: {', '.join(ART_TYPE_NAMES)})")
    return value


def add_review_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("manual", help="mark a movie as published by hand only (auto-publish skips it)",
                       description="Mark or unmark a movie as manual: auto-publish and scheduled runs never "
                                   "publish a manual movie; publishing it explicitly still works.")
    p.add_argument("key", help="partition key")
    p.add_argument("state", choices=("on", "off"))
    p.set_defaults(func=cmd_manual)
    _add_art_commands(sub)


def _add_art_commands(sub: argparse._SubParsersAction) -> None:
    art = sub.add_parser("art", help="review and steer a movie's artwork: list, pick, reject, lock, unlock",
                         description="Review the artwork candidates of a movie and steer the selection. A pick "
                                     "locks its type; run 'metarr enrich KEY' afterwards to apply.")
    art_sub = art.add_subparsers(dest="art_command", metavar="ACTION", required=True)
    a = art_sub.add_parser("list", help="candidates with score parts, selection and gates",
                           description="List a movie's candidates, best first per type, with score parts.")
    a.add_argument("key", help="partition key")
    a.add_argument("--type", dest="kind", type=_art_type, help="only this " + _TYPE_HELP)
    a.add_argument("--all", action="store_true", help="every candidate, not just the top 5 per type")
    a.add_argument("--json", action="store_true", help="print the candidates as JSON")
    a.set_defaults(func=cmd_art_list)
    for action, text in (("pick", "select this candidate first and lock its type"),
                         ("reject", "never select this candidate")):
        a = art_sub.add_parser(action, help=text, description=text.capitalize() + ".")
        a.add_argument("key", help="partition key")
        a.add_argument("kind", metavar="type", type=_art_type, help=_TYPE_HELP)
        a.add_argument("candidate", help="candidate id (see 'metarr art list')")
        a.set_defaults(func=cmd_art_choice, action=action)
    for action, text in (("lock", "freeze the type's current selection"),
                         ("unlock", "let the type be selected automatically again (forgets picks)")):
        a = art_sub.add_parser(action, help=text, description=text.capitalize() + ".")
        a.add_argument("key", help="partition key")
        a.add_argument("kind", metavar="type", type=_art_type, help=_TYPE_HELP)
        a.set_defaults(func=cmd_art_choice, action=action, candidate=None)



def cmd_manual(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, check_roots=False)
    if not Store(settings.database_path).set_manual(args.key, args.state == "on"):
        raise UsageError(f"no movie with partition key '{args.key}': see 'metarr status' for the keys")
    print(f"{args.key}: manual {args.state}")
    return 0


def cmd_art_list(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    require_keys(store, [args.key])
    movie = store.movie_by_partition(args.key)
    assert movie is not None and movie.id is not None
    frame = store.artwork_candidates([movie.id])
    if args.json:
        print_json(art_filtered(frame, kind=args.kind, everything=args.all).to_dicts())
        return 0
    print(art_text(frame, kind=args.kind, everything=args.all))
    return 0


def cmd_art_choice(args: argparse.Namespace) -> int:
    from metarr_pipeline.artwork.choices import record

    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    require_keys(store, [args.key])
    record(store, args.key, args.kind, args.candidate, args.action)
    what = f"{args.kind} {args.candidate}" if args.candidate else args.kind
    print(f"{args.action}: {args.key} {what}. Run 'metarr enrich {args.key}' to apply.")
    return 0
