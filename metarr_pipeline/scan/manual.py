"""Identification by hand: the user names the film (a TMDB or IMDb id), or picks it from the search's candidates.

The ladder of :mod:`.identify` refuses to guess (a wrong film is worse than none), so some folders stay
unidentified, and a few are identified as the wrong film. These two functions are the way out, shared by
``metarr identify`` and the review page:

- :func:`search_candidates`: what TMDB's search offers for a movie folder (title, year, poster path), to choose
  from;
- :func:`identify_manually`: records the choice, checked against TMDB, on the movie (``id_source = 'manual'``).

The choice is kept like an NFO id would be: the scan puts it ahead of every rung of the ladder on every rescan,
a moved or renamed folder keeps its movie row and so its choice, and publishing writes it into the NFO. When the
TMDB id changes, what was fetched and chosen for the old film is forgotten (see ``Store.set_identity``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.providers.session import ProviderSession, open_providers
from metarr_pipeline.providers.tmdb import year_of
from metarr_pipeline.scan.identify import parse_name, partition_key
from metarr_pipeline.store import MovieRecord, Store

MAX_CANDIDATES = 10


class IdentifyError(MetarrError):
    """A manual identification names no known movie folder, or a film TMDB does not know."""


@dataclass(frozen=True)
class Candidate:
    """One film the search offers: enough for a person to recognise it."""

    tmdb_id: int
    title: str
    original_title: str
    year: int | None
    poster_path: str  # TMDB-relative ("/abc.jpg"); "" when TMDB has no poster
    overview: str

    def label(self) -> str:
        original = f" [{self.original_title}]" if self.original_title and self.original_title != self.title else ""
        return f"{self.title}{original} ({self.year or '?'}) tmdb-{self.tmdb_id}"


def find_movie(store: Store, folder_or_key: str) -> MovieRecord:
    """The movie a person means: a partition key, a folder path, or a folder name when only one has it."""
    movies = store.movies()
    for m in movies:
        if m.partition_key == folder_or_key:
            return m
    path = Path(folder_or_key).expanduser()
    wanted = {folder_or_key, str(path.absolute())}
    if path.exists():
        wanted.add(str(path.resolve()))
    found = [m for m in movies if m.folder in wanted or m.folder.rstrip("/") in wanted]
    if not found:
        found = [m for m in movies if Path(m.folder).name == path.name]
    if len(found) == 1:
        return found[0]
    if found:
        raise IdentifyError(f"'{folder_or_key}' names {len(found)} movie folders; give the full path: "
                            + "; ".join(m.folder for m in found[:5]))
    raise IdentifyError(f"no movie folder or partition key '{folder_or_key}' in the state database "
                        "(run 'metarr scan' first)")


@contextmanager
def _providers(settings: Settings, session: ProviderSession | None) -> Iterator[ProviderSession]:
    if session is not None:
        yield session
        return
    with open_providers(settings) as opened:
        yield opened


def search_candidates(store: Store, settings: Settings, folder_or_key: str, *, query: str | None = None,
                      year: int | None = None, session: ProviderSession | None = None) -> list[Candidate]:
    """TMDB's search for the movie's title and year (or ``query``/``year``), best first; without the year when
    the year finds nothing (release years differ by country)."""
    movie = find_movie(store, folder_or_key)
    parsed = parse_name(Path(movie.folder).name)
    title = query or parsed.title or movie.title
    year = year if year is not None else (None if query else (parsed.year or movie.year))
    if not title.strip():
        raise IdentifyError(f"{movie.folder}: no title to search for; give one with a query")
    with _providers(settings, session) as providers:
        results = providers.tmdb.search_results(title, year)
        if not results and year:
            results = providers.tmdb.search_results(title, None)
    return [_candidate(r) for r in results if isinstance(r.get("id"), int)][:MAX_CANDIDATES]


def _candidate(result: dict[str, Any]) -> Candidate:
    def text(key: str) -> str:
        value = result.get(key)
        return value if isinstance(value, str) else ""

    return Candidate(int(result["id"]), text("title"), text("original_title"), year_of(result),
                     text("poster_path"), text("overview"))


def identify_manually(store: Store, settings: Settings, folder_or_key: str, *, tmdb_id: int | None = None,
                      imdb_id: str | None = None, session: ProviderSession | None = None) -> MovieRecord:
    """Identify the movie as the film TMDB knows under ``tmdb_id`` (or ``imdb_id``); returns the updated row.

    The id is checked with TMDB first (a merged id becomes the id TMDB redirects to), and the movie's title and
    year become TMDB's, so a new partition key reads well.
    """
    if (tmdb_id is None) == (imdb_id is None):
        raise IdentifyError("give exactly one of a TMDB id or an IMDb id")
    movie = find_movie(store, folder_or_key)
    if movie.id is None or movie.status == "invalid":
        raise IdentifyError(f"{movie.folder} is not a movie folder metarr can use: {movie.reason or 'invalid'}")
    if movie.gone_at is not None:
        raise IdentifyError(f"{movie.folder} is gone from the library")
    imdb = imdb_id.strip().lower() if imdb_id else None
    if imdb is not None and not (imdb.startswith("tt") and imdb[2:].isdigit()):
        raise IdentifyError(f"'{imdb_id}' is not an IMDb id (like tt0133093)")
    with _providers(settings, session) as providers:
        if imdb is not None:
            tmdb_id = providers.tmdb.find_by_imdb(imdb)
            if tmdb_id is None:
                raise IdentifyError(f"TMDB knows no movie with IMDb id {imdb}")
        assert tmdb_id is not None
        summary = providers.tmdb.summary(tmdb_id)
    if summary is None:
        raise IdentifyError(f"TMDB knows no movie with id {tmdb_id}")
    final = int(summary["id"])
    title = summary.get("title") if isinstance(summary.get("title"), str) else movie.title
    year = year_of(summary) or movie.year
    key = movie.partition_key
    if key is None or movie.tmdb_id != final:
        taken = {m.partition_key for m in store.movies() if m.partition_key and m.id != movie.id}
        key = partition_key(title or movie.title, year, final, taken)
    tmdb_imdb = summary.get("imdb_id") if isinstance(summary.get("imdb_id"), str) else None
    updated = replace(movie, status="identified", reason="", tmdb_id=final, id_source="manual",
                      imdb_id=imdb or tmdb_imdb or (movie.imdb_id if movie.tmdb_id == final else None),
                      title=title or movie.title, year=year, partition_key=key)
    store.set_identity(updated)
    return updated
