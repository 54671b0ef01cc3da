"""Stage 4, fetch and verify originals: the winners' full-size images into the blob store.

An original already cached by an earlier run (and still on disk) is reused. One that cannot be fetched or does
not verify gates its candidate out, and the selection is re-run so the next candidate takes its place (at most
four rounds). An original smaller than its candidate was scored at (a wrong declared size) is recorded as a fact,
its candidate re-scored on its real pixels and the selection re-run too. A failure a retry could change
(``blobs.faults``) is also recorded as a fault on its movies, which then keep their last good result and try
again next run. On an offline re-score (``download_originals=False``) nothing is fetched: winners without a
cached original keep ``blob_sha`` empty and publish (or the next enrichment) fetches them.
"""

from __future__ import annotations

import polars as pl

from metarr_pipeline.artwork.enrich.batch import Batch
from metarr_pipeline.artwork.enrich.rank import rescore, select_winners, with_real_sizes
from metarr_pipeline.store import BlobRow

ROUNDS = 4
SMALLER = 0.98  # an original with fewer than this share of the pixels it was scored at is re-scored

Outcome = tuple[str, str] | str  # (sha, ext) of the stored blob, or why the download failed


def fetch_originals(batch: Batch) -> None:
    """Fill ``winner_blobs``, ``original_blobs``, ``failed_originals`` and ``selected.blob_sha``."""
    for round_ in range(ROUNDS):
        if round_:
            select_winners(batch)
        needed = _needed(batch)
        if not needed:
            break
        if not batch.download_originals:
            batch.counters["originals_deferred"] = len(needed)
            break
        outcomes = _download(batch, list(needed))
        for url, result in outcomes.items():
            if isinstance(result, tuple):
                batch.winner_blobs[url] = result
            else:
                for movie_id, kind, cid in needed[url]:
                    batch.failed_originals[(movie_id, kind, cid)] = result
                if url in batch.transient_originals:
                    batch.fault(sorted({m for m, _, _ in needed[url]}), f"original failed: {result}")
        if _smaller_than_scored(batch, outcomes):
            rescore(batch)
            continue
        if all(isinstance(outcomes.get(u), tuple) for u in needed):
            break
    batch.blob_info.update({b["sha256"]: BlobRow(**b) for b in batch.original_blobs})
    batch.selected = batch.selected.with_columns(
        blob_sha=pl.when(pl.col("selected_rank").is_not_null())
        .then(pl.col("url").replace_strict({u: v[0] for u, v in batch.winner_blobs.items()}, default=None))
        .otherwise(None),
    )


def _smaller_than_scored(batch: Batch, outcomes: dict[str, Outcome]) -> bool:
    """Record the real size of every original downloaded now that is smaller than its candidate was scored
    at, and put it into the candidates; whether there was any."""
    scored = {u: (w, h) for u, w, h in batch.candidates.select("url", "width", "height").unique("url").iter_rows()}
    real: dict[str, tuple[int, int]] = {}
    for row in batch.original_blobs:
        url = row["source_url"]
        w, h = scored.get(url, (None, None))
        if url in outcomes and w and h and row["width"] * row["height"] < SMALLER * w * h:
            real[url] = (row["width"], row["height"])
            batch.fresh_analysis.append({"preview_url": url, "format": row["format"], "width": row["width"],
                                         "height": row["height"], "phash": None, "error": "",
                                         "analysed_at": batch.now})
    if real:
        batch.candidates = with_real_sizes(batch.candidates, real)
    return bool(real)


def _needed(batch: Batch) -> dict[str, list[tuple[int, str, str]]]:
    """url → the (movie, type, candidate) winners it serves, for winners without a usable cached original."""
    needed: dict[str, list[tuple[int, str, str]]] = {}
    winners = batch.selected.filter(pl.col("selected_rank").is_not_null())
    for movie_id, kind, cid, url in winners.select("movie_id", "type", "candidate_id", "url").iter_rows():
        if url in batch.winner_blobs:
            continue
        prev = batch.previous_blobs.get((movie_id, cid))
        if prev and batch.blobs.has(prev[0], prev[1]):
            batch.winner_blobs[url] = prev
            batch.bump("originals_reused")
            continue
        needed.setdefault(url, []).append((movie_id, kind, cid))
    return needed


def _download(batch: Batch, urls: list[str]) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for url, result in batch.images.download(urls, "original").items():
        if not result.ok:
            outcomes[url] = result.error
            if result.transient:
                batch.transient_originals.add(url)
            continue
        row = result.value
        batch.bump("originals_downloaded")
        batch.bump("bytes_downloaded", row["bytes"])
        outcomes[url] = (row["sha256"], row["ext"])
        batch.original_blobs.append(row)
    return outcomes
