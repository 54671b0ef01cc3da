"""Identifying a movie by hand: TMDB's search candidates to choose from, or an id typed in.

``identify_manually`` is a thin, store-level version of manual identification (the scan's identification
ladder has no manual rung yet): it checks the id with TMDB, gives the movie its partition key and marks it
``id_source = 'manual'`` so later scans keep it while its folder stays where it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.providers.images import tmdb_image_base
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.scan.identify import parse_name, partition_key
from metarr_pipeline.store import MovieRecord, Store

_IMDB = re.compile(r"^tt\d{5,10}$")


class IdentifyError(MetarrError):
    """The id typed in is not a TMDB or IMDb id, or TMDB does not know it."""


@dataclass(frozen=True)
class SearchHit:
    tmdb_id: int
    title: str
    year: int | None
    overview: str
    poster_url: str  # canonical (https://image.tmdb.org/...), '' when TMDB has no poster


def search_hits(settings: Settings, store: Store, session: ProviderSession, query: str,
                year: int | None) -> list[SearchHit]:
    """TMDB's candidates for a title (and year), with the poster each would bring."""
    base = tmdb_image_base(store, session, settings, datetime.now())
    hits = []
    for r in session.tmdb.search_results(query, year)[:12]:
        date = str(r.get("release_date") or "")
        poster = str(r.get("poster_path") or "")
        hits.append(SearchHit(int(r["id"]), str(r.get("title") or r.get("original_title") or "?"),
                              int(date[:4]) if date[:4].isdigit() else None, str(r.get("overview") or "")[:300],
                              f"{base}/w185{poster}" if poster.startswith("/") else ""))
    return hits


def default_query(movie: MovieRecord) -> tuple[str, int | None]:
    """What the search box starts with: the title and year parsed from the folder name."""
    parsed = parse_name(movie.folder.rstrip("/").rsplit("/", 1)[-1])
    return parsed.title, parsed.year


def identify_manually(store: Store, session: ProviderSession, movie: MovieRecord, given: str) -> str:
    """Identify ``movie`` as the film ``given`` (a TMDB id, ``tmdb-603`` or an IMDb ``tt…`` id); returns its
    new partition key. Raises :class:`IdentifyError` naming what was wrong."""
    text = given.strip().lower().removeprefix("tmdb-").removeprefix("tmdb:")
    imdb_id = ""
    if _IMDB.match(text):
        imdb_id = text
        found = session.tmdb.find_by_imdb(text)
        if found is None:
            raise IdentifyError(f"TMDB knows no single movie with IMDb id {text}")
        tmdb_id = found
    elif text.isdigit() and 0 < int(text) < 10**9:
        tmdb_id = int(text)
    else:
        raise IdentifyError(f"'{given[:40]}' is neither a TMDB id (603) nor an IMDb id (tt0133093)")
    body = session.tmdb.movie(tmdb_id).body
    title = str(body.get("title") or body.get("original_title") or f"tmdb {tmdb_id}")
    date = str(body.get("release_date") or "")
    year = int(date[:4]) if date[:4].isdigit() else None
    imdb_id = imdb_id or str(body.get("imdb_id") or "")
    taken = [k for k in store.partition_keys() if k != movie.partition_key]
    key = partition_key(title, year, int(body.get("id") or tmdb_id), taken)
    assert movie.id is not None
    store.set_identity(movie.id, tmdb_id=int(body.get("id") or tmdb_id), imdb_id=imdb_id, title=title, year=year,
                       partition_key=key)
    return key
