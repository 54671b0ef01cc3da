"""``refresh_ratings``: every configured source over a batch, their ratings merged into each movie's metadata.

Sources run in the configured order; for a rating name two sources both give, the first one's is used. The new
ratings merge per name into what the movie has (a rating from the user's NFO, or from a source that did not
answer today, is kept), a movie whose ratings are locked is left alone, and only the rows that change are
written, in one store write together with the new OMDb answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from metarr_pipeline.config import Settings
from metarr_pipeline.metadata.merge import locked_fields
from metarr_pipeline.providers.ratings.imdb_dataset import ImdbDataset
from metarr_pipeline.providers.ratings.omdb import OmdbRatings
from metarr_pipeline.providers.ratings.source import Rating, RatingQuery, RatingSource, SourceAnswer, TmdbRatings
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import MetadataRow, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RatingsReport:
    found: dict[str, int] = field(default_factory=dict)  # source → movies it rated
    requests: dict[str, int] = field(default_factory=dict)  # source → requests made
    updated: int = 0  # movies whose ratings changed
    notes: tuple[str, ...] = ()

    def summary(self) -> dict[str, object]:
        return {"rated_by": self.found, "requests": self.requests, "updated": self.updated,
                "notes": list(self.notes)}


def open_sources(settings: Settings, store: Store, session: ProviderSession, now: datetime) -> list[RatingSource]:
    urls = session.ratings_urls
    made: dict[str, RatingSource] = {
        "tmdb": TmdbRatings(),
        "imdb_dataset": ImdbDataset(settings, store, session.fetcher, now, urls.get("imdb_dataset", "")),
        "omdb": OmdbRatings(settings, store, session.fetcher, session.omdb_api_key, now,
                            urls.get("omdb", "")),
    }
    return [made[name] for name in settings.ratings.sources]


def _queries(store: Store, movie_ids: Sequence[int]) -> tuple[list[RatingQuery], dict[int, MetadataRow]]:
    rows = store.movie_metadata(list(movie_ids))
    locked = {m.id for m in store.movies(include_gone=False)
              if m.id in rows and "ratings" in locked_fields(m.lockdata, m.locked_fields)}
    queries = []
    for movie_id, row in sorted(rows.items()):
        if movie_id in locked or row.fields_json == "{}":
            continue
        fields = row.fields()
        queries.append(RatingQuery(movie_id, str(fields.get("imdb_id") or ""), fields))
    return queries, rows


def refresh_ratings(settings: Settings, store: Store, session: ProviderSession, movie_ids: Sequence[int],
                    now: datetime) -> RatingsReport:
    """Ask every configured source about the movies, and store the ratings that changed."""
    queries, rows = _queries(store, movie_ids)
    if not queries:
        return RatingsReport()
    combined: dict[int, dict[str, Rating]] = {}
    found: dict[str, int] = {}
    requests: dict[str, int] = {}
    notes: list[str] = []
    omdb_responses = []
    for source in open_sources(settings, store, session, now):
        answer: SourceAnswer = source.ratings(queries)
        found[source.name], requests[source.name] = len(answer.ratings), answer.requests
        notes.extend(answer.notes)
        for movie_id, ratings in answer.ratings.items():
            for name, value in ratings.items():
                combined.setdefault(movie_id, {}).setdefault(name, value)  # the first source's wins
        if isinstance(source, OmdbRatings):
            omdb_responses = source.responses
    changed = []
    for movie_id, ratings in combined.items():
        fields = rows[movie_id].fields()
        merged = {**(fields.get("ratings") or {}), **ratings}
        if merged != fields.get("ratings"):
            fields["ratings"] = merged
            changed.append(replace(rows[movie_id], fields_json=json.dumps(fields, ensure_ascii=False, sort_keys=True),
                                   merged_at=now))
    store.save_fetch(omdb_responses, changed)
    report = RatingsReport(found, requests, len(changed), tuple(notes))
    log.info("ratings: %s", report.summary())
    return report
