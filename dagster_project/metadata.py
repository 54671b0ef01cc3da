"""What a step reports to Dagster: its metadata tables and its failure.

Every asset shows the same kinds of numbers the same way, so the helpers live together:

- ``markdown_table``: the tables of the UI's metadata panel (problems, chosen artwork, files written, players).
- ``review_page``: the link from a movie's partition to its review page (``metarr review``).
- ``failures_metadata``: the run's list of the movies that failed (run totals, see ``step_metadata``).
- ``raise_for``: the one place that turns domain errors into Dagster outcomes. Transient trouble (the state
  database held by another process past our wait, a provider still failing after its own bounded retries)
  asks Dagster to retry the step later with backoff; everything else is a ``Failure`` whose description is
  the domain's readable message (never a traceback, never a credential).
"""

from collections.abc import Sequence
from typing import Any, NoReturn

import dagster as dg

from dagster_project.run_tags import REVIEW_PAGE_URL
from metarr_pipeline.errors import MetarrError, ProviderUnavailable, StoreBusyError

TRANSIENT = (StoreBusyError, ProviderUnavailable)
"""Errors worth a retry of the whole step later, rather than a failed run."""


def markdown_table(headers: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def review_page(partition_key: str) -> dg.UrlMetadataValue:
    """The movie's page on the review app (its ``/key/`` route finds a movie by partition key)."""
    return dg.MetadataValue.url(f"{REVIEW_PAGE_URL}/key/{partition_key}")


def failures_metadata(failures: Sequence[Any], limit: int = 200) -> dict[str, dg.MetadataValue]:
    """The run-level list of the movies that failed (``partition_key``, ``error``), or nothing when none did."""
    if not failures:
        return {}
    return {"failures": dg.MetadataValue.md(markdown_table(
        ("movie", "error"), [(m.partition_key, m.error) for m in failures[:limit]]))}


def raise_for(exc: MetarrError, context: dg.AssetExecutionContext | None = None) -> NoReturn:
    if isinstance(exc, TRANSIENT):
        attempt = context.retry_number if context is not None else 0
        raise dg.RetryRequested(max_retries=3, seconds_to_wait=min(300, 30 * 2**attempt)) from exc
    raise dg.Failure(description=str(exc)) from exc
