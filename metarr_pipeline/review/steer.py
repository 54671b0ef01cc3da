"""The review page's levers: the same artwork choices as ``metarr art``, then the selection made again.

A pick, reject, lock or unlock is recorded by :func:`metarr_pipeline.artwork.choices.record` (what ``metarr art``
calls), then the movie is re-enriched the way ``metarr art pick`` + ``metarr enrich KEY`` does it: the provider
data comes from the cache (fresh within its TTL: no request), the analysis from the analysis cache, and the
selection is recomputed with the choice applied. Originals of a new winner are not downloaded here (the
offline re-score of a backfill): publishing fetches and verifies them, so a click costs no image download.
A manual identification is followed by the same fetch and enrichment, so the movie arrives ready to review.
"""

from __future__ import annotations

from metarr_pipeline.artwork.choices import record
from metarr_pipeline.artwork.enrich import EnrichReport, enrich_movies
from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import Store

ACTIONS = ("pick", "reject", "lock", "unlock")


def steer(settings: Settings, store: Store, session: ProviderSession, key: str, kind: str,
          candidate_id: str | None, action: str) -> EnrichReport:
    """Record one choice and re-select the movie's artwork; raises ``ChoiceError`` for an unknown movie, type
    or candidate, and :class:`MetarrError` when the re-selection failed (the choice itself stays recorded)."""
    if action not in ACTIONS:
        raise MetarrError(f"unknown artwork action '{action}' (known: {', '.join(ACTIONS)})")
    record(store, key, kind, candidate_id if action in ("pick", "reject") else None, action)
    return reselect(settings, store, session, key)


def reselect(settings: Settings, store: Store, session: ProviderSession, key: str) -> EnrichReport:
    fetch_metadata(settings, store, session, [key])
    report = enrich_movies(settings, store, session, [key], download_originals=False)
    if report.failures:
        raise MetarrError(f"{key}: the selection could not be made again: {report.failures[0].error}")
    return report
