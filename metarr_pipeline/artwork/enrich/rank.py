"""Stage 3, score and select: rank every candidate and choose the winners per movie × type.

The score is a sum of named, weighted parts (``artwork.scoring``); the selection applies the gates, the
duplicate clusters and the user's picks, rejects and locks (``artwork.selection``). What earlier runs chose
and which originals they cached are read here too: the previous selection keeps a lock stable, and the
cached originals spare the next stage a download. :func:`select_winners` is re-run by the next stage when a
winner's original turns out to be unusable, and :func:`rescore` when one is smaller than declared.

Real sizes: a provider's declared size is a hint (the small rendition gives the aspect, not the size). When a
downloaded original turns out smaller than declared, its real size is recorded as a fact in ``image_analysis``
under the original's URL; every run then scores that candidate on its real pixels from the start
(:func:`with_real_sizes`), keeping the declared size beside it (``declared_width``/``declared_height``) for
the score table.
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
    urls = batch.candidates.get_column("url").unique().to_list() if batch.candidates.height else []
    facts = batch.store.image_analysis(urls)
    batch.candidates = with_real_sizes(batch.candidates, {u: (f[1], f[2]) for u, f in facts.items()
                                                          if not f[4] and f[1] and f[2]})
    rescore(batch)
    ids = batch.ids
    previous = batch.store.artwork_candidates(ids) if ids else pl.DataFrame()
    batch.choices = _choices(batch.store, ids, previous)
    batch.blob_info = batch.store.blob_rows(sorted(set(previous["blob_sha"].drop_nulls()))) if previous.height else {}
    batch.previous_blobs = _previous_blobs(previous, batch.blob_info)
    select_winners(batch)


def rescore(batch: Batch) -> None:
    """(Re)fill ``ranked`` from ``candidates`` (after real sizes changed some)."""
    scoring = batch.settings.scoring
    batch.ranked = score_candidates(batch.candidates, scoring.weights, scoring.provider_preference,
                                    batch.settings.languages.preferred)


def with_real_sizes(frame: pl.DataFrame, real: dict[str, tuple[int, int]]) -> pl.DataFrame:
    """Candidates scored on the real size of their original where it is known; the size they came with is
    kept as ``declared_width``/``declared_height``."""
    if "declared_width" not in frame.columns:
        frame = frame.with_columns(declared_width=pl.col("width"), declared_height=pl.col("height"))
    if not real or not frame.height:
        return frame
    known = pl.DataFrame([(u, w, h) for u, (w, h) in real.items()], orient="row",
                         schema={"url": pl.String, "_real_w": pl.Int32, "_real_h": pl.Int32})
    joined = frame.join(known, on="url", how="left")
    return joined.with_columns(width=pl.coalesce("_real_w", "width"),
                               height=pl.coalesce("_real_h", "height")).drop("_real_w", "_real_h")


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
