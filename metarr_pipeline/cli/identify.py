"""``metarr identify``: name the film a folder holds by hand, or list TMDB's candidates to choose from."""

from __future__ import annotations

import argparse

from metarr_pipeline.config import load_settings
from metarr_pipeline.scan.manual import identify_manually, search_candidates
from metarr_pipeline.store import Store


def add_identify_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "identify", help="identify a movie by hand (--tmdb/--imdb), or list TMDB's candidates",
        description="Without an id: list what TMDB's search offers for the folder (its title and year, or "
                    "--query/--year), to choose from. With --tmdb ID or --imdb tt...: identify the folder as "
                    "that film. The choice is kept across rescans and renames, ahead of NFO ids and name tags; "
                    "publishing writes it into the NFO.")
    p.add_argument("target", metavar="KEY|FOLDER", help="partition key, folder path, or folder name")
    ids = p.add_mutually_exclusive_group()
    ids.add_argument("--tmdb", type=int, metavar="ID", help="the film's TMDB id")
    ids.add_argument("--imdb", metavar="TT", help="the film's IMDb id (tt0133093)")
    p.add_argument("--query", help="search for this title instead of the folder's")
    p.add_argument("--year", type=int, help="search for this year instead of the folder's")
    p.set_defaults(func=cmd_identify)


def cmd_identify(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, check_roots=False)
    store = Store(settings.database_path)
    if args.tmdb is None and args.imdb is None:
        candidates = search_candidates(store, settings, args.target, query=args.query, year=args.year)
        if not candidates:
            print(f"{args.target}: TMDB's search offers nothing; try --query TITLE (and --year)")
            return 1
        print(f"{args.target}: {len(candidates)} candidate(s); choose with "
              f"metarr identify '{args.target}' --tmdb ID")
        for c in candidates:
            print(f"  {c.label()}" + (f"  poster {c.poster_path}" if c.poster_path else ""))
        return 0
    movie = identify_manually(store, settings, args.target, tmdb_id=args.tmdb, imdb_id=args.imdb)
    print(f"{movie.folder}: identified by hand as tmdb {movie.tmdb_id} '{movie.title}' ({movie.year or '?'}), "
          f"partition {movie.partition_key}; next: metarr enrich {movie.partition_key}")
    return 0
