"""The identify page's glue over :mod:`metarr_pipeline.scan.manual`, the one implementation of identification
by hand (shared with ``metarr identify``): it reads the id a person typed, and gives each of TMDB's search
candidates the poster URL the page shows (through its ``/search-poster`` thumbnailer).

Checking the id with TMDB, the new partition key, ``id_source = 'manual'`` (which every later scan keeps, even
after a rename) and forgetting what was fetched for a previous film all happen in :mod:`~metarr_pipeline.scan.manual`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from metarr_pipeline.config import Settings
from metarr_pipeline.providers.images import TMDB_IMAGE_BASE
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.scan.identify import parse_name
from metarr_pipeline.scan.manual import Candidate, IdentifyError, identify_manually, search_candidates
from metarr_pipeline.store import MovieRecord, Store

_IMDB = re.compile(r"^tt\d{5,10}$")
POSTER_SIZE = "w185"  # TMDB's rendition for a search result card


@dataclass(frozen=True)
class SearchHit:
    tmdb_id: int
    title: str
    year: int | None
    overview: str
    poster_url: str  # canonical (https://image.tmdb.org/...), '' when TMDB has no poster


def search_hits(settings: Settings, store: Store, session: ProviderSession, movie: MovieRecord, query: str,
                year: int | None) -> list[SearchHit]:
    """TMDB's candidates for a title (and year), with the poster each would bring."""
    found = search_candidates(store, settings, _target(movie), query=query, year=year, session=session)
    return [_hit(c) for c in found]


def _hit(c: Candidate) -> SearchHit:
    poster = f"{TMDB_IMAGE_BASE}/{POSTER_SIZE}{c.poster_path}" if c.poster_path.startswith("/") else ""
    return SearchHit(c.tmdb_id, c.title or c.original_title or "?", c.year, c.overview[:300], poster)


def default_query(movie: MovieRecord) -> tuple[str, int | None]:
    """What the search box starts with: the title and year parsed from the folder name."""
    parsed = parse_name(movie.folder.rstrip("/").rsplit("/", 1)[-1])
    return parsed.title, parsed.year


def identify_typed(store: Store, settings: Settings, session: ProviderSession, movie: MovieRecord,
                   given: str) -> MovieRecord:
    """Identify ``movie`` as the film ``given`` (a TMDB id, ``tmdb-603`` or an IMDb ``tt…`` id); returns the
    updated row. Raises :class:`~metarr_pipeline.scan.manual.IdentifyError` naming what was wrong."""
    text = given.strip().lower().removeprefix("tmdb-").removeprefix("tmdb:")
    if _IMDB.match(text):
        return identify_manually(store, settings, _target(movie), imdb_id=text, session=session)
    if text.isdigit() and 0 < int(text) < 10**9:
        return identify_manually(store, settings, _target(movie), tmdb_id=int(text), session=session)
    raise IdentifyError(f"'{given[:40]}' is neither a TMDB id (603) nor an IMDb id (tt0133093)")


def _target(movie: MovieRecord) -> str:
    """How :func:`~metarr_pipeline.scan.manual.find_movie` finds this very row: its key, else its folder."""
    return movie.partition_key or movie.folder
