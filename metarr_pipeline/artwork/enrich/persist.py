"""Stage 6, persist changes: compare each movie's result with the stored one, write only what changed.

A movie's state hash covers what was chosen (the candidate table without blob hashes), its actors, their
headshots and the config fingerprint, so the same provider data, config and user choices give the same
hash and nothing is written. Whether a chosen original's bytes are cached is not part of the result:
attaching a blob fetched now to an unchanged movie's candidate row is a small update, not a new result.

A movie a transient failure touched (``batch.faults``: an analysis, an original or a headshot a retry could
change) keeps its last good result when it has one: nothing of it is written, its status is ``kept`` with a
"kept last good: reason" warning, and the next run tries again. Without a stored result it is written as
usual (the failed candidates gated with their reason) and the next run replaces it once the images come.
Either way its enrichment row says ``"retry"`` (in ``summary_json``), so the schedule counts it as due until
a run without faults clears the mark.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from metarr_pipeline.artwork.actors import Actor
from metarr_pipeline.artwork.enrich.batch import Batch, ext_of
from metarr_pipeline.artwork.enrich.headshots import people_frame
from metarr_pipeline.artwork.enrich.report import ChosenArt, MovieEnrichment
from metarr_pipeline.artwork.scoring import PARTS
from metarr_pipeline.fingerprints import config_fingerprint
from metarr_pipeline.store import EnrichmentRow, MovieRecord

_STORED = ("movie_id", "type", "candidate_id", "provider", "url", "preview_url", "language", "width", "height",
           "votes", "vote_average", "phash", *(f"s_{p}" for p in PARTS), "score", "rank", "gate", "duplicate_of",
           "selected_rank", "blob_sha")
ANALYSIS_ROWS = {"preview_url": pl.String, "format": pl.String, "width": pl.Int32, "height": pl.Int32,
                 "phash": pl.UInt64, "error": pl.String, "analysed_at": pl.Datetime("us")}


@dataclass
class _Writes:
    """What the batch writes: rows of the movies whose result changed, blob hashes for the unchanged."""

    fingerprint: str
    changed_ids: list[int] = field(default_factory=list)
    candidates: list[pl.DataFrame] = field(default_factory=list)
    actors: list[dict[str, Any]] = field(default_factory=list)
    enrichment: list[dict[str, Any]] = field(default_factory=list)
    blob_updates: list[tuple[int, str, str]] = field(default_factory=list)
    summaries: dict[int, str] = field(default_factory=dict)  # kept movies' retry marks set, healed ones cleared


def persist_changes(batch: Batch) -> None:
    """Fill ``results`` and write, in one ``save_enrichment``, what changed (plus new analyses and blobs)."""
    ids = batch.ids
    stored = batch.store.enrichment_rows(ids) if ids else {}
    writes = _Writes(config_fingerprint(batch.settings))
    selected = batch.selected
    per_movie = {k[0]: g for k, g in selected.partition_by("movie_id", as_dict=True).items()} if selected.height else {}
    views = _views(selected)
    for m in batch.movies:
        assert m.id is not None and m.partition_key is not None
        if m.id in batch.failed_movies:
            batch.results.append(MovieEnrichment(m.partition_key, m.id, "failed", batch.failed_movies[m.id]))
            continue
        if m.id in batch.faults and m.id in stored:
            batch.results.append(_kept(m, batch.faults[m.id]))
            writes.summaries[m.id] = _summary(stored[m.id], retry=batch.results[-1].warnings[0])
            continue
        group = per_movie.get(m.id, selected.clear())
        result = _movie_result(batch, m, group, stored.get(m.id), writes, views)
        if result.status == "unchanged" and "retry" in json.loads(stored[m.id].summary_json or "{}"):
            writes.summaries[m.id] = _summary(stored[m.id], retry=None)
        if m.id in batch.faults:
            result = replace(result, warnings=(*result.warnings, *_retry_notes(batch.faults[m.id])))
        batch.results.append(result)
    new_blobs = batch.original_blobs + batch.headshot_blobs
    batch.store.save_enrichment(
        analysis=pl.DataFrame(batch.fresh_analysis, schema=ANALYSIS_ROWS, orient="row")
        if batch.fresh_analysis else None,
        candidates=pl.concat(writes.candidates) if writes.candidates else None,
        movie_ids=writes.changed_ids,
        actors=pl.DataFrame(writes.actors) if writes.actors else None,
        people=people_frame(batch.people, changed=True),
        blobs=pl.DataFrame(new_blobs).unique(subset=["sha256"]) if new_blobs else None,
        enrichment=pl.DataFrame(writes.enrichment) if writes.enrichment else None,
    )
    batch.store.set_candidate_blobs(writes.blob_updates)  # unchanged movies whose winners' originals were fetched now
    batch.store.set_enrichment_summaries(writes.summaries)


def _movie_result(batch: Batch, m: MovieRecord, group: pl.DataFrame, prior: EnrichmentRow | None,
                  writes: _Writes, views: _Views) -> MovieEnrichment:
    """One movie's result, compared with the stored one; its rows are added to ``writes`` when it changed."""
    assert m.id is not None
    table = group.select(_STORED).sort(["type", "rank"])
    actors = batch.cast.get(m.id, [])
    state = _hash({"candidates": table.drop("blob_sha").to_dicts(), "actors": [a.__dict__ for a in actors],
                   "headshots": [batch.people.get(a.person_id, {}).get("blob_sha") for a in actors],
                   "fingerprint": writes.fingerprint})
    sel = table.filter(pl.col("selected_rank").is_not_null()).sort(["type", "selected_rank"])
    selection_hash = _hash(sel.select("type", "selected_rank", "candidate_id").to_dicts())
    unchanged = prior is not None and prior.state_hash == state
    if unchanged:
        writes.blob_updates += _blob_updates(m.id, sel, batch.previous_blobs)
    selection_changed = prior is None or prior.selection_hash != selection_hash
    result = _describe(m, views, batch, actors, "unchanged" if unchanged else "enriched",
                       selection_changed and not unchanged)
    if unchanged:
        return result
    writes.changed_ids.append(m.id)
    writes.candidates.append(table)
    writes.actors += [{"movie_id": m.id, "position": a.order, "person_id": a.person_id, "name": a.name,
                       "role": a.role} for a in actors]
    retry = {"retry": _retry_notes(batch.faults[m.id])[0]} if m.id in batch.faults else {}
    writes.enrichment.append({
        "movie_id": m.id, "state_hash": state, "selection_hash": selection_hash, "enriched_at": batch.now,
        "selection_changed_at": batch.now if selection_changed else prior.selection_changed_at,  # type: ignore[union-attr]
        "config_fingerprint": writes.fingerprint,
        "summary_json": json.dumps({"candidates": result.candidates, "failed": result.failed_candidates,
                                    "duplicates": len(result.duplicates), "actors": result.actors,
                                    **retry}),
    })
    return result


def _kept(m: MovieRecord, reasons: list[str]) -> MovieEnrichment:
    """A movie that keeps its stored result this run because something a retry could change failed."""
    assert m.id is not None and m.partition_key is not None
    more = f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else ""
    return MovieEnrichment(m.partition_key, m.id, "kept", "", warnings=(
        f"kept last good: {'; '.join(reasons[:3])}{more}; tried again next run",))


def _summary(prior: EnrichmentRow, retry: str | None) -> str:
    """The stored summary with the retry mark set (a kept movie) or cleared (a clean run healed it)."""
    summary = {k: v for k, v in json.loads(prior.summary_json or "{}").items() if k != "retry"}
    return json.dumps({**summary, "retry": retry} if retry else summary)


def _retry_notes(reasons: list[str]) -> tuple[str, ...]:
    more = f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else ""
    return (f"tried again next run: {'; '.join(reasons[:3])}{more}",)


def _hash(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _blob_updates(movie_id: int, winners: pl.DataFrame,
                  prev_blobs: dict[tuple[int, str], tuple[str, str]]) -> list[tuple[int, str, str]]:
    """Winners of an unchanged movie whose cached original differs from the stored row (fetched now after an
    offline re-score deferred it, or fetched again because the cached file was gone)."""
    if not winners.height:
        return []
    return [(movie_id, cid, sha) for cid, sha in winners.select("candidate_id", "blob_sha").iter_rows()
            if sha is not None and prev_blobs.get((movie_id, cid), ("",))[0] != sha]


@dataclass
class _Views:
    """The report's views of the batch's selection, per movie, made with a few polars operations over the whole
    batch: made per movie (five filters and sorts each) they were half of a re-score's persist stage."""

    chosen: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # winners by type, selected rank
    top: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # the best 5 by type and rank
    duplicates: dict[int, list[tuple[str, str, str]]] = field(default_factory=dict)
    failed: dict[int, int] = field(default_factory=dict)
    candidates: dict[int, int] = field(default_factory=dict)


def _views(selected: pl.DataFrame) -> _Views:
    views = _Views()
    if not selected.height:
        return views
    for row in selected.filter(pl.col("selected_rank").is_not_null()).sort(
            ["movie_id", "type", "selected_rank"], maintain_order=True).iter_rows(named=True):
        views.chosen.setdefault(row["movie_id"], []).append(row)
    declared = [c for c in ("declared_width", "declared_height") if c in selected.columns]
    for row in selected.filter(pl.col("rank") <= 5).sort(["movie_id", "type", "rank"], maintain_order=True).select(
            "movie_id", "type", "rank", "candidate_id", "provider", "language", "width", "height", *declared, "score",
            *(f"s_{p}" for p in PARTS), "gate", "selected_rank").iter_rows(named=True):
        views.top.setdefault(row.pop("movie_id"), []).append(row)
    for movie_id, kind, cid, of in selected.filter(pl.col("duplicate_of").is_not_null()).select(
            "movie_id", "type", "candidate_id", "duplicate_of").iter_rows():
        views.duplicates.setdefault(movie_id, []).append((kind, cid, of))
    failed = pl.col("gate").str.starts_with("unreadable") | pl.col("gate").str.starts_with("original")
    for movie_id, total, bad in selected.group_by("movie_id").agg(pl.len(), failed.sum()).iter_rows():
        views.candidates[movie_id], views.failed[movie_id] = total, bad
    return views


def _describe(m: MovieRecord, views: _Views, batch: Batch, actors: list[Actor], status: str,
              selection_changed: bool) -> MovieEnrichment:
    assert m.id is not None and m.partition_key is not None
    chosen = []
    for row in views.chosen.get(m.id, []):
        info = batch.blob_info.get(row["blob_sha"] or "")
        chosen.append(ChosenArt(row["type"], row["selected_rank"], row["candidate_id"], row["provider"],
                                row["language"], row["width"] or 0, row["height"] or 0, row["score"],
                                {p: round(row[f"s_{p}"], 3) for p in PARTS}, row["blob_sha"],
                                info.ext if info is not None else ext_of(row["url"])))
    without = sum(1 for a in actors if not batch.people.get(a.person_id, {}).get("blob_sha"))
    return MovieEnrichment(m.partition_key, m.id, status, "", tuple(chosen), tuple(views.top.get(m.id, ())),
                           tuple(views.duplicates.get(m.id, ())), views.failed.get(m.id, 0),
                           views.candidates.get(m.id, 0), len(actors), without, selection_changed)
