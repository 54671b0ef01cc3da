"""What a step reports to Dagster: its metadata tables, which partitions get their own, and its failure.

Every asset shows the same kinds of numbers the same way, so the helpers live together:

- ``markdown_table``: the tables of the UI's metadata panel (problems, chosen artwork, files written, players).
- ``partitions_to_describe``: ``context.add_asset_metadata(..., partition_key=...)`` costs a few milliseconds
  per call in Dagster 1.13 (it lists the run's partition range from the instance every time), so a
  1,000-movie run that described every partition of every asset spent minutes on it. A small run (a user's
  selection in the UI, the review case) still describes every partition; a library-wide run describes the
  movies that failed (always) and those whose result changed (up to a cap); the run's own metadata counts
  everything and lists the failures (``failures_metadata``).
- ``raise_for``: the one place that turns domain errors into Dagster outcomes. Transient trouble (the state
  database held by another process past our wait, a provider still failing after its own bounded retries)
  asks Dagster to retry the step later with backoff; everything else is a ``Failure`` whose description is
  the domain's readable message (never a traceback, never a credential).
"""

from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import dagster as dg

from metarr_pipeline.errors import MetarrError, ProviderUnavailable, StoreBusyError

SMALL_RUN = 50
"""A run of at most this many partitions describes all of them."""

MAX_DESCRIBED = 100
"""A larger run describes at most this many changed movies (failures come on top, always)."""

TRANSIENT = (StoreBusyError, ProviderUnavailable)
"""Errors worth a retry of the whole step later, rather than a failed run."""


def markdown_table(headers: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def partitions_to_describe(keys: Sequence[str], changed: Iterable[str], failed: Iterable[str]) -> set[str]:
    if len(keys) <= SMALL_RUN:
        return set(keys)
    chosen = set(failed)
    budget = MAX_DESCRIBED
    for key in changed:
        if budget <= 0:
            break
        if key not in chosen:
            chosen.add(key)
            budget -= 1
    return chosen


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
