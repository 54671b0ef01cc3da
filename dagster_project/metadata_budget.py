"""Which partitions of a batched run get their own metadata.

``context.add_asset_metadata(..., partition_key=...)`` costs a few milliseconds per call in Dagster 1.13 (it
lists the run's partition range from the instance every time), so a 1,000-movie run that described every
partition of every asset spent minutes on it. A small run (a user's selection in the UI, the review case) still
describes every partition; a library-wide run describes the movies that failed (always) and those whose result
changed (up to a cap); the run's own metadata counts everything and lists the failures.
"""

from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg

SMALL_RUN = 50
"""A run of at most this many partitions describes all of them."""

MAX_DESCRIBED = 100
"""A larger run describes at most this many changed movies (failures come on top, always)."""


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
    from dagster_project.assets.scan import markdown_table

    return {"failures": dg.MetadataValue.md(markdown_table(
        ("movie", "error"), [(m.partition_key, m.error) for m in failures[:limit]]))}
