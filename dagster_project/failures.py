"""The one place that turns domain errors into Dagster outcomes.

Transient trouble (the state database held by another process past our wait, a provider still failing after
its own bounded retries) asks Dagster to retry the step later with backoff; everything else is a ``Failure``
whose description is the domain's readable message (never a traceback, never a credential).
"""

from typing import NoReturn

import dagster as dg

from metarr_pipeline.errors import MetarrError, ProviderUnavailable, StoreBusyError

TRANSIENT = (StoreBusyError, ProviderUnavailable)


def raise_for(exc: MetarrError, context: dg.AssetExecutionContext | None = None) -> NoReturn:
    if isinstance(exc, TRANSIENT):
        attempt = context.retry_number if context is not None else 0
        raise dg.RetryRequested(max_retries=3, seconds_to_wait=min(300, 30 * 2**attempt)) from exc
    raise dg.Failure(description=str(exc)) from exc
