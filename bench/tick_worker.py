"""The ``ticks`` step's measurements, inside a worker process (``python -m bench.worker``, plan ``ticks-*``).

Each measurement returns its own ``seconds`` (the definitions and the instance are loaded before the clock
starts, as in a running daemon or webserver) and what it answered. Dagster is imported only here and in
``bench.worker``. See ``bench.ticks`` for what is measured and why.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import ROOT

if TYPE_CHECKING:
    import dagster as dg

PARTITION_STATUS_QUERY = """
query PartitionStatus($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNotFoundError { message }
    ... on AssetNode {
      partitionStats { numMaterialized numFailed numMaterializing numPartitions }
      assetPartitionStatuses {
        __typename
        ... on DefaultPartitionStatuses {
          materializedPartitions failedPartitions unmaterializedPartitions materializingPartitions
        }
      }
    }
  }
}
"""
"""What the UI's asset page asks for a partitioned asset: the counts and every partition's status."""


def _requests_of(result: Any) -> tuple[int, str]:
    """(run requests, skip reason) of a schedule's or sensor's evaluation."""
    if isinstance(result, list):
        return len(result), ""
    requests = getattr(result, "run_requests", None) or []
    reason = getattr(result, "skip_message", None) or getattr(result, "skip_reason", None) or ""
    return len(requests), str(getattr(reason, "skip_message", reason) or "")


def schedule_tick(instance: dg.DagsterInstance, resources: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    import dagster as dg

    from dagster_project.definitions import enrich_schedule

    started = time.perf_counter()
    result = enrich_schedule.evaluate_tick(dg.build_schedule_context(
        instance=instance, resources=resources, scheduled_execution_time=dt.datetime.now()))
    seconds = time.perf_counter() - started
    requests, reason = _requests_of(result)
    return {"seconds": round(seconds, 3), "run_requests": requests, "skip_reason": reason}


def _sensor_tick(name: str, instance: dg.DagsterInstance, resources: dict[str, Any]) -> dict[str, Any]:
    import dagster as dg

    from dagster_project import definitions

    sensor = {"auto_publish_sensor": definitions.auto_publish_sensor,
              "config_change_sensor": definitions.config_change_sensor}[name]
    started = time.perf_counter()
    result = sensor(dg.build_sensor_context(instance=instance, resources=resources))
    seconds = time.perf_counter() - started
    requests, reason = _requests_of(result)
    return {"seconds": round(seconds, 3), "run_requests": requests, "skip_reason": reason, "sensor": sensor.name}


def partition_status(instance: dg.DagsterInstance, resources: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """The GraphQL query in process: a workspace holding the project's Definitions (loaded in this process, not
    through a code server) on the bench's instance, then the query, timed apart from the workspace's load."""
    from dagster._core.test_utils import in_process_test_workspace
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster_graphql.test.utils import execute_dagster_graphql

    origin = LoadableTargetOrigin(executable_path=sys.executable, module_name="dagster_project.definitions",
                                  attribute="defs", working_directory=str(ROOT))
    started = time.perf_counter()
    with in_process_test_workspace(instance, origin) as context:
        loaded = time.perf_counter()
        variables = {"assetKey": {"path": [plan["asset"]]}}
        answer = execute_dagster_graphql(context, PARTITION_STATUS_QUERY, variables).data["assetNodeOrError"]
        queried = time.perf_counter()
        execute_dagster_graphql(context, PARTITION_STATUS_QUERY, variables)
        repeated = time.perf_counter() - queried
    statuses = answer.get("assetPartitionStatuses") or {}
    return {"seconds": round(queried - loaded, 3), "repeat_s": round(repeated, 3),
            "workspace_load_s": round(loaded - started, 3), "asset": plan["asset"],
            "typename": answer["__typename"], "message": answer.get("message", ""),
            "partition_stats": answer.get("partitionStats"),
            "materialized_listed": len(statuses.get("materializedPartitions") or []),
            "failed_listed": len(statuses.get("failedPartitions") or []),
            "answer_bytes": len(json.dumps(answer))}


def review_listing(instance: dg.DagsterInstance, resources: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """The review page's library on the bench's state: first page, a filter, a search for a word of a real title."""
    from bench.review_page import measure

    movies = resources["metarr"].store().movies()
    word = next((w for m in movies for w in (m.title or "").split() if len(w) > 3), "movie")
    pages = {"library": "/", "needs review": "/?state=needs_review", "search": f"/?q={word}"}
    started = time.perf_counter()
    results = measure(Path(os.environ["METARR_CONFIG"]), plan.get("rounds", 10), pages)
    return {"seconds": round(time.perf_counter() - started, 3), "pages": results, "search": word,
            "median_ms": max(r["median_ms"] for r in results.values())}


MEASURES: dict[str, Callable[[dg.DagsterInstance, dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "schedule": schedule_tick,
    "auto_publish_sensor": lambda i, r, _: _sensor_tick("auto_publish_sensor", i, r),
    "config_change_sensor": lambda i, r, _: _sensor_tick("config_change_sensor", i, r),
    "graphql": partition_status,
    "review_page": review_listing,
}


def run_ticks(plan: dict[str, Any], out_path: str) -> int:
    import warnings

    import dagster as dg

    import dagster_project.definitions  # noqa: F401  (the definitions load before anything is measured)
    from dagster_project.resources import MetarrResource

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    resources = {"metarr": MetarrResource()}  # $METARR_CONFIG, as in the user's code location
    with dg.DagsterInstance.get() as instance:
        ticks = {name: MEASURES[name](instance, resources, plan) for name in plan["measure"]}
    Path(out_path).write_text(json.dumps({
        "runs": [], "dagster_runs_launched": 0, "ticks": ticks,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    return 0
