"""Where a batched step's numbers go: each movie's own on its partition, the batch's totals on the run.

A step runs many movies (one run over a range of ``movies`` partitions). Dagster copies a step's output
metadata (``MaterializeResult(metadata=...)``) onto every partition's materialisation, so batch totals put
there would show on each movie's page as if they were that movie's. So:

- ``PartitionMetadata`` collects each movie's own numbers and attaches them to that movie's partition only.
  Dagster's public call for it, ``context.add_asset_metadata(..., partition_key=...)``, lists the run's whole
  partition range from the instance on every call to check the key (and copies everything added so far), so
  describing each of n movies costs O(n × partitions in the instance): a 300-movie run spent half a minute in
  it. ``attach`` checks the keys against the run's partition keys once and hands the whole batch to the step
  in one update of Dagster's per-step metadata (its ``OutputMetadataAccumulator``, the same structure the
  public call fills); the materialisation events Dagster then writes are the ones the public call would give.
  Should a Dagster upgrade move that structure, ``attach`` falls back to the public call: slower, never wrong
  (``FAST_PATH`` says which one is in use; ``tests/test_step_metadata.py`` pins it).
- ``log_materializations`` records materialisations of *other* assets' partitions from inside a step (the scan
  materialises each new or changed movie's ``scanned_movie``) as one batch: ``context.log_event`` writes each on
  its own (one INSERT per event: 15 ms each on PostgreSQL, 2.5 minutes for a 10,000-movie first scan), while
  Dagster batches a step's own partitioned outputs (``DAGSTER_EVENT_BATCH_SIZE``). It tags the events with the same
  batch metadata Dagster's output events carry (``DagsterEventBatchMetadata``), so the instance writes them in
  batches when batching is on and one by one when it is off, as before. ``BATCHED_EVENTS`` says whether the
  private names are there; without them it is ``context.log_event`` again (pinned by tests/test_step_metadata.py).
- ``report_run_totals`` records the totals once per run: an ``AssetObservation`` of the asset without a
  partition (shown in the run's event log and the asset's event list, never on a movie's partition) and a
  log line. ``bench/worker.py`` reads them from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

try:  # Dagster's per-step metadata store (the one add_asset_metadata fills); see the module docstring
    from dagster._core.execution.context.metadata_logging import AssetMetadataHandle, OutputMetadataAccumulator

    FAST_PATH = True
except ImportError:  # pragma: no cover - only after a Dagster upgrade moved it
    FAST_PATH = False

try:  # how Dagster tags a step's partitioned output events for batched writes; see the module docstring
    from dagster._core.events import DagsterEvent, DagsterEventBatchMetadata, generate_event_batch_id

    BATCHED_EVENTS = True
except ImportError:  # pragma: no cover - only after a Dagster upgrade moved them
    BATCHED_EVENTS = False


class PartitionMetadata:
    """Each movie's own metadata for one step, attached to its partition in one pass (``attach``)."""

    def __init__(self, context: dg.AssetExecutionContext) -> None:
        self._context = context
        self._default = context.assets_def.key if len(context.assets_def.keys) == 1 else None
        self._by: dict[tuple[dg.AssetKey, str], dict[str, Any]] = {}

    def add(self, partition_key: str, metadata: Mapping[str, Any], asset_key: dg.AssetKey | None = None) -> None:
        key = asset_key or self._default
        if key is None:
            raise ValueError("a multi-asset step must name the asset its partition metadata is for")
        self._by.setdefault((key, partition_key), {}).update(metadata)

    def __len__(self) -> int:
        return len({partition for _, partition in self._by})

    def attach(self) -> None:
        """Hand every movie's metadata to Dagster; call before the step yields its results."""
        if not self._by:
            return
        targeted = set(self._context.partition_keys)
        stray = sorted({p for _, p in self._by if p not in targeted})
        if stray:
            raise dg.DagsterInvariantViolationError(
                f"partition metadata for movies this run does not target: {', '.join(stray[:10])}")
        step = getattr(self._context.op_execution_context, "_step_execution_context", None)
        current = getattr(step, "_metadata_accumulator", None)
        if FAST_PATH and isinstance(current, OutputMetadataAccumulator):
            merged = dict(current.per_output_metadata)
            for (asset, partition), metadata in self._by.items():
                handle = AssetMetadataHandle(asset_key=asset, partition_key=partition)
                merged[handle] = {**merged.get(handle, {}), **metadata}
            step._metadata_accumulator = OutputMetadataAccumulator(per_output_metadata=merged)  # type: ignore[union-attr]
        else:  # pragma: no cover - the public call: O(n²), correct
            for (asset, partition), metadata in self._by.items():
                self._context.add_asset_metadata(metadata, asset_key=asset, partition_key=partition)
        self._by.clear()


def report_run_totals(context: dg.AssetExecutionContext, metadata: Mapping[str, Any],
                      asset_key: dg.AssetKey | None = None) -> None:
    """The batch's totals, once for the run (never on a movie's partition)."""
    key = asset_key or context.assets_def.key
    movies = len(context.partition_keys) if context.has_partition_key_range or context.has_partition_key else 0
    context.log_event(dg.AssetObservation(
        asset_key=key, metadata=dict(metadata),
        description=f"Totals of run {context.run.run_id[:8]} over {movies} partitions (each movie's or set's own "
                    "numbers are on its partition)."))
    plain = {k: v for k, v in metadata.items() if isinstance(v, int | float | str) and not isinstance(v, bool)
             and (not isinstance(v, str) or len(v) < 80)}
    context.log.info("%s totals: %s", key.to_user_string(), ", ".join(f"{k} {v}" for k, v in plain.items()))


def log_materializations(context: dg.AssetExecutionContext, materializations: Sequence[dg.AssetMaterialization]
                         ) -> None:
    """``context.log_event`` for each, written as one batch of events (see the module docstring)."""
    op = context.op_execution_context
    step = getattr(op, "_step_execution_context", None)
    events = getattr(op, "_events", None)
    if not (BATCHED_EVENTS and step is not None and isinstance(events, list)):  # pragma: no cover - upgrade
        for materialization in materializations:
            context.log_event(materialization)
        return
    batch_id = generate_event_batch_id()
    last = len(materializations) - 1
    for i, materialization in enumerate(materializations):  # what log_event does, with the batch's tag
        events.append(DagsterEvent.asset_materialization(step, materialization,
                                                         DagsterEventBatchMetadata(batch_id, i == last)))
