"""The last step of a sets' run: compare each set's result with the stored one and write only what changed.

A set's state hash covers its title, overview and candidate table without blob hashes (what was chosen, not
whether its bytes are cached yet), so the same provider data and config give the same hash and nothing is
written. A set a transient failure touched (an analysis or an original a retry could change) keeps its last
good result when it has one (``kept``); without one it is written as usual and replaced once the images come.
"""

from __future__ import annotations

import hashlib
import json

import polars as pl

from metarr_pipeline.artwork.enrich.batch import Batch
from metarr_pipeline.artwork.scoring import PARTS
from metarr_pipeline.artwork.sets.report import SetArt, SetResult
from metarr_pipeline.store import CollectionRow, LibrarySet

STORED = ("movie_id", "type", "candidate_id", "provider", "url", "preview_url", "language", "width", "height",
          "votes", "vote_average", "phash", *(f"s_{p}" for p in PARTS), "score", "rank", "gate", "duplicate_of",
          "selected_rank", "blob_sha")
ANALYSIS_ROWS = {"preview_url": pl.String, "format": pl.String, "width": pl.Int32, "height": pl.Int32,
                 "phash": pl.UInt64, "error": pl.String, "analysed_at": pl.Datetime("us")}
SET_ROWS = {"collection_id": pl.Int64, "title": pl.String, "overview": pl.String, "state_hash": pl.String,
            "enriched_at": pl.Datetime("us"), "summary_json": pl.String}


def state_hash(movie_set: LibrarySet, group: pl.DataFrame) -> str:
    rows = group.select([c for c in STORED if c != "blob_sha"]).sort(["type", "rank", "candidate_id"]).rows()
    text = json.dumps([movie_set.title, movie_set.overview, rows], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def persist_sets(batch: Batch, sets: list[LibrarySet], stored: dict[int, CollectionRow],
                 previous: pl.DataFrame, failed: dict[int, str]) -> list[SetResult]:
    """The sets' results; their changes, the new analyses and blobs written in one ``save_collections``."""
    selected = batch.selected
    groups = {k[0]: g for k, g in selected.partition_by("movie_id", as_dict=True).items()} if selected.height else {}
    old_blobs = _winner_blobs(previous)
    results: list[SetResult] = []
    changed: list[int] = []
    frames: list[pl.DataFrame] = []
    rows: list[dict[str, object]] = []
    for movie_set in sets:
        cid = movie_set.collection_id
        if cid in failed:
            results.append(SetResult(movie_set.partition_key, cid, movie_set.title, "failed", failed[cid]))
            continue
        group = groups.get(cid, selected.clear())
        faults = tuple(f"kept last good: {f}" if cid in stored else f for f in batch.faults.get(cid, ()))
        if faults and cid in stored:
            results.append(SetResult(movie_set.partition_key, cid, movie_set.title, "kept", warnings=faults))
            continue
        digest = state_hash(movie_set, group)
        same = cid in stored and stored[cid].state_hash == digest
        if not same or _winner_blobs(group).get(cid, {}) != old_blobs.get(cid, {}):
            changed.append(cid)
            frames.append(group.select(STORED))
            rows.append({"collection_id": cid, "title": movie_set.title, "overview": movie_set.overview,
                         "state_hash": digest, "enriched_at": batch.now,
                         "summary_json": json.dumps({"retry": list(faults)} if faults else {})})
        results.append(SetResult(movie_set.partition_key, cid, movie_set.title, "unchanged" if same else "enriched",
                                 chosen=_chosen(group), candidates=group.height, warnings=faults))
    batch.store.save_collections(
        analysis=pl.DataFrame(batch.fresh_analysis, schema=ANALYSIS_ROWS, orient="row")
        if batch.fresh_analysis else None,
        blobs=pl.DataFrame(batch.original_blobs).unique(subset=["sha256"]) if batch.original_blobs else None,
        collection_ids=changed, candidates=pl.concat(frames) if frames else None,
        collections=pl.DataFrame(rows, schema=SET_ROWS, orient="row") if rows else None)
    return results


def _winner_blobs(frame: pl.DataFrame) -> dict[int, dict[str, str | None]]:
    """set → type → its winner's blob (a winner whose original is now cached is a change to write)."""
    if not frame.height or "blob_sha" not in frame.columns:
        return {}
    out: dict[int, dict[str, str | None]] = {}
    winners = frame.filter(pl.col("selected_rank").is_not_null())
    for cid, kind, sha in winners.select("movie_id", "type", "blob_sha").iter_rows():
        out.setdefault(cid, {})[kind] = sha
    return out


def _chosen(group: pl.DataFrame) -> tuple[SetArt, ...]:
    if not group.height:
        return ()
    winners = group.filter(pl.col("selected_rank") == 1).sort("type")
    return tuple(SetArt(r["type"], r["provider"], r["candidate_id"], r["language"], r["width"] or 0,
                        r["height"] or 0, r["score"], r["blob_sha"]) for r in winners.iter_rows(named=True))
