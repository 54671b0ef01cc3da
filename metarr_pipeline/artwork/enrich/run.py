"""The enrichment runner: the stages, in order, over one batch (or over two parts of it side by side, see _split)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import polars as pl

from metarr_pipeline.artwork.enrich.analyse import analyse_renditions, cached_analysis
from metarr_pipeline.artwork.enrich.batch import Batch, open_batch
from metarr_pipeline.artwork.enrich.collect import collect_candidates
from metarr_pipeline.artwork.enrich.headshots import cache_headshots
from metarr_pipeline.artwork.enrich.originals import fetch_originals
from metarr_pipeline.artwork.enrich.persist import persist_changes
from metarr_pipeline.artwork.enrich.rank import score_and_select
from metarr_pipeline.artwork.enrich.report import EnrichReport
from metarr_pipeline.config import Settings
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import Store

log = logging.getLogger(__name__)

MIN_PART_MOVIES = 20  # a batch is split in two parts only when each has at least this many movies


def enrich_movies(
    settings: Settings,
    store: Store,
    session: ProviderSession,
    partition_keys: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    download_originals: bool = True,
) -> EnrichReport:
    """Enrich a batch. ``download_originals=False`` is the offline re-score (a backfill after a scoring or
    selection config change): everything comes from stored data, and winners whose original is not cached
    keep ``blob_sha`` empty; publish (or the next regular enrichment) fetches them when they are needed."""
    batch = open_batch(settings, store, session, partition_keys, now=now, download_originals=download_originals)
    try:
        with batch.timed("collect"):
            collect_candidates(batch)
            batch.images.expect(batch.candidates.height)
        ready, waiting = _split(batch)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="enrich") as background:
            if waiting:  # analysed beside the originals of the movies whose previews are all cached
                analysed = background.submit(_timed, batch, "analyse", lambda _: analyse_renditions(waiting))
            else:
                with batch.timed("analyse"):
                    analyse_renditions(ready)
            # the headshots beside the scoring and the originals: verifying and tiling originals (PNGs decoded)
            # keeps the CPUs busy while the image hosts wait, and the headshots are the other way round
            headshots = background.submit(_timed, batch, "headshots", cache_headshots)
            if waiting:
                analyse_renditions(ready)  # all cached: no request
                _select_and_fetch(ready, batch, "_beside_analysis")
                with batch.timed("wait_analyse"):
                    analysed.result()
                _select_and_fetch(waiting, batch, "")
                batch.absorb([ready, waiting])
            else:
                _select_and_fetch(batch, batch, "")
            with batch.timed("wait_headshots"):
                headshots.result()
    finally:
        batch.images.close()
    with batch.timed("persist"):
        persist_changes(batch)
    report = batch.report()
    log.info("enrichment: %s; seconds by stage: %s", report.summary(), report.stage_seconds)
    return report


def _timed(batch: Batch, stage: str, fn: Callable[[Batch], None]) -> None:
    with batch.timed(stage):
        fn(batch)


def _select_and_fetch(part: Batch, batch: Batch, suffix: str) -> None:
    with batch.timed(f"score{suffix}"):
        score_and_select(part)
    with batch.timed(f"originals{suffix}"):
        fetch_originals(part)


def _split(batch: Batch) -> tuple[Batch, Batch | None]:
    """The batch as it is, or, when a large enrichment that downloads finds some movies' previews all analysed
    already (the fetch analyses them while it waits on the API hosts, ``prefetch``) and others not: those movies
    and the rest, as two parts. The first part's originals (CPU-bound: verification, tiles) are then fetched while
    the second part's previews are analysed (bound by the image hosts' connections), instead of one after the
    other (bench/results/2026-11-30-postgres-session22-hosts.md: TMDB's images half idle through the originals)."""
    if not batch.download_originals or len(batch.movies) < MIN_PART_MOVIES * 2 or not batch.candidates.height:
        return batch, None
    previews = batch.candidates.select("movie_id", "preview_url")
    known = set(cached_analysis(batch.store, previews.get_column("preview_url").unique().to_list()))
    missing = set(previews.filter(~pl.col("preview_url").is_in(list(known))).get_column("movie_id").to_list())
    ready = {m.id for m in batch.movies if m.id is not None and m.id not in missing}
    if len(ready) < MIN_PART_MOVIES or len(missing) < MIN_PART_MOVIES:
        return batch, None
    return batch.part(ready), batch.part(missing)
