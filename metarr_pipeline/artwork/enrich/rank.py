"""Stage 3, score and select: rank every candidate and choose the winners per movie × type.

The score is a sum of named, weighted parts (``artwork.scoring``); the selection applies the gates, the
duplicate clusters and the user's picks, rejects and locks (``artwork.selection``). What earlier runs chose
and which originals they cached are read here too: the previous selection keeps a lock stable, and the
cached originals spare the next stage a download. :func:`select_winners` is re-run by the next stage when a
winner's original turns out to be unusable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import polars as pl

from metarr_pipeline.artwork.enrich.batch import Batch, ext_of
from metarr_pipeline.artwork.scoring import score_candidates
from metarr_pipeline.artwork.selection import UserChoices, select
from metarr_pipeline.fingerprints import DUPLICATE_THRESHOLD
from metarr_pipeline.store import Store


def score_and_select(batch: Batch) -> None:
    """Fill ``ranked``, ``choices``, ``previous_blobs``, ``blob_info`` and a first ``selected``."""
    scoring = batch.settings.scoring
    batch.ranked = score_candidates(batch.candidates, scoring.weights, scoring.provider_preference,
                                    batch.settings.languages.preferred)
    ids = batch.ids
    previous = batch.store.artwork_candidates(ids) if ids else pl.DataFrame()
    batch.choices = _choices(batch.store, ids, previous)
    batch.blob_info = batch.store.blob_rows(sorted(set(previous["blob_sha"].drop_nulls()))) if previous.height else {}
    batch.previous_blobs = _previous_blobs(previous, batch.blob_info)
    select_winners(batch)


def select_winners(batch: Batch) -> None:
    """(Re)fill ``selected``, gating out the candidates whose original failed so far."""
    choices = replace(batch.choices, failed=batch.failed_originals)
    batch.selected = select(batch.ranked, dict(batch.settings.artwork.counts), choices, DUPLICATE_THRESHOLD)


def _choices(store: Store, ids: Sequence[int], previous: pl.DataFrame) -> UserChoices:
    raw, locks = store.artwork_choices(ids) if ids else ([], [])
    picks: dict[tuple[int, str], list[str]] = {}
    rejects = set()
    for movie_id, kind, cid, action in raw:
        if action == "pick":
            picks.setdefault((movie_id, kind), []).append(cid)
        elif action == "reject":
            rejects.add((movie_id, kind, cid))
    prev_sel: dict[tuple[int, str], list[str]] = {}
    if previous.height:
        for movie_id, kind, cid in (previous.filter(pl.col("selected_rank").is_not_null())
                                    .sort(["movie_id", "type", "selected_rank"])
                                    .select("movie_id", "type", "candidate_id").iter_rows()):
            prev_sel.setdefault((movie_id, kind), []).append(cid)
    return UserChoices(picks, frozenset(rejects), frozenset((m, k) for m, k in locks), prev_sel)


def _previous_blobs(previous: pl.DataFrame,
                    blob_info: dict[str, dict[str, Any]]) -> dict[tuple[int, str], tuple[str, str]]:
    """(movie, candidate) → (sha, ext) of originals cached by earlier runs. The extension is the one the blob
    was stored under (its sniffed format): a PNG served as ``.jpg`` is ``<sha>.png`` in the store."""
    if not previous.height:
        return {}
    out: dict[tuple[int, str], tuple[str, str]] = {}
    rows = previous.filter(pl.col("blob_sha").is_not_null()).select("movie_id", "candidate_id", "blob_sha", "url")
    for movie_id, cid, sha, url in rows.iter_rows():
        out[(movie_id, cid)] = (sha, blob_info.get(sha, {}).get("ext") or ext_of(url))
    return out
