"""Stage 5, cache headshots: each actor's TMDB profile picture into the blob store, once per person.

People are shared across movies, so a headshot is downloaded once however many movies the actor plays in,
and kept while the person's name and profile path are unchanged and the blob is still on disk (looked up under
the format it was stored as, whatever the URL says), or while a recorded failure that is a fact (a 404, an
unreadable format) still stands. A failure a retry could change (``blobs.faults``) never replaces a stored
person (its good blob reference stays), is not stored for a new one, and is tried again next run; it counts
as a fault of the movies the person plays in, which keep their last good result. The runner starts this
stage beside the scoring and the originals (network waits beside the originals' decoding); it touches only its
own fields of the batch.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import polars as pl

from metarr_pipeline.artwork.actors import Actor
from metarr_pipeline.artwork.enrich.batch import Batch, ext_of
from metarr_pipeline.artwork.enrich.images import ImageResult
from metarr_pipeline.blobs import reads_transient
from metarr_pipeline.store import PersonRow

HEADSHOT_SIZE = "h632"
_PEOPLE = {"person_id": pl.Int64, "name": pl.String, "profile_path": pl.String, "thumb_url": pl.String,
           "blob_sha": pl.String, "error": pl.String, "updated_at": pl.Datetime("us")}


def cache_headshots(batch: Batch) -> None:
    """Fill ``people`` (person → people row, ``_changed`` when it must be written) and ``headshot_blobs``."""
    persons: dict[int, Actor] = {}
    movies_of: dict[int, list[int]] = {}
    for movie_id, actors in batch.cast.items():
        for a in actors:
            persons.setdefault(a.person_id, a)
            movies_of.setdefault(a.person_id, []).append(movie_id)
    known = batch.store.people(sorted(persons))
    rows, todo = _plan(batch, persons, known)
    wanted: dict[str, list[Actor]] = {}
    for a in todo:
        wanted.setdefault(rows[a.person_id]["thumb_url"], []).append(a)
    for url, result in batch.images.download(list(wanted), "headshot").items():
        for a in wanted[url]:
            _take(batch, a, result, rows, known.get(a.person_id), movies_of[a.person_id])
    batch.people = rows


def _take(batch: Batch, a: Actor, result: ImageResult, rows: dict[int, dict[str, Any]], prior: PersonRow | None,
          movies: list[int]) -> None:
    """One actor's headshot download into its row; a failed one keeps a good stored reference."""
    if not result.ok:
        reason = f"headshot unavailable: {result.error[:200]}"
        if prior is not None and (prior.blob_sha or result.transient):
            rows[a.person_id] = {**asdict(prior), "_changed": False}  # the good reference stays
        else:
            rows[a.person_id].update(error=reason, _changed=not result.transient)
        if result.transient:
            batch.fault(movies, f"{reason} ({a.name})")
        return
    batch.bump("headshots_downloaded")
    batch.bump("bytes_downloaded", result.value["bytes"])
    rows[a.person_id]["blob_sha"] = result.value["sha256"]
    batch.headshot_blobs.append(result.value)


def _plan(batch: Batch, persons: dict[int, Actor],
          known: dict[int, PersonRow]) -> tuple[dict[int, dict[str, Any]], list[Actor]]:
    """Each person's row (the stored one when still good) and the actors whose headshot must be fetched."""
    exts = {sha: row.ext for sha, row in
            batch.store.blob_rows(sorted({p.blob_sha for p in known.values() if p.blob_sha})).items()}
    rows: dict[int, dict[str, Any]] = {}
    todo: list[Actor] = []
    for pid, a in persons.items():
        prior = known.get(pid)
        thumb = f"{batch.image_base}/{HEADSHOT_SIZE}{a.profile_path}" if a.profile_path else ""
        if prior and prior.profile_path == a.profile_path and prior.name == a.name and (
                not a.profile_path
                or (prior.blob_sha and batch.blobs.has(prior.blob_sha,
                                                       exts.get(prior.blob_sha) or ext_of(thumb)))
                or (prior.error and not prior.blob_sha and not reads_transient(prior.error))):
            rows[pid] = {**asdict(prior), "_changed": False}
            batch.bump("headshots_reused", 1 if prior.blob_sha else 0)
            continue
        rows[pid] = {"person_id": pid, "name": a.name, "profile_path": a.profile_path, "thumb_url": thumb,
                     "blob_sha": None, "error": "" if a.profile_path else "no headshot on TMDB",
                     "updated_at": batch.now, "_changed": True}
        if a.profile_path:
            todo.append(a)
    return rows, todo


def people_frame(rows: dict[int, dict[str, Any]], changed: bool) -> pl.DataFrame | None:
    """The ``people`` rows to write (``changed=True``), without the bookkeeping column."""
    items = [{k: v for k, v in r.items() if k != "_changed"} for r in rows.values() if r.get("_changed") == changed]
    if not items:
        return None
    return pl.DataFrame(items, schema=_PEOPLE, orient="row")
