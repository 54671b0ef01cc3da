"""Everything a batch of movies needs from the store, loaded once, and the originals a re-score left uncached.

Each store read costs a DuckDB open, so the batch reads metadata, streams, selected artwork, actors, file
records, publish state and blob rows in one go per kind, and the per-movie steps only look them up.

Winners chosen by an offline re-score may have no cached original yet (``blob_sha`` empty): they are
downloaded concurrently for the whole batch before any movie is published, and attached to their candidate
rows in one store write. One that cannot be fetched is remembered with its reason (``deferred_errors``) and
reported on its movie by the plan.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from metarr_pipeline.blobs import BlobStore, download_blob, download_workers
from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import ActorRow, BlobRow, LibraryFileRow, PublishState, Store

log = logging.getLogger(__name__)


@dataclass
class PublishContext:
    settings: Settings
    store: Store
    session: ProviderSession | None
    blobs: BlobStore
    now: datetime
    metadata: dict[int, Any]
    streams: dict[int, Any]
    selected: dict[int, list[dict[str, Any]]]  # movie → its selected candidates, by type then rank
    actors: dict[int, list[ActorRow]]
    files: dict[int, dict[str, LibraryFileRow]]
    state: dict[int, PublishState]
    blob_rows: dict[str, BlobRow]
    deferred_errors: dict[tuple[int, str], str] = field(default_factory=dict)  # (movie, candidate) → why

    @classmethod
    def load(cls, settings: Settings, store: Store, session: ProviderSession | None, ids: list[int],
             now: datetime) -> PublishContext:
        candidates = store.artwork_candidates(ids) if ids else pl.DataFrame()
        selected = candidates.filter(pl.col("selected_rank").is_not_null()) if candidates.height else candidates
        by_movie: dict[int, list[dict[str, Any]]] = {}
        if selected.height:
            for row in selected.sort(["movie_id", "type", "selected_rank"]).iter_rows(named=True):
                by_movie.setdefault(row["movie_id"], []).append(row)
        actors = store.movie_actors(ids) if ids else {}
        shas = set(selected["blob_sha"].drop_nulls().to_list()) if selected.height else set()
        shas |= {a.blob_sha for rows in actors.values() for a in rows if a.blob_sha}
        return cls(settings, store, session, BlobStore(settings.cache_dir), now,
                   store.movie_metadata(ids) if ids else {}, store.streams(ids) if ids else {}, by_movie, actors,
                   store.library_files(ids) if ids else {}, store.publish_state(ids) if ids else {},
                   store.blob_rows(sorted(shas)))


def fetch_deferred_originals(ctx: PublishContext, movie_ids: list[int]) -> None:
    """Download the originals of selected winners that have none cached yet (an offline re-score chose them),
    concurrently for the whole batch, and attach them to their candidate rows in one store write."""
    missing = [row for movie_id in movie_ids for row in ctx.selected.get(movie_id, []) if not row["blob_sha"]]
    if not missing:
        return
    if ctx.session is None:
        for row in missing:
            ctx.deferred_errors[(row["movie_id"], row["candidate_id"])] = "no provider is available"
        return
    urls = sorted({row["url"] for row in missing})
    outcomes = _download_all(ctx, ctx.session, urls)
    refs: list[tuple[int, str, str]] = []
    new_blobs: dict[str, dict[str, Any]] = {}
    for row in missing:
        got = outcomes[row["url"]]
        if isinstance(got, str):
            ctx.deferred_errors[(row["movie_id"], row["candidate_id"])] = got
            continue
        row["blob_sha"] = got["sha256"]
        refs.append((row["movie_id"], row["candidate_id"], got["sha256"]))
        new_blobs.setdefault(got["sha256"], got)
        ctx.blob_rows.setdefault(got["sha256"], BlobRow(**got))
    if refs:
        ctx.store.set_candidate_blobs(refs, pl.DataFrame(list(new_blobs.values())))
    log.info("publish: %d deferred original(s) downloaded, %d failed", len(new_blobs),
             len(urls) - sum(1 for v in outcomes.values() if not isinstance(v, str)))


def _download_all(ctx: PublishContext, session: ProviderSession, urls: list[str]) -> dict[str, dict[str, Any] | str]:
    """url → its blob row, or why it could not be downloaded (one failure never stops the others)."""
    outcomes: dict[str, dict[str, Any] | str] = {}

    def fetch(url: str) -> None:
        try:
            outcomes[url] = download_blob(session, ctx.settings, ctx.blobs, url, "original", ctx.now)
        except (MetarrError, OSError) as exc:
            outcomes[url] = str(exc)[:300] or type(exc).__name__

    with ThreadPoolExecutor(max_workers=min(download_workers(ctx.settings), len(urls)),
                            thread_name_prefix="publish-art") as pool:
        for _ in pool.map(fetch, urls):
            pass
    return outcomes
