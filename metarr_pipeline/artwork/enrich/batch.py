"""The one object every enrichment stage reads and adds to, and the few helpers the stages share.

A stage is a function ``stage(batch) -> None``: it reads the fields earlier stages filled in and fills in
its own (grouped below by the stage that writes them), so the runner is a list of calls and each stage can
be run and tested on its own after the ones before it. Nothing here talks to a provider.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from metarr_pipeline.artwork.actors import Actor
from metarr_pipeline.artwork.enrich.images import ImageRequests
from metarr_pipeline.artwork.enrich.report import EnrichReport, MovieEnrichment
from metarr_pipeline.artwork.selection import UserChoices
from metarr_pipeline.blobs import BlobStore
from metarr_pipeline.config import Settings
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import BlobRow, MovieRecord, Store

COUNTERS = ("candidates", "previews_analysed", "previews_cached", "originals_downloaded", "originals_reused",
            "originals_deferred", "headshots_downloaded", "headshots_reused", "bytes_downloaded")
_REQUEST_COUNTS = ("requests", "retries", "failures", "bytes")


@dataclass
class Batch:
    """One enrichment run: its inputs, then what each stage found, in stage order."""

    settings: Settings
    store: Store
    session: ProviderSession
    movies: list[MovieRecord]
    now: datetime
    download_originals: bool = True
    blobs: BlobStore = field(init=False)
    images: ImageRequests = field(init=False)  # the image requests of every stage: threads or worker processes
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    lock: threading.Lock = field(default_factory=threading.Lock)  # counters and lists filled from threads
    started: float = field(default_factory=time.perf_counter)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # stage → its wall time (see :meth:`timed`)
    requests_before: dict[str, Any] = field(init=False)
    # collect_candidates
    image_base: str = ""
    failed_movies: dict[int, str] = field(default_factory=dict)  # movie → why it cannot be enriched
    cast: dict[int, list[Actor]] = field(default_factory=dict)  # movie → actors, in billing order
    candidates: pl.DataFrame = field(default_factory=pl.DataFrame)  # then joined with the analysis
    # analyse_renditions
    fresh_analysis: list[dict[str, Any]] = field(default_factory=list)  # image_analysis rows new this run
    # score_and_select
    ranked: pl.DataFrame = field(default_factory=pl.DataFrame)
    choices: UserChoices = field(default_factory=UserChoices)
    previous_blobs: dict[tuple[int, str], tuple[str, str]] = field(default_factory=dict)  # (movie, cand.) → (sha, ext)
    blob_info: dict[str, BlobRow] = field(default_factory=dict)  # sha → blobs row
    selected: pl.DataFrame = field(default_factory=pl.DataFrame)
    # fetch_originals
    failed_originals: dict[tuple[int, str, str], str] = field(default_factory=dict)  # (movie, type, cand.) → why
    transient_originals: set[str] = field(default_factory=set)  # urls whose failure a retry could change
    winner_blobs: dict[str, tuple[str, str]] = field(default_factory=dict)  # url → (sha, ext)
    original_blobs: list[dict[str, Any]] = field(default_factory=list)  # blobs rows downloaded this run
    # cache_headshots
    people: dict[int, dict[str, Any]] = field(default_factory=dict)  # person → people row (+ "_changed")
    headshot_blobs: list[dict[str, Any]] = field(default_factory=list)
    # every stage: movie → the transient failures that touched it (analysis, originals, headshots); such a
    # movie keeps its last good result (persist) and is tried again next run
    faults: dict[int, list[str]] = field(default_factory=dict)
    # persist_changes
    results: list[MovieEnrichment] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.blobs = BlobStore(self.settings.cache_dir)
        self.images = ImageRequests(self.settings, self.session, self.blobs, self.now)
        self.requests_before = self.session.fetcher.stats.snapshot()

    @property
    def ids(self) -> list[int]:
        return [m.id for m in self.movies if m.id is not None]

    def bump(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counters[name] += n

    def fault(self, movie_ids: Sequence[int], reason: str) -> None:
        """Record a transient failure (a retry could change it) on the movies it touched."""
        with self.lock:
            for movie_id in movie_ids:
                reasons = self.faults.setdefault(movie_id, [])
                if reason not in reasons:
                    reasons.append(reason)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Record the stage's wall time: the report says where a run's time went (a stage run beside another,
        the headshots, overlaps it; ``wait`` stages are the time spent waiting for one)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            with self.lock:
                self.stage_seconds[stage] = round(time.perf_counter() - t0, 3)

    def part(self, movie_ids: set[int]) -> Batch:
        """These movies of a collected batch, as a batch of their own for the stages from the analysis to the
        originals (``run``: one part's originals beside the other part's analysis). A part shares what the stages
        add up or must see across the whole batch (counters, faults, the image requests, new analyses, the
        originals fetched so far: a URL two parts chose is downloaded once); :meth:`absorb` takes the rest back."""
        part = Batch(self.settings, self.store, self.session, [m for m in self.movies if m.id in movie_ids],
                     self.now, self.download_originals, counters=self.counters, lock=self.lock)
        part.blobs, part.images, part.image_base = self.blobs, self.images, self.image_base
        part.failed_movies, part.faults, part.fresh_analysis = self.failed_movies, self.faults, self.fresh_analysis
        part.failed_originals, part.transient_originals = self.failed_originals, self.transient_originals
        part.winner_blobs, part.original_blobs = self.winner_blobs, self.original_blobs
        part.candidates = self.candidates.filter(pl.col("movie_id").is_in(sorted(movie_ids)))
        part.cast = {m: a for m, a in self.cast.items() if m in movie_ids}
        return part

    def absorb(self, parts: Sequence[Batch]) -> None:
        """The parts' own results (ranked and selected candidates, previous blobs, user choices) as this batch's."""
        self.candidates = pl.concat([p.candidates for p in parts], how="diagonal_relaxed")
        self.ranked = pl.concat([p.ranked for p in parts], how="diagonal_relaxed")
        self.selected = pl.concat([p.selected for p in parts], how="diagonal_relaxed")
        for p in parts:
            self.previous_blobs.update(p.previous_blobs)
            self.blob_info.update(p.blob_info)
        self.choices = UserChoices(
            picks={k: v for p in parts for k, v in p.choices.picks.items()},
            rejects=frozenset().union(*(p.choices.rejects for p in parts)),
            locks=frozenset().union(*(p.choices.locks for p in parts)),
            previous={k: v for p in parts for k, v in p.choices.previous.items()})  # failed: select_winners adds it

    def report(self) -> EnrichReport:
        after = self.session.fetcher.stats.snapshot()
        requests = {k: after[k] - self.requests_before[k] for k in _REQUEST_COUNTS}
        return EnrichReport(self.results, self.counters, requests, time.perf_counter() - self.started,
                            self.images.used_processes, dict(self.stage_seconds))


def open_batch(settings: Settings, store: Store, session: ProviderSession, partition_keys: Sequence[str] | None,
               *, now: datetime | None = None, download_originals: bool = True) -> Batch:
    """The movies to enrich (present, identified partitions; all of them when no keys are given)."""
    batch = Batch(settings, store, session, [], now or datetime.now(), download_originals)
    batch.movies = [m for m in store.movies(include_gone=False, partition_keys=partition_keys) if m.is_partition]
    return batch


def ext_of(url: str) -> str:
    """The file extension a URL names (``jpg`` when it names none): how earlier runs stored its blob."""
    ext = url.rsplit(".", 1)[-1].lower() if "." in url.rsplit("/", 1)[-1] else "jpg"
    return "jpg" if ext == "jpeg" else ext
