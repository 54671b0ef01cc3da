"""The enrichment runner: the stages, in order, over one batch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from metarr_pipeline.artwork.enrich.analyse import analyse_renditions
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
        with batch.timed("analyse"):
            analyse_renditions(batch)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="headshots") as background:
            # beside the scoring and the originals: verifying and tiling originals (PNGs decoded) keeps the
            # CPUs busy while the image hosts wait, and the headshots are the other way round; beside the
            # analysis both would only wait for the same TMDB connections
            headshots = background.submit(_timed, batch, "headshots", cache_headshots)
            with batch.timed("score"):
                score_and_select(batch)
            with batch.timed("originals"):
                fetch_originals(batch)
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
