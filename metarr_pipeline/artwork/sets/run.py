"""The sets' artwork run: the movie stages' own machinery over a batch of sets instead of movies.

Each set is one "movie" of an enrichment :class:`~metarr_pipeline.artwork.enrich.batch.Batch` whose ``movie_id``
column holds the TMDB collection id, so the candidates (both providers' answers mapped by ``art_types``), the
analysis of the small renditions (cached by URL, shared with the movies), the scores, the duplicate clusters, the
gates and the originals' download and verification through the blob store are exactly a movie's. What differs:
the types (:data:`SET_ART_TYPES`, one winner each: Kodi reads one file per type in a set folder, and a type the
user turned off for movies stays off), the answers (:mod:`.answers`) and where the result goes (:mod:`.persist`,
the ``collections`` tables).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import polars as pl

from metarr_pipeline.artwork.candidates import candidates_frame, provider_candidates
from metarr_pipeline.artwork.enrich.analyse import analyse_renditions
from metarr_pipeline.artwork.enrich.batch import Batch, ext_of
from metarr_pipeline.artwork.enrich.originals import fetch_originals
from metarr_pipeline.artwork.enrich.rank import score_and_select
from metarr_pipeline.artwork.sets.answers import fetch_set_answers
from metarr_pipeline.artwork.sets.persist import persist_sets
from metarr_pipeline.artwork.sets.report import CollectionsReport, SetResult
from metarr_pipeline.config import Settings
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import LibrarySet, Store, collection_id_of_key

log = logging.getLogger(__name__)

# The types a set folder holds (Kodi's names for set art; keyart is a movie's only).
SET_ART_TYPES = ("poster", "fanart", "clearlogo", "clearart", "banner", "landscape", "discart")
NOT_IN_LIBRARY = "no movie of the library belongs to this set any more"


def set_counts(settings: Settings) -> dict[str, int]:
    """One winner per set type, none for a type the user turned off (``[artwork.counts]`` 0)."""
    return {k: (1 if k in SET_ART_TYPES and v > 0 else 0) for k, v in settings.artwork.counts.items()}


def sets_of_keys(store: Store, partition_keys: Sequence[str] | None) -> tuple[list[LibrarySet], list[SetResult]]:
    """The library's sets the keys name (every set without keys), and a failed result per key naming none."""
    library = store.library_sets()
    if partition_keys is None:
        return list(library.values()), []
    sets, missing = [], []
    for key in dict.fromkeys(partition_keys):
        cid = collection_id_of_key(key)
        if cid is not None and cid in library:
            sets.append(library[cid])
        else:
            missing.append(SetResult(key, cid or 0, "", "failed", f"{key}: {NOT_IN_LIBRARY}"))
    return sets, missing


def enrich_collections(settings: Settings, store: Store, session: ProviderSession,
                       partition_keys: Sequence[str] | None = None, *, now: datetime | None = None,
                       force: bool = False) -> CollectionsReport:
    """Choose the art of the given sets (every set of the library without keys): one image per type."""
    started = time.perf_counter()
    now = now or datetime.now()
    sets, missing = sets_of_keys(store, partition_keys)
    batch = Batch(replace(settings, artwork=replace(settings.artwork, counts=set_counts(settings))), store,
                  session, [], now)
    answers = fetch_set_answers(settings, store, session, sets, now, force=force)
    enabled = batch.settings.artwork.enabled
    rows = []
    for movie_set in sets:
        cid = movie_set.collection_id
        if cid in answers.tmdb:
            rows += provider_candidates(cid, answers.tmdb[cid], answers.fanart.get(cid), enabled)
    batch.candidates = candidates_frame(rows)
    batch.counters["candidates"] = batch.candidates.height
    analyse_renditions(batch)
    score_and_select(batch)
    ids = [s.collection_id for s in sets]
    previous = store.collection_candidates(ids) if ids else pl.DataFrame()
    _reuse_cached_originals(batch, previous)
    fetch_originals(batch)
    results = persist_sets(batch, sets, store.collection_rows(ids) if ids else {}, previous, answers.failed)
    report = batch.report()
    out = CollectionsReport(results + missing, {**report.counters, "cache_hits": answers.cache_hits},
                            report.requests, time.perf_counter() - started)
    log.info("movie sets' artwork: %s", out.summary())
    return out


def _reuse_cached_originals(batch: Batch, previous: pl.DataFrame) -> None:
    """Originals earlier runs cached for a set's candidates spare the download (as a movie's do)."""
    if not previous.height:
        return
    rows = previous.filter(pl.col("blob_sha").is_not_null()).select("movie_id", "candidate_id", "blob_sha", "url")
    batch.blob_info = batch.store.blob_rows(sorted(set(rows["blob_sha"])))
    for cid, candidate, sha, url in rows.iter_rows():
        info = batch.blob_info.get(sha)
        batch.previous_blobs[(cid, candidate)] = (sha, info.ext if info is not None else ext_of(url))
