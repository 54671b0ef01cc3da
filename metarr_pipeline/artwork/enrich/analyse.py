"""Stage 2, analyse renditions: what each candidate's small rendition really is (format, size, pHash).

Each distinct preview URL is fetched once and its facts cached in ``image_analysis`` by URL, so a warm run
fetches nothing. Only verdicts that are facts about the image are cached (decoded facts, a 404/410, a format
we do not read: ``blobs.faults``); a failure a retry could change (5xx, timeouts, an HTML error page, a
truncated or corrupt body) gates the candidate as unreadable for this run only, with its reason, is recorded
as a fault on its movies (which then keep their last good result) and is retried by the next run. Rows an
earlier version cached for such failures are ignored, so they are retried too. A refused host is decided
again each run (no request, follows the allowlist). The measured aspect then corrects the provider's
declared size (:func:`with_analysis`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from metarr_pipeline.artwork.enrich.batch import Batch
from metarr_pipeline.artwork.enrich.images import ImageResult
from metarr_pipeline.blobs import reads_transient
from metarr_pipeline.store import Store

_ANALYSIS = {"preview_url": pl.String, "a_format": pl.String, "a_width": pl.Int32, "a_height": pl.Int32,
             "phash": pl.UInt64, "analysis_error": pl.String}


def analyse_renditions(batch: Batch) -> None:
    """Fill ``fresh_analysis`` and join every candidate with its rendition's facts (``candidates``)."""
    previews = batch.candidates.get_column("preview_url").unique(maintain_order=True).to_list()
    known = cached_analysis(batch.store, previews)
    batch.bump("previews_cached", sum(1 for p in previews if p in known))  # a batch's parts add theirs up
    transient: dict[str, str] = {}
    todo = [p for p in previews if p not in known]
    for url, result in batch.images.analyse(todo).items():
        _take(batch, url, result, transient)
    _record_faults(batch, transient)
    for row in batch.fresh_analysis:
        known[row["preview_url"]] = (row["format"], row["width"], row["height"], row["phash"], row["error"])
    analysis = pl.DataFrame(
        [(u, *known[u]) if u in known else (u, "", None, None, None, transient.get(u, "not analysed"))
         for u in previews],
        schema=_ANALYSIS, orient="row",
    ) if previews else None
    batch.candidates = with_analysis(batch.candidates, analysis)


def _take(batch: Batch, url: str, result: ImageResult, transient: dict[str, str]) -> None:
    """One preview's analysis into ``fresh_analysis``; a failure a retry could change only into ``transient``."""
    if not result.ok and not result.fact:  # not cached: retried on the next run (a refused host is decided again)
        transient[url] = ("" if result.transient else "refused: ") + result.error
        return
    batch.fresh_analysis.append(analysis_row(url, result, batch.now))
    batch.bump("bytes_downloaded", (result.value or {}).get("bytes", 0))
    batch.bump("previews_analysed")


def cached_analysis(store: Store, previews: list[str]) -> dict[str, tuple[Any, ...]]:
    """preview URL → its cached facts, for the previews whose cached verdict stands (not a failure a retry
    could change: those rows, from older versions, are analysed again)."""
    return {url: row for url, row in store.image_analysis(previews).items() if not (row[4] and reads_transient(row[4]))}


def analysis_row(url: str, result: ImageResult, now: datetime) -> dict[str, Any]:
    """The ``image_analysis`` row of a preview whose verdict is cached: its facts, or the fact that it fails."""
    facts = result.value or {}
    return {"preview_url": url, "format": facts.get("format", ""), "width": facts.get("width"),
            "height": facts.get("height"), "phash": facts.get("phash"), "error": result.error, "analysed_at": now}


def _record_faults(batch: Batch, failed: dict[str, str]) -> None:
    """The movies whose candidates could not be analysed for a reason a retry could change."""
    if not failed:
        return
    hit = batch.candidates.filter(pl.col("preview_url").is_in(list(failed)))
    for url, movie_ids in hit.group_by("preview_url").agg(pl.col("movie_id").unique()).iter_rows():
        if not failed[url].startswith("refused: "):
            batch.fault(movie_ids, f"image analysis failed: {failed[url]}")


def with_analysis(frame: pl.DataFrame, analysis: pl.DataFrame | None) -> pl.DataFrame:
    """Join the analysis and settle each candidate's size: declared size, corrected by the measured aspect."""
    if analysis is None:
        return frame.with_columns(a_format=pl.lit(""), a_width=pl.lit(None, pl.Int32), a_height=pl.lit(None, pl.Int32),
                                  phash=pl.lit(None, pl.UInt64), analysis_error=pl.lit(""))
    joined = frame.join(analysis, on="preview_url", how="left")
    declared_ratio = pl.col("width").cast(pl.Float64) / pl.col("height").cast(pl.Float64)
    measured_ratio = pl.col("a_width").cast(pl.Float64) / pl.col("a_height").cast(pl.Float64)
    wrong = (pl.col("a_width").is_not_null() & pl.col("width").gt(0) & pl.col("height").gt(0)
             & ((declared_ratio / measured_ratio - 1.0).abs() > 0.02))
    missing = pl.col("width").fill_null(0).eq(0) | pl.col("height").fill_null(0).eq(0)
    return joined.with_columns(
        height=pl.when(wrong).then((pl.col("width").cast(pl.Float64) / measured_ratio).round().cast(pl.Int32))
        .when(missing).then(pl.col("a_height")).otherwise(pl.col("height")),
        width=pl.when(missing).then(pl.col("a_width")).otherwise(pl.col("width")),
        analysis_error=pl.col("analysis_error").fill_null("not analysed"),
    )
