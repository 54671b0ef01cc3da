"""Previews analysed while the metadata is still coming in, so the image hosts work during the API fetch.

A cold enrichment asks the API hosts first (a TMDB and a fanart.tv call per movie: ~17 s per 500 movies at
TMDB's 40 requests a second) and the image hosts after (~23,000 previews per 500 movies, ~25 s on their
connections): the image hosts sat idle through the whole fetch, the API hosts through the whole analysis
(bench/results/2026-11-30-postgres-session22-hosts.md: busy connections by host, from the simulator's request
log). A movie's previews are known as soon as its answers are in, so :func:`fetch_with_previews` hands each new
answer to a :class:`PreviewPrefetch`, which analyses the previews not analysed before on the image hosts (the
enrichment's own :class:`.images.ImageRequests`: same limits, same worker processes) while the API requests go on,
and stores their facts in ``image_analysis`` when the fetch is done. What is still queued then is left to the
enrichment: it finds the analysed movies' previews cached and fetches their originals (CPU-bound) while it
analyses the rest (bound by the image hosts), see ``run._split``.

Only what the analysis stage would cache is stored: facts (a decoded rendition, a 404, a format we do not read).
A failure a retry could change is left alone; the enrichment tries that preview again and, if it fails again,
records it on the movie as its fault, as it always did. An answer from the response cache is not prefetched (a
warm run asks the image hosts nothing): its previews were analysed when it was first enriched, and if it never
was, the enrichment does it. The prefetch is an optimisation only: if it fails, the fetch still succeeds (a
warning says why) and the enrichment analyses what is missing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import polars as pl

from metarr_pipeline.artwork.candidates import provider_candidates
from metarr_pipeline.artwork.enrich.analyse import analysis_row, cached_analysis
from metarr_pipeline.artwork.enrich.images import ImageRequests
from metarr_pipeline.artwork.enrich.persist import ANALYSIS_ROWS
from metarr_pipeline.blobs import BlobStore
from metarr_pipeline.config import Settings
from metarr_pipeline.providers.fetch import FetchReport, MovieFetch, fetch_metadata
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import Store

log = logging.getLogger(__name__)

FLUSH = 500  # the fewest previews a prefetch thread takes from the queue (~12 movies) while the fetch goes on;
#             a fetch of fewer movies leaves them all to the enrichment (nothing worth overlapping)
MOST = 3000  # the most it takes: what is in flight when the fetch ends, and the fetch then waits for (~5 s)
THREADS = 2  # image requests in flight at once: one's tail overlaps the other's start


@dataclass(frozen=True)
class PrefetchReport:
    previews_analysed: int = 0  # previews whose facts were stored ahead of the enrichment
    previews_left: int = 0  # failures a retry could change: the enrichment tries them again
    previews_queued: int = 0  # still queued when the fetch ended: the enrichment analyses them
    bytes_downloaded: int = 0
    seconds_waited: float = 0.0  # how long the fetch waited for the prefetch after its own requests
    error: str = ""  # why the prefetch stopped early (the enrichment analyses the rest)

    def summary(self) -> dict[str, Any]:
        return {"previews_analysed": self.previews_analysed,
                "previews_left_for_enrichment": self.previews_left + self.previews_queued,
                "bytes_downloaded": self.bytes_downloaded,
                "seconds_waiting_for_previews": round(self.seconds_waited, 2)}


def fetch_with_previews(
    settings: Settings,
    store: Store,
    session: ProviderSession,
    partition_keys: Sequence[str] | None = None,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> tuple[FetchReport, PrefetchReport]:
    """:func:`~metarr_pipeline.providers.fetch.fetch_metadata`, with the new answers' previews analysed beside it."""
    prefetch = PreviewPrefetch(settings, store, session, now or datetime.now())
    try:
        report = fetch_metadata(settings, store, session, partition_keys, force=force, now=now,
                                on_answers=prefetch.add)
    finally:
        prefetched = prefetch.close()
    # the run's domain time includes the wait for the previews (what the step spent, not Dagster's overhead)
    return replace(report, seconds=report.seconds + prefetched.seconds_waited), prefetched


class PreviewPrefetch:
    """Collects the previews of each new answer (from the fetch's threads) and analyses them on two threads of its
    own. Each takes what is queued when it is free (at least :data:`FLUSH`, at most :data:`MOST`): a few hundred
    while the fetch keeps up with them, thousands once the queue has grown, which the image requests then split
    into the large chunks that keep each host's connections busy (fixed small batches left a quarter idle)."""

    def __init__(self, settings: Settings, store: Store, session: ProviderSession, now: datetime) -> None:
        self.store, self.now = store, now
        self.enabled = settings.artwork.enabled
        self.images = ImageRequests(settings, session, BlobStore(settings.cache_dir), now)
        self._ready = threading.Condition()
        self._closing = False
        self._seen: set[str] = set()
        self._pending: list[str] = []
        self._rows: list[dict[str, Any]] = []
        self._counts = {"left": 0, "bytes": 0, "queued": 0}
        self._error = ""
        self._threads = [threading.Thread(target=self._consume, name=f"prefetch-{i}", daemon=True)
                         for i in range(THREADS)]
        for thread in self._threads:
            thread.start()

    def add(self, fetched: MovieFetch) -> None:
        """A movie's new answers: their previews join the queue. Never raises (it runs on a fetch thread)."""
        try:
            urls = self._previews(fetched)
        except Exception as exc:  # a body the enrichment will report on; the prefetch only skips it
            log.debug("prefetch: no previews from %s's answers: %s", fetched.movie.partition_key, exc)
            return
        with self._ready:
            fresh = [u for u in dict.fromkeys(urls) if u not in self._seen]
            self._seen.update(fresh)
            self._pending += fresh
            if len(self._pending) >= FLUSH:
                self._ready.notify()

    def close(self) -> PrefetchReport:
        """The fetch is done: wait for the previews being analysed, store their facts, and leave the ones still
        queued to the enrichment, which analyses them beside the originals of the movies whose previews are done
        (``run``): waiting here for the whole queue kept the CPUs half idle while the image hosts worked."""
        started = time.perf_counter()
        with self._ready:
            self._closing = True
            self._counts["queued"] = len(self._pending)
            self._pending = []
            self._ready.notify_all()
        for thread in self._threads:
            thread.join()
        self.images.close()
        stored = 0
        if self._rows:
            try:
                self.store.save_image_analysis(pl.DataFrame(self._rows, schema=ANALYSIS_ROWS, orient="row"))
                stored = len(self._rows)
            except Exception as exc:  # an optimisation: the enrichment analyses them again
                self._error = self._error or f"{type(exc).__name__}: {exc}"
        if self._error:
            log.warning("previews analysed ahead of the enrichment: stopped early (%s); the enrichment analyses "
                        "the rest", self._redacted(self._error))
        return PrefetchReport(stored, self._counts["left"], self._counts["queued"], self._counts["bytes"],
                              time.perf_counter() - started, self._redacted(self._error))

    def _redacted(self, text: str) -> str:
        return self.images.session.fetcher.redact(text)[:300]

    def _previews(self, fetched: MovieFetch) -> list[str]:
        movie_id = fetched.movie.id
        if movie_id is None or fetched.tmdb is None or not fetched.tmdb.body:
            return []
        fanart = json.loads(fetched.fanart.body) if fetched.fanart is not None and fetched.fanart.body else None
        rows = provider_candidates(movie_id, json.loads(fetched.tmdb.body), fanart, self.enabled)
        return [r["preview_url"] for r in rows]

    def _consume(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: len(self._pending) >= FLUSH or self._closing)
                if self._closing:
                    return
                urls, self._pending = self._pending[:MOST], self._pending[MOST:]
            if self._error:
                continue  # stopped: the enrichment analyses these
            try:
                self._analyse(urls)
            except Exception as exc:  # an optimisation: never an error of the fetch
                with self._ready:
                    self._error = self._error or f"{type(exc).__name__}: {exc}"

    def _analyse(self, urls: list[str]) -> None:
        known = cached_analysis(self.store, urls)
        todo = [u for u in urls if u not in known]
        self.images.expect(len(todo))  # a large fetch's worker processes start with its first large batch
        rows, left, size = [], 0, 0
        for url, result in self.images.analyse(todo).items():
            if not result.ok and not result.fact:
                left += 1
                continue
            rows.append(analysis_row(url, result, self.now))
            size += (result.value or {}).get("bytes", 0)
        with self._ready:
            self._rows += rows
            self._counts["left"] += left
            self._counts["bytes"] += size
