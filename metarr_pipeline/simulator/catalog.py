"""The simulator's catalog: every movie, person, collection and image the fake providers know.

Deterministic and generated on demand: ``Catalog(seed).movie(id)`` is the same entry in every process,
for every positive id below 10,000,000, except removed and redirected ids. The hand-written films of the
demo library (``known_ids()``) have their real titles, years and IMDb ids; the rest are generated
(``generate``), with the variety rules of ``variety`` (no fanart.tv entry 15 %, no TMDB images ~3 %, no
credits ~3 %, large hostile casts ~5 %, collections 20 %, removed ids ``id % 997 == 0``, redirects
9000001 → 603 ...). Entries say which rules hit them in ``MovieEntry.traits``.

Searching covers the hand-written films and the generated ids ``1 .. 50,000`` (``SEARCH_CORPUS``):
each word of the query, accents and case ignored, must be a word of the title, original title, a
translated title (hand-written films) or an alternative title. "Heat" finds 949 (1995) and 11379 (1986);
"Untitled Home Video" finds nothing.

Planted near-duplicates (``artwork``) are listed by :meth:`Catalog.planted_duplicates`.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import replace
from functools import lru_cache
from typing import Any

from metarr_pipeline.simulator.artwork import (
    COLLECTION_NS,
    COLLECTION_SLOTS,
    IMAGES_PER_MOVIE,
    MOVIE_NS,
    PERSON_NS,
    collection_fanart,
    collection_images,
    parse_token,
)
from metarr_pipeline.simulator.entries import CollectionEntry, ImageEntry, MovieEntry, Person, Translation
from metarr_pipeline.simulator.generate import IMDB_BASE, alternative_titles, brief, generated_movie, known_movie
from metarr_pipeline.simulator.known import KNOWN_COLLECTIONS, KNOWN_MOVIES
from metarr_pipeline.simulator.people import person
from metarr_pipeline.simulator.variety import (
    COLLECTION_BASE,
    MAX_MOVIE_ID,
    REDIRECTS,
    collection_candidates,
    generated_traits,
    is_removed,
)

SEARCH_CORPUS = range(1, 50_001)

_KNOWN = {spec.id: spec for spec in KNOWN_MOVIES}
_KNOWN_COLLECTIONS = {spec.id: spec for spec in KNOWN_COLLECTIONS}
_KNOWN_IMDB = {spec.imdb_id: spec.id for spec in KNOWN_MOVIES}
_APOSTROPHES = re.compile(r"['’`]")
_WORDS = re.compile(r"\w+")


def words(text: str, *, split_apostrophes: bool = False) -> set[str]:
    """Lower-case, accent-free words: "Schindler's List" → {"schindlers", "list"} (or with the apostrophe
    as a separator {"schindler", "s", "list"}; titles are indexed both ways, queries use the first)."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    folded = _APOSTROPHES.sub(" " if split_apostrophes else "", folded)
    return set(_WORDS.findall(folded))


@lru_cache(maxsize=65536)
def _one_title_words(title: str) -> frozenset[str]:
    return frozenset(words(title) | words(title, split_apostrophes=True))


def _title_words(*titles: str) -> frozenset[str]:
    """Generated titles repeat (a few thousand combinations), hence the cache."""
    found: frozenset[str] = frozenset()
    for title in titles:
        found |= _one_title_words(title)
    return found


class Catalog:
    """Lookups over the generated catalog; thread-safe. Entries are immutable, so the last ``cache_size``
    (about 50 kB each) are kept."""

    def __init__(self, seed: int = 0, *, cache_size: int = 1024) -> None:
        self.seed = seed
        self._movie = lru_cache(maxsize=cache_size)(self._build_movie)
        self._collection = lru_cache(maxsize=1024)(self._build_collection)
        self._index: dict[str, set[int]] | None = None
        self._index_lock = threading.Lock()
        self._edits: dict[int, dict[str, Any]] = {}
        self.revision = 0  # bumped by every edit: answers cached by the API hosts key on it

    @staticmethod
    def known_ids() -> tuple[int, ...]:
        """The hand-written movies (the demo library's films, their collections' other parts, Heat 1986)."""
        return tuple(spec.id for spec in KNOWN_MOVIES)

    # -- movies -------------------------------------------------------------------------------------------
    def movie(self, tmdb_id: int) -> MovieEntry | None:
        """The movie, or None for ids TMDB would 404 (removed, out of range) or redirect (see ``redirect``)."""
        if tmdb_id not in _KNOWN and (not 0 < tmdb_id < MAX_MOVIE_ID or is_removed(tmdb_id) or tmdb_id in REDIRECTS):
            return None
        entry = self._movie(tmdb_id)
        edits = self._edits.get(tmdb_id)
        return replace(entry, **edits) if edits else entry

    def edit_movie(self, tmdb_id: int, **changes: Any) -> MovieEntry:
        """The provider's data for this movie changes (a title corrected upstream, a new tagline ...): every
        later answer shows it, as a refresh against the real TMDB would. ``changes`` are ``MovieEntry`` fields;
        a new ``title`` is also the English translation's, which is what TMDB answers for ``language=en``."""
        entry = self.movie(tmdb_id)
        if entry is None:
            raise KeyError(f"the simulated TMDB has no movie {tmdb_id} to edit")
        edits = {**self._edits.get(tmdb_id, {}), **changes}
        if "title" in changes and "translations" not in changes:
            edits["translations"] = tuple(replace(t, title=changes["title"]) if t.language == "en" else t
                                          for t in entry.translations)
        replace(entry, **edits)  # an unknown field fails here, before anything changed
        self._edits[tmdb_id] = edits
        self.revision += 1
        return self.movie(tmdb_id)  # type: ignore[return-value]

    def _build_movie(self, tmdb_id: int) -> MovieEntry:
        spec = _KNOWN.get(tmdb_id)
        return known_movie(self.seed, spec) if spec else generated_movie(self.seed, tmdb_id)

    @staticmethod
    def is_removed(tmdb_id: int) -> bool:
        return tmdb_id not in _KNOWN and (is_removed(tmdb_id) or not 0 < tmdb_id < MAX_MOVIE_ID)

    @staticmethod
    def redirect(tmdb_id: int) -> int | None:
        """The id a merged entry now lives at (TMDB answers 301), or None."""
        return REDIRECTS.get(tmdb_id)

    def person(self, person_id: int) -> Person | None:
        return person(self.seed, person_id)

    # -- collections --------------------------------------------------------------------------------------
    def collection(self, collection_id: int) -> CollectionEntry | None:
        return self._collection(collection_id)

    def _build_collection(self, collection_id: int) -> CollectionEntry | None:
        spec = _KNOWN_COLLECTIONS.get(collection_id)
        if spec:
            translations = tuple(Translation(lang, name, overview) for lang, name, overview in spec.translations)
            images = collection_images(self.seed, collection_id, spec.name)
            return CollectionEntry(spec.id, spec.name, spec.overview, spec.parts, images,
                                   collection_fanart(self.seed, collection_id, spec.name, images), translations)
        if collection_id < COLLECTION_BASE:
            return None
        parts = tuple(i for i in collection_candidates(collection_id)
                      if i not in _KNOWN and "collection" in generated_traits(i) and self.movie(i) is not None)
        if not parts:
            return None
        first = brief(self.seed, parts[0]).title
        name = f"The {first} Collection"
        images = collection_images(self.seed, collection_id, name)
        return CollectionEntry(collection_id, name, f"Every film that followed {first}.", parts, images,
                               collection_fanart(self.seed, collection_id, name, images))

    # -- identification -----------------------------------------------------------------------------------
    def search(self, query: str, year: int | None = None) -> list[int]:
        """Ids whose titles hold every word of ``query``, most popular first (see the module doc)."""
        wanted = words(query)
        if not wanted:
            return []
        found = set(self._corpus_index_lookup(wanted))
        for spec in KNOWN_MOVIES:
            titles = (spec.title, spec.original_title, *(title for _, title, _ in spec.translations),
                      *(title for _, title in spec.alternative_titles))  # TMDB's search matches these too
            if wanted <= _title_words(*titles):
                found.add(spec.id)
        results = []
        for movie_id in found:
            release, popularity = self._release_and_popularity(movie_id)
            if year is None or release[:4] == str(year):
                results.append((-popularity, movie_id))
        return [movie_id for _, movie_id in sorted(results)]

    def _release_and_popularity(self, movie_id: int) -> tuple[str, float]:
        if movie_id in _KNOWN:
            spec = _KNOWN[movie_id]
            return spec.release_date, spec.popularity
        b = brief(self.seed, movie_id)
        return b.release_date, b.popularity

    def _corpus_index_lookup(self, wanted: set[str]) -> set[int]:
        index = self._corpus_index()
        sets = [index.get(word, set()) for word in wanted]
        return set.intersection(*sets) if sets else set()

    def _corpus_index(self) -> dict[str, set[int]]:
        """word → generated ids; built once, on the first search (about half a second)."""
        with self._index_lock:
            if self._index is None:
                index: dict[str, set[int]] = {}
                for movie_id in SEARCH_CORPUS:
                    if movie_id in _KNOWN or movie_id in REDIRECTS or is_removed(movie_id):
                        continue
                    b = brief(self.seed, movie_id)
                    titles = (b.title,) if b.original_title == b.title else (b.title, b.original_title)
                    titles += tuple(title for _, title in alternative_titles(self.seed, movie_id))
                    for word in _title_words(*titles):
                        index.setdefault(word, set()).add(movie_id)
                self._index = index
            return self._index

    def find_imdb(self, imdb_id: str) -> int | None:
        """The movie with this IMDb id, or None."""
        if imdb_id in _KNOWN_IMDB:
            return _KNOWN_IMDB[imdb_id]
        match = re.fullmatch(r"tt(\d{8})", imdb_id)
        if not match or not IMDB_BASE < int(match.group(1)) < IMDB_BASE + MAX_MOVIE_ID:
            return None
        movie = self.movie(int(match.group(1)) - IMDB_BASE)
        return movie.id if movie is not None and movie.imdb_id == imdb_id else None

    # -- images -------------------------------------------------------------------------------------------
    def tmdb_image(self, file_name: str) -> ImageEntry | None:
        """The TMDB image (movie artwork, profile or collection picture) a CDN file name stands for."""
        stem, _, _ = file_name.partition(".")
        parsed = parse_token(stem)
        if parsed is None:
            return None
        namespace, number = parsed
        candidates: tuple[ImageEntry, ...] = ()
        if namespace == MOVIE_NS:
            movie = self.movie(number // IMAGES_PER_MOVIE)
            candidates = movie.images if movie else ()
        elif namespace == PERSON_NS:
            found = self.person(number)
            candidates = (found.profile,) if found and found.profile else ()
        elif namespace == COLLECTION_NS:
            collection = self.collection(number // COLLECTION_SLOTS)
            candidates = collection.images if collection else ()
        path = "/" + file_name
        return next((image for image in candidates if image.path == path), None)

    def fanart_image(self, movie_id: int, kind: str, name: str) -> ImageEntry | None:
        """A fanart.tv image by its URL path: a movie's, or a collection's (fanart.tv files both under
        ``/movies/{id}``; the names differ, so an exact path finds the one it is)."""
        movie = self.movie(movie_id)
        collection = self.fanart_collection(movie_id)
        path = f"/fanart/movies/{movie_id}/{kind}/{name}"
        images = (*(movie.fanart or () if movie else ()), *(collection.fanart if collection else ()))
        return next((image for image in images if image.path == path), None)

    def fanart_collection(self, collection_id: int) -> CollectionEntry | None:
        """The collection fanart.tv's ``/v3/movies/{id}`` answers for: a hand-written collection's id, or a
        generated one (above every movie id). fanart.tv takes a TMDB collection id there (Kodi's TMDB scraper asks
        ``movies/{set id}`` for set art); a hand-written collection's id thus shadows the generated movie with the
        same number on fanart.tv only."""
        if collection_id in _KNOWN_COLLECTIONS or collection_id >= COLLECTION_BASE:
            return self.collection(collection_id)
        return None

    def planted_duplicates(self, tmdb_id: int, fanart_assets_host: str | None = None) -> list[tuple[str, str, str]]:
        """``(duplicate, original, variant)`` for every planted near-duplicate of the movie.

        TMDB images are named by their ``file_path`` ("/Ab3...xyz.jpg"); fanart.tv images by their URL path
        ("/fanart/movies/603/movieposter/the-matrix-5a1b2c3d4e5f6.jpg"), or by their full URL when
        ``fanart_assets_host`` ("127.0.0.1:PORT") is given. Variant: reencode | resize | crossprovider.
        The pairs are facts about pictures, not a ranking: a dedup stage may keep either side.
        """
        movie = self.movie(tmdb_id)
        if movie is None:
            return []
        images = (*movie.images, *(movie.fanart or ()))
        originals = {image.picture_id: image for image in images if image.variant == "original"}

        def name(image: ImageEntry) -> str:
            if image.provider == "fanart" and fanart_assets_host:
                return f"http://{fanart_assets_host}{image.path}"
            return image.path

        return [(name(image), name(originals[image.picture_id]), image.variant)
                for image in images if image.variant != "original"]
