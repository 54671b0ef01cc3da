"""Runs inside the measured process (``python -m bench.worker PLAN OUT``); internal to the benchmark.

A stage asks the project's own schedule and sensors which runs they would launch (the nightly enrichment
schedule, the auto-publish sensor, the config-change backfill sensor), as the daemon would, and executes
each in process against the bench's on-disk instance; nothing due, no run. Per run it records wall and CPU
time, the domain's own time (each report's ``seconds``) and the assets' numeric run totals, so the driver can
tell Dagster's overhead from the domain's work. The ``analysis`` stage measures image analysis alone.
Dagster is imported only here, inside the worker, never by the driver.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dagster as dg

DOMAIN_SECONDS_OF = {"library_scan": "seconds", "provider_metadata": "seconds", "cached_artwork": "seconds",
                     "published_library_files": "seconds"}
"""asset → the metadata key that holds the domain function's own time (its report's ``seconds``)."""

COUNTED_ASSETS = ("library_scan", "provider_metadata", "artwork_candidates", "artwork_selection",
                  "cached_artwork", "actor_thumbnails", "published_library_files")
"""The assets whose numeric metadata (files written, previews analysed ...) a stage adds up."""

STAGE_OF_JOB = {"scan_library_job": "scan", "enrich_job": "enrich", "publish_job": "publish"}


def _metadata_values(materialization: Any) -> dict[str, Any]:
    out = {}
    for key, value in (materialization.metadata or {}).items():
        raw = getattr(value, "value", value)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            out[key] = raw
    return out


def requests_for(step: str, instance: dg.DagsterInstance, resources: dict[str, Any]
                 ) -> list[tuple[str, dict[str, str], int, Any]]:
    """(job, tags, partitions, asset selection) of the runs a user's automation launches for this step, asked
    of the real schedule and sensors. Nothing due → no run."""
    import dagster as dg

    from dagster_project.definitions import auto_publish_sensor, config_change_sensor, enrich_schedule
    from dagster_project.run_tags import RANGE_END, RANGE_START

    if step == "scan":
        return [("scan_library_job", {}, 0, None)]
    if step == "enrich":
        result = enrich_schedule.evaluate_tick(dg.build_schedule_context(
            instance=instance, resources=resources, scheduled_execution_time=dt.datetime.now()))
        reqs, default_job = list(result.run_requests or []), "enrich_job"
    else:
        sensor = auto_publish_sensor if step == "publish" else config_change_sensor
        result = sensor(dg.build_sensor_context(instance=instance, resources=resources))
        reqs = result if isinstance(result, list) else list(getattr(result, "run_requests", None) or [])
        default_job = "publish_job"
    keys = instance.get_dynamic_partitions("movies")
    position = {k: i for i, k in enumerate(keys)}
    return [(r.job_name or default_job, dict(r.tags),
             position[r.tags[RANGE_END]] - position[r.tags[RANGE_START]] + 1, r.asset_selection) for r in reqs]


def _per_asset_metadata(result: Any) -> dict[str, dict[str, Any]]:
    """Numeric run totals per asset. A partitioned asset reports its run's totals once, as an observation without
    a partition (each movie's partition holds that movie's numbers only); an unpartitioned asset (the scan) in its
    materialisation."""
    per_asset: dict[str, dict[str, Any]] = {}
    events = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    events += [e.event_specific_data.asset_observation for e in result.get_asset_observation_events()]
    for event in events:
        if event.partition is not None:
            continue
        totals = per_asset.setdefault(event.asset_key.to_user_string(), {})
        for k, v in _metadata_values(event).items():
            totals[k] = totals.get(k, 0) + v
    return per_asset


def run_job(instance: dg.DagsterInstance, job_name: str, tags: dict[str, str], partitions: int,
            assets: Any) -> dict[str, Any]:
    """Execute one run in process and measure it."""
    from dagster_project.definitions import defs

    job = STAGE_OF_JOB[job_name]
    job_def = defs.resolve_job_def(job_name)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    result = job_def.execute_in_process(instance=instance, tags=tags, raise_on_error=False, asset_selection=assets)
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    per_asset = _per_asset_metadata(result)
    domain = sum(per_asset.get(a, {}).get(k, 0.0) for a, k in DOMAIN_SECONDS_OF.items())
    counters: dict[str, Any] = {}
    for asset in COUNTED_ASSETS:
        for k, v in per_asset.get(asset, {}).items():
            if k != "seconds":
                counters[k] = counters.get(k, 0) + v
    print(f"{job}: {partitions} partitions, {wall:.1f} s, success={result.success}", flush=True)
    if not result.success:
        raise SystemExit(f"the {job} run failed; see the log above")
    assets = len({e.asset_key for e in result.get_asset_materialization_events()
                  if e.event_specific_data.materialization.partition is not None})
    return {"job": job, "partitions": partitions, "assets": assets, "success": result.success,
            "wall_s": round(wall, 3), "domain_s": round(domain, 3),
            "cpu_s": round(cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime, 2),
            "domain_s_by_asset": {a: per_asset.get(a, {}).get(k) for a, k in DOMAIN_SECONDS_OF.items()
                                  if a in per_asset},
            "counters": counters,
            "peak_rss_mb_so_far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_stage(plan: dict[str, Any], out_path: str) -> int:
    import warnings

    import dagster as dg

    import dagster_project.definitions  # noqa: F401  (the definitions load before anything is measured)
    from dagster_project.resources import MetarrResource

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    resources = {"metarr": MetarrResource()}  # $METARR_CONFIG, as in the user's code location
    runs = []
    profiler = None
    if plan.get("pyinstrument"):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    with dg.DagsterInstance.get() as instance:
        runs_before = instance.get_runs_count()
        for step in plan["jobs"]:
            for job_name, tags, partitions, assets in requests_for(step, instance, resources):
                runs.append(run_job(instance, job_name, tags, partitions, assets))
        launched = instance.get_runs_count() - runs_before
    if profiler is not None:
        profiler.stop()
        Path(plan["pyinstrument"]).write_text(profiler.output_text(unicode=True, color=False))
    Path(out_path).write_text(json.dumps({
        "runs": runs, "dagster_runs_launched": launched,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    return 0


def run_analysis(plan: dict[str, Any], out_path: str) -> int:
    """Image analysis alone: the previews fetched first (not timed), then analysed on one thread."""
    import httpx

    from metarr_pipeline.artwork.imaging import analyse_rendition

    with httpx.Client(timeout=30) as client:
        blobs = [client.get(url).content for url in plan["previews"]]
    for data in blobs[:50]:  # warm-up: imports, numpy, first decodes
        analyse_rendition(data)
    cpu0, t0 = time.thread_time(), time.perf_counter()
    failures = 0
    for data in blobs:
        try:
            analyse_rendition(data)
        except Exception:
            failures += 1
    cpu, wall = time.thread_time() - cpu0, time.perf_counter() - t0
    Path(out_path).write_text(json.dumps({
        "runs": [], "dagster_runs_launched": 0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "analysis": {"previews": len(blobs), "failures": failures, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
                     "per_cpu_second": round(len(blobs) / max(cpu, 1e-9), 1),
                     "bytes": sum(len(b) for b in blobs)},
    }))
    return 0


def main(argv: list[str]) -> int:
    plan_path, out_path = argv
    plan = json.loads(Path(plan_path).read_text())
    if plan["stage"] == "analysis":
        return run_analysis(plan, out_path)
    if plan["stage"].startswith("ticks-"):
        from bench.tick_worker import run_ticks

        return run_ticks(plan, out_path)
    return run_stage(plan, out_path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
