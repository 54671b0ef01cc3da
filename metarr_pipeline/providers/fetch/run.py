"""One fetch run: the four stages in order, then the rating sources (``providers.ratings``), timed and counted,
with a rejected key raised at the end.

The key is raised only after persisting, so a run that a bad key stops still keeps what it fetched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import ProviderAuthError
from metarr_pipeline.providers.fetch.merge import merge_fetched
from metarr_pipeline.providers.fetch.outcome import FetchReport, request_counts
from metarr_pipeline.providers.fetch.persist import persist_fetched
from metarr_pipeline.providers.fetch.plan import plan_fetch
from metarr_pipeline.providers.fetch.responses import MovieFetch, fetch_planned
from metarr_pipeline.providers.ratings import refresh_ratings
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import Store

log = logging.getLogger(__name__)


def fetch_metadata(
    settings: Settings,
    store: Store,
    session: ProviderSession,
    partition_keys: Sequence[str] | None = None,
    *,
    force: bool = False,
    now: datetime | None = None,
    on_answers: Callable[[MovieFetch], None] | None = None,
) -> FetchReport:
    """Fetch, merge and store the metadata of the batch's movies (all identified movies without keys).
    ``on_answers``: see :func:`.responses.fetch_planned`."""
    started = time.perf_counter()
    before = session.fetcher.stats.snapshot()
    plan = plan_fetch(settings, store, partition_keys, force=force, now=now)
    fetched = fetch_planned(plan, session, store, on_answers)
    merged = merge_fetched(fetched, store.movie_metadata(plan.movie_ids))
    persist_fetched(store, fetched, merged)
    ratings = refresh_ratings(settings, store, session, plan.movie_ids, plan.now)
    auth_error = fetched.auth_errors[0] if fetched.auth_errors else ""
    report = FetchReport(merged.outcomes, request_counts(before, session.fetcher.stats.snapshot()),
                         fetched.cache_hits, time.perf_counter() - started, auth_error, ratings)
    log.info("provider fetch: %s", report.summary())
    if auth_error:
        raise ProviderAuthError(auth_error)
    return report
