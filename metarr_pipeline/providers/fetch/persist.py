"""Stage 4, persist: the run's new answers and changed metadata rows in one store write.

One short write transaction per batch, after all network work is done with no connection open: DuckDB
allows one writer per file, and Dagster runs steps in separate processes (ARCHITECTURE, "State").
"""

from __future__ import annotations

from metarr_pipeline.providers.fetch.merge import Merged
from metarr_pipeline.providers.fetch.responses import Fetched
from metarr_pipeline.store import Store


def persist_fetched(store: Store, fetched: Fetched, merged: Merged) -> None:
    store.save_fetch(fetched.new_responses(), list(merged.rows))
