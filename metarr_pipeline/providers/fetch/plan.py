"""Stage 1, plan: which movies the batch covers, and which of their answers the cache still holds.

Deciding this up front, from one read of the response cache, keeps the fetch stage about HTTP only and
makes "what would this run request?" a question with an answer before anything goes on the wire.
Collections are planned later (:func:`plan_collections`): only the movies' answers say which sets exist.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from metarr_pipeline.config import Settings
from metarr_pipeline.store import MovieRecord, ProviderResponse, Store


def tmdb_key(tmdb_id: int, language: str) -> str:
    """The cache key of a TMDB answer: the same id in another language is another answer."""
    return f"{tmdb_id}:{language}"


def is_fresh(response: ProviderResponse | None, ttl: timedelta, *, now: datetime, force: bool) -> bool:
    """A cached answer is reused while younger than its TTL, unless the run forces a refetch."""
    return response is not None and not force and now - response.fetched_at < ttl


@dataclass(frozen=True)
class PlannedMovie:
    """One movie and the cached answers still young enough to reuse (``None``: ask the provider)."""

    movie: MovieRecord
    tmdb_cached: ProviderResponse | None = None
    fanart_cached: ProviderResponse | None = None

    @property
    def requests(self) -> tuple[str, ...]:
        """The requests this movie needs (fanart.tv only if the session has a fanart.tv client)."""
        return tuple(kind for kind, hit in (("tmdb_movie", self.tmdb_cached), ("fanart_movie", self.fanart_cached))
                     if hit is None)


@dataclass(frozen=True)
class FetchPlan:
    movies: tuple[PlannedMovie, ...]
    language: str
    now: datetime
    force: bool
    collection_ttl: timedelta
    workers: int  # threads for the movie requests; the per-host limiters bound the real rate

    @property
    def movie_ids(self) -> list[int]:
        return [p.movie.id for p in self.movies if p.movie.id is not None]

    def fresh(self, response: ProviderResponse | None, ttl: timedelta) -> bool:
        return is_fresh(response, ttl, now=self.now, force=self.force)


def plan_fetch(
    settings: Settings,
    store: Store,
    partition_keys: Sequence[str] | None = None,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> FetchPlan:
    """The batch's movies (identified, on disk) with their reusable cached answers; reads the store once."""
    now = now or datetime.now()
    lang = settings.languages.preferred
    movies = [m for m in store.movies(include_gone=False, partition_keys=partition_keys) if m.is_partition]
    cache = store.provider_responses(
        [("tmdb_movie", tmdb_key(m.tmdb_id, lang)) for m in movies if m.tmdb_id]
        + [("fanart_movie", str(m.tmdb_id)) for m in movies if m.tmdb_id]
    )
    tmdb_ttl = timedelta(days=settings.providers.tmdb.cache_ttl_days)
    fanart_ttl = timedelta(days=settings.providers.fanart.cache_ttl_days)

    def reusable(response: ProviderResponse | None, ttl: timedelta) -> ProviderResponse | None:
        return response if is_fresh(response, ttl, now=now, force=force) else None

    planned = []
    for m in movies:
        assert m.tmdb_id is not None
        planned.append(PlannedMovie(m, reusable(cache.get(("tmdb_movie", tmdb_key(m.tmdb_id, lang))), tmdb_ttl),
                                    reusable(cache.get(("fanart_movie", str(m.tmdb_id))), fanart_ttl)))
    workers = max(1, min(len(movies), settings.providers.tmdb.max_connections))
    return FetchPlan(tuple(planned), lang, now, force, tmdb_ttl, workers)


def plan_collections(
    plan: FetchPlan, store: Store, collection_ids: Collection[int]
) -> tuple[dict[int, ProviderResponse], list[int]]:
    """The sets the movies belong to: those the cache answers, and those to request (sorted)."""
    if not collection_ids:
        return {}, []
    cached = store.provider_responses([("tmdb_collection", tmdb_key(c, plan.language)) for c in collection_ids])
    hits: dict[int, ProviderResponse] = {}
    todo: list[int] = []
    for cid in sorted(collection_ids):
        hit = cached.get(("tmdb_collection", tmdb_key(cid, plan.language)))
        if hit is not None and plan.fresh(hit, plan.collection_ttl):
            hits[cid] = hit
        else:
            todo.append(cid)
    return hits, todo
