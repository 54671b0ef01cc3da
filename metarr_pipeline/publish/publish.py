"""The publish entry point: which movies a run publishes, and what happens around the batch.

``publish_movies`` picks the movies (an automatic run skips manual and up-to-date ones), loads their context,
downloads the originals an offline re-score left uncached, publishes them in chunks (:mod:`batch`), queues the
players' notifications for the movies that changed and reclaims blobs nothing refers to any more. The package
docstring lists the per-movie steps and the guarantees.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime

from metarr_pipeline.blobs import BlobStore
from metarr_pipeline.config import Settings
from metarr_pipeline.fingerprints import publish_fingerprint
from metarr_pipeline.players.queue import queue_notifications
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.publish.batch import CHUNK, publish_batch
from metarr_pipeline.publish.cache import reclaim_blobs
from metarr_pipeline.publish.context import PublishContext, fetch_deferred_originals
from metarr_pipeline.publish.plan import Planned
from metarr_pipeline.publish.prepare import LOW_SPACE_BYTES
from metarr_pipeline.publish.report import MoviePublish, PublishError, PublishReport
from metarr_pipeline.store import MovieRecord, Store

__all__ = [
    "CHUNK", "LOW_SPACE_BYTES", "MoviePublish", "Planned", "PublishError", "PublishReport", "publish_movies",
    "reclaim_blobs",
]

log = logging.getLogger(__name__)


def publish_movies(
    settings: Settings,
    store: Store,
    session: ProviderSession | None,
    partition_keys: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    reclaim: bool = True,
    automatic: bool = False,
) -> PublishReport:
    """Publish the given movies. ``automatic`` (auto-publish, scheduled runs) skips movies the user marked
    manual and movies already published and up to date; an explicit request publishes what it names."""
    started = time.perf_counter()
    now = now or datetime.now()
    movies = [m for m in store.movies(include_gone=True, partition_keys=partition_keys)
              if m.partition_key and m.status == "identified"]
    skipped: list[MoviePublish] = []
    if automatic:
        movies, skipped = _due_automatically(store, movies)
    fingerprint = publish_fingerprint(settings)
    context = PublishContext.load(settings, store, session, [m.id for m in movies if m.id is not None], now)
    fetch_deferred_originals(context, [m.id for m in movies if m.id is not None and m.gone_at is None])
    results = publish_batch(movies, context, fingerprint)
    # Players are told later, by their own step: here the changed movies are only queued (never fails).
    queue_notifications(store, settings, [
        (m, "modified" if context.state.get(m.id, {}).get("published_at") else "created")  # type: ignore[arg-type]
        for m, r in zip(movies, results, strict=True) if r.status == "published" and (r.written or r.removed)], now)
    report = PublishReport(results + skipped)
    if reclaim:
        report.reclaimed_blobs, report.reclaimed_bytes = reclaim_blobs(store, BlobStore(settings.cache_dir))
    report.seconds = time.perf_counter() - started
    log.info("publish: %s", report.summary())
    return report


def _due_automatically(store: Store, movies: list[MovieRecord]) -> tuple[list[MovieRecord], list[MoviePublish]]:
    """The movies an automatic run publishes, and the skipped ones (a manual movie says why)."""
    states = store.publish_state([m.id for m in movies if m.id is not None])
    due: list[MovieRecord] = []
    skipped: list[MoviePublish] = []
    for m in movies:
        state = states.get(m.id, {})  # type: ignore[arg-type]
        if m.manual:
            skipped.append(MoviePublish(m.partition_key or "", "skipped", warnings=["marked manual"]))
        elif state.get("state") == "published" or not state.get("enriched"):
            skipped.append(MoviePublish(m.partition_key or "", "skipped"))
        else:
            due.append(m)
    return due, skipped
