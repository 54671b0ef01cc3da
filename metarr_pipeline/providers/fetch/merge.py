"""Stage 3, merge: each movie's answers into its metadata, field by field, respecting locks.

A pure step (no I/O) so that what a fetch does to a movie's metadata can be tested on its own. The rules
per field are :mod:`metarr_pipeline.metadata.merge`'s ("fill gaps, don't erase"). A movie whose fetch
failed keeps its previous metadata untouched, with the error and time recorded beside it. A row that
would not change is not rewritten, so a no-change refresh leaves the store as it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from metarr_pipeline.metadata.fields import from_tmdb
from metarr_pipeline.metadata.merge import locked_fields, merge
from metarr_pipeline.providers.fetch.outcome import FetchOutcome
from metarr_pipeline.providers.fetch.responses import Fetched, MovieFetch
from metarr_pipeline.store import MetadataRow, ProviderResponse


@dataclass(frozen=True)
class Merged:
    rows: tuple[MetadataRow, ...]  # only the rows that change
    outcomes: tuple[FetchOutcome, ...]  # one per movie, in the batch's order


def merge_fetched(fetched: Fetched, previous: Mapping[int, MetadataRow]) -> Merged:
    """Every movie's new metadata row (when it changes) and outcome; ``previous`` is the stored rows by movie id."""
    rows: list[MetadataRow] = []
    outcomes: list[FetchOutcome] = []
    for w in fetched.movies:
        m = w.movie
        assert m.id is not None and m.partition_key is not None
        prior = previous.get(m.id)
        if w.error or w.tmdb is None:
            error = w.error or "no TMDB data"
            rows.append(failed_row(m.id, prior, error, fetched.now))
            outcomes.append(FetchOutcome(m.partition_key, "failed", error, warnings=tuple(w.warnings)))
            continue
        row, changed = merged_row(w, w.tmdb, prior, fetched.collections, fetched.now)
        if row is not None:
            rows.append(row)
        outcomes.append(FetchOutcome(m.partition_key, "fetched" if w.fresh else "cached", "", changed,
                                     tuple(w.warnings)))
    return Merged(tuple(rows), tuple(outcomes))


def failed_row(movie_id: int, prior: MetadataRow | None, error: str, now: datetime) -> MetadataRow:
    """The previous metadata kept as it was, with the failure recorded (a provider hiccup never erases data)."""
    return MetadataRow(
        movie_id=movie_id, fields_json=prior.fields_json if prior else "{}",
        decisions_json=prior.decisions_json if prior else "{}", tmdb_id=prior.tmdb_id if prior else None,
        fetched_at=prior.fetched_at if prior else None, merged_at=prior.merged_at if prior else None,
        fetch_error=error, failed_at=now)


def merged_row(
    w: MovieFetch,
    tmdb: ProviderResponse,
    prior: MetadataRow | None,
    collections: Mapping[int, ProviderResponse | None],
    now: datetime,
) -> tuple[MetadataRow | None, tuple[str, ...]]:
    """The movie's merged row (``None`` when nothing would change) and the fields the merge changed."""
    m = w.movie
    assert m.id is not None
    body = json.loads(tmdb.body or "{}")
    collection = collections.get(body.get("belongs_to_collection", {}).get("id")) \
        if body.get("belongs_to_collection") else None
    new_fields = from_tmdb(body, json.loads(collection.body) if collection and collection.body else None)
    base = prior.fields() if prior and prior.fields_json != "{}" else m.nfo().get("fields", {})
    result = merge(base, new_fields, locked_fields(m.lockdata, m.locked_fields))
    fields_json = json.dumps(result.fields, ensure_ascii=False, sort_keys=True)
    changed = tuple(result.changed) if prior is None or prior.fields_json != fields_json else ()
    unchanged = (prior is not None and prior.fields_json == fields_json and prior.fetch_error == ""
                 and prior.tmdb_id == body.get("id") and prior.fetched_at == tmdb.fetched_at)
    if unchanged:
        return None, changed
    decisions_json = json.dumps(result.decisions, sort_keys=True)
    # A refetch that brings the same content records when it was fetched (the TTL counts from it) but keeps
    # ``merged_at``: the metadata did not change, so the movie does not become outdated for publishing.
    same = (prior is not None and prior.fields_json == fields_json and prior.tmdb_id == body.get("id")
            and prior.merged_at is not None)
    merged_at = prior.merged_at if same and prior is not None else now
    return MetadataRow(m.id, fields_json, decisions_json, body.get("id"), tmdb.fetched_at, merged_at, "",
                       None), changed
