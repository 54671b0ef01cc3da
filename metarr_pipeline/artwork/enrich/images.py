"""The enrichment's image requests and the CPU work on their bytes, on every core.

Each preview is fetched and analysed (decode, pHash), each original and headshot fetched, verified and stored
(an original's contact-sheet tile made with it).
Per image that is ~1 ms of HTTP handling in httpx and ~0.3 ms of decoding, all Python or holding the GIL, so on
threads of one process a 1,000-movie enrichment (70,000 images) ran on about one core (bench/results/). With
``[providers] image_processes`` (0: one per core) a large batch runs them on worker processes instead: each has
its own HTTP client and an equal share of every image route's limits (requests per second and connections), so
together they never exceed the limits one process had, and the enrichment makes no other image request while
they work. Small batches (tests, a single movie) and ``image_processes = 1`` stay on threads, where a process's
start-up would cost more than it saves; if worker processes cannot start (no ``/dev/shm`` on some NAS), the batch
falls back to threads with a warning.

Both ways run the same per-image functions and return the same :class:`ImageResult`: a failure is classified
(``blobs.faults``) where it happened, so only plain values cross the process boundary. The workers' request
counters are added to the session's, so the run's report counts every request.
"""

from __future__ import annotations

import collections
import logging
import math
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from metarr_pipeline.artwork.imaging import analyse_rendition
from metarr_pipeline.artwork.tiles import keep_tile
from metarr_pipeline.blobs import BlobStore, fetch_blob, fetch_blob_with_image, is_fact, is_transient
from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.providers.http import HttpFetcher
from metarr_pipeline.providers.politeness import HostPolicy, Route
from metarr_pipeline.providers.session import ProviderSession, map_image_url

log = logging.getLogger(__name__)

IMAGE_ROUTES = ("tmdb_images", "fanart_assets")
MIN_IMAGES_FOR_PROCESSES = 300  # below this a batch stays on threads: worker start-up (~1 s) would not pay


@dataclass(frozen=True)
class ImageResult:
    """What became of one image: ``value`` (the analysis facts, or the stored blob's row) or why not."""

    value: Any = None
    error: str = ""
    fact: bool = False  # the error is a fact about the image (cached for good)
    transient: bool = False  # a retry could change it

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class _World:
    """What a worker process needs to fetch images as the session would (plain, picklable values)."""

    routes: tuple[Route, ...]
    url_map: tuple[tuple[str, str], ...]
    image_hosts: tuple[str, ...]
    max_attempts: int
    backoff_seconds: float
    secrets: tuple[str, ...]
    max_bytes: int
    cache_dir: str


def analyse_one(fetcher: HttpFetcher, to_actual: Callable[[str], str], url: str, max_bytes: int, now: datetime,
                blobs: BlobStore, kind: str) -> ImageResult:
    """A candidate's small rendition: fetched, then its facts and pHash (``image_analysis`` row fields)."""
    try:
        response = fetcher.get(to_actual(url), kind=kind, provider="image host", max_bytes=max_bytes)
        facts = analyse_rendition(response.content)
    except MetarrError as exc:
        return _failed(exc)
    return ImageResult({"format": facts.format, "width": facts.width, "height": facts.height,
                        "phash": facts.phash, "bytes": len(response.content)})


def download_one(fetcher: HttpFetcher, to_actual: Callable[[str], str], url: str, max_bytes: int, now: datetime,
                 blobs: BlobStore, kind: str) -> ImageResult:
    """An image to keep (an original, a headshot): fetched, verified complete, stored; its ``blobs`` row. An
    original's contact-sheet tile is made here too (``artwork.tiles``), on the worker that has it in hand."""
    try:
        if kind != "original":
            return ImageResult(fetch_blob(fetcher, to_actual, blobs, url, kind, now, max_bytes))
        row, data, image = fetch_blob_with_image(fetcher, to_actual, blobs, url, kind, now, max_bytes)
    except MetarrError as exc:
        return _failed(exc)
    keep_tile(blobs.cache_dir, row["sha256"], data, image)
    return ImageResult(row)


_WORK = {"analyse": analyse_one, "download": download_one}


def _failed(exc: MetarrError) -> ImageResult:
    return ImageResult(error=str(exc)[:300], fact=is_fact(exc), transient=is_transient(exc))


def _on_threads(what: str, urls: list[str], kind: str, fetcher: HttpFetcher, to_actual: Callable[[str], str],
                max_bytes: int, now: datetime, blobs: BlobStore) -> dict[str, ImageResult]:
    """Every URL through ``what``: each route's URLs (``tmdb_images``, ``fanart_assets`` ...) in a lane of their
    own, on as many threads as the route has connections, all lanes at once. With one pool for every URL, a run
    of one host's URLs in a row (a movie's fanart.tv previews follow its TMDB ones) took every thread while the
    busier host's connections sat idle; in lanes, each host's connections stay busy while it has work."""
    fn = _WORK[what]
    out: dict[str, ImageResult] = {}

    def one(url: str) -> None:
        out[url] = fn(fetcher, to_actual, url, max_bytes, now, blobs, kind)

    lanes = _lanes(urls, fetcher, to_actual)
    pools = [ThreadPoolExecutor(max_workers=min(connections, len(lane)), thread_name_prefix=f"art-{name}")
             for name, (connections, lane) in lanes.items()]
    try:
        futures = [pool.submit(one, url) for pool, (_, lane) in zip(pools, lanes.values(), strict=True)
                   for url in lane]
        for future in futures:
            future.result()
    finally:
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
    return out


def _lanes(urls: list[str], fetcher: HttpFetcher, to_actual: Callable[[str], str]
           ) -> dict[str, tuple[int, list[str]]]:
    """route name → (its connections, its URLs in order). A URL whose route cannot be told (not on the
    allowlist, malformed) goes to a one-thread lane, where its request fails as it would anywhere."""
    lanes: dict[str, tuple[int, list[str]]] = {}
    for url in urls:
        try:
            route = fetcher.route_for(to_actual(url))
            name, connections = route.name, route.policy.max_connections
        except Exception:
            name, connections = "", 1
        lanes.setdefault(name, (max(1, connections), []))[1].append(url)
    return lanes


class ImageRequests:
    """The batch's image work: :meth:`analyse` and :meth:`download` on threads or on worker processes."""

    def __init__(self, settings: Settings, session: ProviderSession, blobs: BlobStore, now: datetime) -> None:
        self.settings, self.session, self.blobs, self.now = settings, session, blobs, now
        self.max_bytes = int(settings.providers.max_image_mb * 1024 * 1024)
        self.processes = _process_count(settings, session)
        self._pool: Executor | None = None
        self._lock = threading.Lock()
        self.used_processes = 0  # how many worker processes served this batch (0: threads only)

    def analyse(self, urls: Sequence[str]) -> dict[str, ImageResult]:
        return self._run("analyse", list(urls), "preview")

    def download(self, urls: Sequence[str], kind: str) -> dict[str, ImageResult]:
        return self._run("download", list(urls), kind)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

    def expect(self, images: int) -> None:
        """Start the worker processes now when the batch will fetch this many images: from then on every image
        request of the batch goes through them, small ones too (a few headshots on this process's threads
        beside the workers would exceed the hosts' limits)."""
        if images >= MIN_IMAGES_FOR_PROCESSES:
            self._processes()

    def _run(self, what: str, urls: list[str], kind: str) -> dict[str, ImageResult]:
        if not urls:
            return {}
        self.expect(len(urls))
        with self._lock:
            pool = self._pool  # started by this batch's size or by an earlier large request: serves every request
        if pool is None:
            return _on_threads(what, urls, kind, self.session.fetcher, self.session.image_url, self.max_bytes,
                               self.now, self.blobs)
        return self._on_workers(pool, what, urls, kind)

    def _on_workers(self, pool: Executor, what: str, urls: list[str], kind: str) -> dict[str, ImageResult]:
        """The URLs in chunks, a few a worker (no long tail), with at most one more chunk queued than there are
        workers: two stages asking at once (the headshots beside the originals) then take turns on the workers
        instead of one waiting for all of the other's chunks, so one's network waits overlap the other's CPU."""
        size = max(25, math.ceil(len(urls) / (self.processes * 4)))
        self.used_processes = self.processes  # they start with the first chunk (none for a batch with no work)
        out: dict[str, ImageResult] = {}
        pending: collections.deque[Future[tuple[dict[str, ImageResult], dict[str, Any]]]] = collections.deque()

        def collect() -> None:
            results, stats = pending.popleft().result()
            out.update(results)
            self.session.fetcher.stats.merge(stats)

        for i in range(0, len(urls), size):
            pending.append(pool.submit(_work_chunk, what, urls[i:i + size], kind, self.now))
            if len(pending) > self.processes:
                collect()
        while pending:
            collect()
        return out

    def _processes(self) -> Executor | None:
        """The worker pool, started on first use; None when this batch stays on threads."""
        if self.processes <= 1:
            return None
        with self._lock:
            if self._pool is None:
                try:
                    self._pool = ProcessPoolExecutor(
                        max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                        initializer=_start_worker, initargs=(self._world(),))
                except (OSError, ImportError, NotImplementedError) as exc:  # no semaphores, no /dev/shm ...
                    log.warning("image worker processes unavailable (%s): image work stays on threads", exc)
                    self.processes = 1
                    return None
            return self._pool

    def _world(self) -> _World:
        fetcher = self.session.fetcher
        share = self.processes
        routes = tuple(replace(r, policy=HostPolicy(r.policy.requests_per_second / share,
                                                    max(1, r.policy.max_connections // share),
                                                    r.policy.timeout_seconds))
                       for name, r in fetcher.routes.items() if name in IMAGE_ROUTES)
        return _World(routes, tuple(self.session.url_map.items()), tuple(self.session.image_hosts),
                      fetcher.max_attempts, fetcher.backoff_seconds, tuple(fetcher.secrets), self.max_bytes,
                      str(self.settings.cache_dir))


def _process_count(settings: Settings, session: ProviderSession) -> int:
    """Worker processes for a large batch: the setting (0: one per core), never more than any image route has
    connections (each worker needs one of its own), and none when the session's HTTP is not real (a test's
    in-memory transport cannot cross a process boundary)."""
    wanted = settings.providers.image_processes or (os.cpu_count() or 1)
    fetcher = session.fetcher
    if fetcher.transport is not None:
        return 1
    connections = [r.policy.max_connections for name, r in fetcher.routes.items() if name in IMAGE_ROUTES]
    return max(1, min([wanted, *connections]))


# -- inside a worker process -------------------------------------------------------------------------------------

_state: dict[str, Any] = {}


def _start_worker(world: _World) -> None:
    mapping = dict(world.url_map)
    _state.update(world=world, blobs=BlobStore(world.cache_dir),
                  fetcher=HttpFetcher(world.routes, max_attempts=world.max_attempts,
                                      backoff_seconds=world.backoff_seconds, secrets=world.secrets),
                  to_actual=lambda url: map_image_url(url, mapping, world.image_hosts))


def _work_chunk(what: str, urls: list[str], kind: str, now: datetime
                ) -> tuple[dict[str, ImageResult], dict[str, Any]]:
    """One chunk on this worker's threads; its results and the requests it made (added to the session's)."""
    world: _World = _state["world"]
    fetcher: HttpFetcher = _state["fetcher"]
    before = fetcher.stats.snapshot()
    out = _on_threads(what, urls, kind, fetcher, _state["to_actual"], world.max_bytes, now, _state["blobs"])
    return out, fetcher.stats.delta(before)
