"""Stage 2, fetch: the planned requests, concurrently, through the session's polite HTTP layer.

Per movie: one TMDB ``/movie`` call (everything appended) and one fanart.tv call; then one ``/collection``
call per distinct collection in the batch (many movies share one). Work runs on a thread pool; the
per-host limiters in the shared fetcher keep us within the providers' limits however many threads there are.

Failures stay with their movie: its error is recorded and the batch goes on. fanart.tv failing loses
fanart.tv only (TMDB's data still comes in); a rejected fanart.tv key turns fanart.tv off for the rest of
the batch. A rejected TMDB key (401) would fail every request, so the batch stops asking and the error is
kept for the caller to raise once what was fetched so far is saved. Nothing here writes to the store.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from metarr_pipeline.errors import MetarrError, ProviderAuthError, ProviderError, ProviderNotFound
from metarr_pipeline.providers.fetch.plan import FetchPlan, PlannedMovie, plan_collections, tmdb_key
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import MovieRecord, ProviderResponse, Store

log = logging.getLogger(__name__)

STOPPED = "not fetched: the run stopped after a credentials error"


@dataclass
class MovieFetch:
    """What one movie got: its TMDB and fanart.tv answers (cached or new), or why not."""

    movie: MovieRecord
    tmdb: ProviderResponse | None = None
    fanart: ProviderResponse | None = None
    fresh: list[ProviderResponse] = field(default_factory=list)  # answers new in this run, to be saved
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    cache_hits: int = 0

    def collection_id(self) -> int | None:
        if self.tmdb is None or self.error:
            return None
        info = json.loads(self.tmdb.body or "{}").get("belongs_to_collection") or {}
        return info["id"] if isinstance(info.get("id"), int) else None


@dataclass
class Fetched:
    movies: list[MovieFetch]
    collections: dict[int, ProviderResponse | None]  # None: the set could not be fetched
    auth_errors: list[str]
    now: datetime
    language: str = "en"  # the language the movies were asked in (the trailer's language ladder starts there)

    @property
    def cache_hits(self) -> int:
        return sum(m.cache_hits for m in self.movies)

    def new_responses(self) -> list[ProviderResponse]:
        """Every answer received in this run (the cache's hits are already stored)."""
        out = [r for m in self.movies for r in m.fresh]
        return out + [c for c in self.collections.values() if c is not None and c.fetched_at == self.now]


def fetch_planned(plan: FetchPlan, session: ProviderSession, store: Store,
                  on_answers: Callable[[MovieFetch], None] | None = None) -> Fetched:
    """Run the plan's requests; the store is only read (the collections' cache). ``on_answers`` is given each
    movie that got a new answer as soon as it has both, on the fetch's threads (``artwork.enrich.prefetch``
    starts on its previews while the other movies' requests go on); it must not raise."""
    batch = _Batch(plan, session)
    movies: list[MovieFetch] = []

    def movie(planned: PlannedMovie) -> MovieFetch:
        fetched = batch.movie(planned)
        if on_answers is not None and fetched.fresh and not fetched.error:
            on_answers(fetched)
        return fetched

    if plan.movies:
        with ThreadPoolExecutor(max_workers=plan.workers, thread_name_prefix="fetch") as pool:
            movies = list(pool.map(movie, plan.movies))
    wanted = {cid for m in movies if (cid := m.collection_id()) is not None}
    collections: dict[int, ProviderResponse | None] = {}
    hits, todo = plan_collections(plan, store, wanted)
    collections.update(hits)
    if todo:
        with ThreadPoolExecutor(max_workers=min(len(todo), 8), thread_name_prefix="collection") as pool:
            collections.update(zip(todo, pool.map(batch.collection, todo), strict=True))
    return Fetched(movies, collections, batch.auth_errors, plan.now, plan.language)


class _Batch:
    """What the worker threads of one batch share: the stop signal after a rejected key, fanart.tv off."""

    def __init__(self, plan: FetchPlan, session: ProviderSession) -> None:
        self.plan, self.session = plan, session
        self.stop = threading.Event()
        self.fanart_off = threading.Event()
        self.auth_errors: list[str] = []

    def _rejected(self, exc: ProviderAuthError) -> str:
        self.stop.set()
        self.auth_errors.append(str(exc))
        return str(exc)

    def movie(self, planned: PlannedMovie) -> MovieFetch:
        w = MovieFetch(planned.movie)
        if self.stop.is_set():
            w.error = STOPPED
            return w
        try:
            self._tmdb(planned, w)
            if self.session.fanart is not None and not self.fanart_off.is_set():
                self._fanart(planned, w)
        except ProviderAuthError as exc:
            w.error = self._rejected(exc)
        except ProviderNotFound:
            w.error = (f"TMDB has no movie {planned.movie.tmdb_id} (removed or wrong id): fix the id in the NFO or "
                       "the folder name ({tmdb-ID})")
        except MetarrError as exc:
            w.error = str(exc)
        except Exception as exc:  # one movie must never stop the batch; the log keeps the traceback
            log.exception("unexpected error fetching %s", planned.movie.partition_key)
            w.error = f"unexpected error: {type(exc).__name__}: {self.session.fetcher.redact(str(exc))}"
        return w

    def _tmdb(self, planned: PlannedMovie, w: MovieFetch) -> None:
        if planned.tmdb_cached is not None:
            w.tmdb, w.cache_hits = planned.tmdb_cached, w.cache_hits + 1
            return
        tmdb_id = planned.movie.tmdb_id
        assert tmdb_id is not None
        response = self.session.tmdb.movie(tmdb_id)
        if response.tmdb_id != tmdb_id:
            w.warnings.append(f"TMDB id {tmdb_id} now redirects to {response.tmdb_id}; update the NFO or folder tag")
        w.tmdb = ProviderResponse("tmdb_movie", tmdb_key(tmdb_id, self.plan.language), self.plan.now, 200,
                                  _json(response.body))
        w.fresh.append(w.tmdb)

    def _fanart(self, planned: PlannedMovie, w: MovieFetch) -> None:
        if planned.fanart_cached is not None:
            w.fanart, w.cache_hits = planned.fanart_cached, w.cache_hits + 1
            return
        assert self.session.fanart is not None and planned.movie.tmdb_id is not None
        try:
            body = self.session.fanart.movie(planned.movie.tmdb_id)
        except ProviderAuthError as exc:
            # A bad fanart.tv key loses fanart.tv only: TMDB data and art still come in.
            self.fanart_off.set()
            w.warnings.append(f"fanart.tv rejected the key: check FANART_API_KEY [{exc}]")
            return
        except ProviderError as exc:  # fanart.tv failing must not lose TMDB's data
            w.warnings.append(f"fanart.tv: {exc}")
            return
        text = self.session.canonical_text(_json(body)) if body is not None else None
        w.fanart = ProviderResponse("fanart_movie", str(planned.movie.tmdb_id), self.plan.now,
                                    200 if body is not None else 404, text)
        w.fresh.append(w.fanart)

    def collection(self, cid: int) -> ProviderResponse | None:
        if self.stop.is_set():
            return None
        try:
            body = self.session.tmdb.collection(cid)
        except ProviderAuthError as exc:
            self._rejected(exc)
            return None
        except ProviderError as exc:
            log.warning("collection %s: %s", cid, exc)
            return None
        if body is None:
            return None
        return ProviderResponse("tmdb_collection", tmdb_key(cid, self.plan.language), self.plan.now, 200, _json(body))


def _json(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, sort_keys=True)

