"""Fetching provider metadata for a batch of movies: cached, concurrent, polite, failure-isolated.

Where it sits: after the scan has identified movies (``movies`` rows with a TMDB id), before artwork
enrichment. It reads the movies and the response cache (``provider_responses``) from the store, asks TMDB
and fanart.tv through the session, and writes new responses plus merged ``movie_metadata`` rows.

:func:`fetch_metadata` runs four named stages; each is public so it can be run and tested alone:

1. :mod:`.plan`: which movies, and which of their answers the cache still holds (TTL, ``force``);
2. :mod:`.responses`: the remaining requests on a thread pool (plus one per distinct collection);
   failures stay with their movie, a rejected TMDB key stops the batch;
3. :mod:`.merge`: answers into each movie's metadata, respecting locks; failed movies keep their data;
4. :mod:`.persist`: one store write for the whole batch.

:mod:`.outcome` holds what the caller gets back; :mod:`.run` strings the stages together.
"""

from metarr_pipeline.providers.fetch.merge import Merged, merge_fetched
from metarr_pipeline.providers.fetch.outcome import FetchOutcome, FetchReport
from metarr_pipeline.providers.fetch.persist import persist_fetched
from metarr_pipeline.providers.fetch.plan import (
    FetchPlan,
    PlannedMovie,
    is_fresh,
    plan_collections,
    plan_fetch,
    tmdb_key,
)
from metarr_pipeline.providers.fetch.responses import Fetched, MovieFetch, fetch_planned
from metarr_pipeline.providers.fetch.run import fetch_metadata

__all__ = [
    "FetchOutcome",
    "FetchPlan",
    "FetchReport",
    "Fetched",
    "Merged",
    "MovieFetch",
    "PlannedMovie",
    "fetch_metadata",
    "fetch_planned",
    "is_fresh",
    "merge_fetched",
    "persist_fetched",
    "plan_collections",
    "plan_fetch",
    "tmdb_key",
]
