"""Fetching provider metadata for a batch of movies: cached, concurrent, polite, failure-isolated.

Per movie: one TMDB ``/movie`` call (everything appended), one fanart.tv call, and one ``/collection``
call per distinct collection in the batch. Responses younger than the TTL are reused without a request
(unless ``force``). Work runs on a thread pool; the per-host limiters in the shared fetcher keep us within
the providers' limits however many threads there are.

Failures stay with their movie: the error is recorded, its previous metadata is kept untouched, and the
batch goes on. The one exception is a rejected key (401), which would fail every request: the batch
stops, what was fetched so far is saved, and the error says to check the key.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError, ProviderAuthError, ProviderError, ProviderNotFound
from metarr_pipeline.metadata.fields import from_tmdb
from metarr_pipeline.metadata.merge import locked_fields, merge
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import MetadataRow, MovieRecord, ProviderResponse, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchOutcome:
    partition_key: str
    status: str  # fetched | cached | failed
    error: str = ""
    changed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class FetchReport:
    outcomes: tuple[FetchOutcome, ...]
    requests: dict[str, Any]
    cache_hits: int
    seconds: float
    auth_error: str = ""

    @property
    def failures(self) -> list[FetchOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def summary(self) -> dict[str, Any]:
        return {
            "movies": len(self.outcomes),
            "fetched": sum(1 for o in self.outcomes if o.status == "fetched"),
            "cached": sum(1 for o in self.outcomes if o.status == "cached"),
            "failed": len(self.failures),
            "metadata_changed": sum(1 for o in self.outcomes if o.changed),
            "requests": self.requests.get("requests", 0),
            "retries": self.requests.get("retries", 0),
            "rate_limited": self.requests.get("rate_limited", 0),
            "cache_hits": self.cache_hits,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Work:
    movie: MovieRecord
    tmdb: ProviderResponse | None = None
    fanart: ProviderResponse | None = None
    fresh: list[ProviderResponse] = field(default_factory=list)
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    cache_hits: int = 0


def tmdb_key(tmdb_id: int, language: str) -> str:
    return f"{tmdb_id}:{language}"


def fetch_metadata(
    settings: Settings,
    store: Store,
    session: ProviderSession,
    partition_keys: Sequence[str] | None = None,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> FetchReport:
    started = time.perf_counter()
    now = now or datetime.now().replace(microsecond=0)
    lang = settings.languages.preferred
    movies = [m for m in store.movies(include_gone=False, partition_keys=partition_keys) if m.is_partition]
    ids = [m.id for m in movies if m.id is not None]
    before = session.fetcher.stats.snapshot()

    cache = store.provider_responses(
        [("tmdb_movie", tmdb_key(m.tmdb_id, lang)) for m in movies if m.tmdb_id]
        + [("fanart_movie", str(m.tmdb_id)) for m in movies if m.tmdb_id]
    )
    tmdb_ttl = timedelta(days=settings.providers.tmdb.cache_ttl_days)
    fanart_ttl = timedelta(days=settings.providers.fanart.cache_ttl_days)

    def fresh(resp: ProviderResponse | None, ttl: timedelta) -> bool:
        return resp is not None and not force and now - resp.fetched_at < ttl

    stop = threading.Event()
    fanart_off = threading.Event()
    auth_errors: list[str] = []

    def work(movie: MovieRecord) -> _Work:
        w = _Work(movie)
        assert movie.tmdb_id is not None
        if stop.is_set():
            w.error = "not fetched: the run stopped after a credentials error"
            return w
        try:
            cached = cache.get(("tmdb_movie", tmdb_key(movie.tmdb_id, lang)))
            if fresh(cached, tmdb_ttl):
                w.tmdb, w.cache_hits = cached, w.cache_hits + 1
            else:
                response = session.tmdb.movie(movie.tmdb_id)
                if response.tmdb_id != movie.tmdb_id:
                    w.warnings.append(f"TMDB id {movie.tmdb_id} now redirects to {response.tmdb_id}; "
                                      "update the NFO or folder tag")
                w.tmdb = ProviderResponse("tmdb_movie", tmdb_key(movie.tmdb_id, lang), now, 200,
                                          json.dumps(response.body, ensure_ascii=False, sort_keys=True))
                w.fresh.append(w.tmdb)
            if session.fanart is not None and not fanart_off.is_set():
                cached = cache.get(("fanart_movie", str(movie.tmdb_id)))
                if fresh(cached, fanart_ttl):
                    w.fanart, w.cache_hits = cached, w.cache_hits + 1
                else:
                    try:
                        body = session.fanart.movie(movie.tmdb_id)
                    except ProviderAuthError as exc:
                        # A bad fanart.tv key loses fanart.tv only: TMDB data and art still come in.
                        fanart_off.set()
                        w.warnings.append(f"fanart.tv rejected the key: check FANART_API_KEY [{exc}]")
                    except ProviderError as exc:  # fanart.tv failing must not lose TMDB's data
                        w.warnings.append(f"fanart.tv: {exc}")
                    else:
                        w.fanart = ProviderResponse("fanart_movie", str(movie.tmdb_id), now,
                                                    200 if body is not None else 404,
                                                    session.canonical_text(
                                                        json.dumps(body, ensure_ascii=False, sort_keys=True))
                                                    if body is not None else None)
                        w.fresh.append(w.fanart)
        except ProviderAuthError as exc:
            stop.set()
            auth_errors.append(str(exc))
            w.error = str(exc)
        except ProviderNotFound:
            w.error = (f"TMDB has no movie {movie.tmdb_id} (removed or wrong id): fix the id in the NFO or the "
                       "folder name ({tmdb-ID})")
        except MetarrError as exc:
            w.error = str(exc)
        except Exception as exc:  # one movie must never stop the batch; the log keeps the traceback
            log.exception("unexpected error fetching %s", movie.partition_key)
            w.error = f"unexpected error: {type(exc).__name__}: {session.fetcher.redact(str(exc))}"
        return w

    workers = max(1, min(len(movies), settings.providers.tmdb.max_connections))
    results: list[_Work] = []
    if movies:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            results = list(pool.map(work, movies))

    collections = _fetch_collections(results, session, store, lang, tmdb_ttl, force, now, stop, auth_errors)

    previous = store.movie_metadata(ids)
    responses: list[ProviderResponse] = [r for w in results for r in w.fresh]
    responses += [c for c in collections.values() if c is not None and c.fetched_at == now]
    rows: list[MetadataRow] = []
    outcomes: list[FetchOutcome] = []
    for w in results:
        m = w.movie
        assert m.id is not None and m.partition_key is not None
        prior = previous.get(m.id)
        if w.error or w.tmdb is None:
            error = w.error or "no TMDB data"
            rows.append(MetadataRow(
                movie_id=m.id, fields_json=prior.fields_json if prior else "{}",
                decisions_json=prior.decisions_json if prior else "{}", tmdb_id=prior.tmdb_id if prior else None,
                fetched_at=prior.fetched_at if prior else None, merged_at=prior.merged_at if prior else None,
                fetch_error=error, failed_at=now))
            outcomes.append(FetchOutcome(m.partition_key, "failed", error, warnings=tuple(w.warnings)))
            continue
        body = json.loads(w.tmdb.body or "{}")
        collection = collections.get(body.get("belongs_to_collection", {}).get("id")) \
            if body.get("belongs_to_collection") else None
        new_fields = from_tmdb(body, json.loads(collection.body) if collection and collection.body else None)
        base = prior.fields() if prior and prior.fields_json != "{}" else m.nfo().get("fields", {})
        result = merge(base, new_fields, locked_fields(m.lockdata, m.locked_fields))
        fields_json = json.dumps(result.fields, ensure_ascii=False, sort_keys=True)
        decisions_json = json.dumps(result.decisions, sort_keys=True)
        fetched_at = w.tmdb.fetched_at
        changed = tuple(result.changed) if prior is None or prior.fields_json != fields_json else ()
        unchanged = (prior is not None and prior.fields_json == fields_json and prior.fetch_error == ""
                     and prior.tmdb_id == body.get("id") and prior.fetched_at == fetched_at)
        if not unchanged:
            rows.append(MetadataRow(m.id, fields_json, decisions_json, body.get("id"), fetched_at, now, "", None))
        status = "fetched" if w.fresh else "cached"
        outcomes.append(FetchOutcome(m.partition_key, status, "", changed, tuple(w.warnings)))

    store.save_fetch(responses, rows)
    after = session.fetcher.stats.snapshot()
    requests = {k: after[k] - before[k] for k in ("requests", "retries", "failures", "rate_limited", "bytes")}
    requests["by_kind"] = {k: v - before["by_kind"].get(k, 0) for k, v in after["by_kind"].items()
                           if v - before["by_kind"].get(k, 0)}
    report = FetchReport(tuple(outcomes), requests, sum(w.cache_hits for w in results),
                         time.perf_counter() - started, auth_errors[0] if auth_errors else "")
    log.info("provider fetch: %s", report.summary())
    if auth_errors:
        raise ProviderAuthError(auth_errors[0])
    return report


def _fetch_collections(
    results: Sequence[_Work],
    session: ProviderSession,
    store: Store,
    lang: str,
    ttl: timedelta,
    force: bool,
    now: datetime,
    stop: threading.Event,
    auth_errors: list[str],
) -> dict[int, ProviderResponse | None]:
    """One ``/collection`` request per distinct set in the batch (many movies share one)."""
    wanted: set[int] = set()
    for w in results:
        if w.tmdb is not None and not w.error:
            info = json.loads(w.tmdb.body or "{}").get("belongs_to_collection") or {}
            if isinstance(info.get("id"), int):
                wanted.add(info["id"])
    if not wanted:
        return {}
    cached = store.provider_responses([("tmdb_collection", tmdb_key(c, lang)) for c in wanted])
    out: dict[int, ProviderResponse | None] = {}
    todo = []
    for cid in sorted(wanted):
        hit = cached.get(("tmdb_collection", tmdb_key(cid, lang)))
        if hit is not None and not force and now - hit.fetched_at < ttl:
            out[cid] = hit
        else:
            todo.append(cid)

    def one(cid: int) -> tuple[int, ProviderResponse | None]:
        if stop.is_set():
            return cid, None
        try:
            body = session.tmdb.collection(cid)
        except ProviderAuthError as exc:
            stop.set()
            auth_errors.append(str(exc))
            return cid, None
        except ProviderError as exc:
            log.warning("collection %s: %s", cid, exc)
            return cid, None
        if body is None:
            return cid, None
        return cid, ProviderResponse("tmdb_collection", tmdb_key(cid, lang), now, 200,
                                     json.dumps(body, ensure_ascii=False, sort_keys=True))

    if todo:
        with ThreadPoolExecutor(max_workers=min(len(todo), 8), thread_name_prefix="collection") as pool:
            for cid, resp in pool.map(one, todo):
                out[cid] = resp
    return out
