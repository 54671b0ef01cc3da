"""The auto-publish and config-change sensors retry movies whose runs finished without doing the work.

Dagster drops a run request whose run key it has seen; the instance here has seen the first wave's keys (its runs
are recorded with the sensor's tags and reported failed, as the daemon would), so the next tick must ask under new
keys, and a tick during the backoff must ask under seen keys only (no hot loop).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_project.definitions import auto_publish_sensor, config_change_sensor, defs
from dagster_project.resources import MetarrResource
from dagster_project.run_tags import RUN_KEY
from metarr_pipeline.simulator import Simulator
from tests.test_orchestration import enriched_seeded_library, run_requests


def _seen_and_failed(instance: dg.DagsterInstance, sensor: str, job: str, keys: list[str]) -> None:
    """Record runs under these keys, as the daemon does when it launches them, and fail them."""
    job_def = defs.resolve_job_def(job)
    for key in keys:
        run = instance.create_run_for_job(job_def, tags={RUN_KEY: key, "dagster/sensor_name": sensor})
        instance.report_run_failed(run)


def _keys(result) -> list[str]:
    return [r.run_key for r in run_requests(result)]


def _enriched_library(tmp_path: Path, sim: Simulator) -> tuple[Path, list[str]]:
    settings, _, keys = enriched_seeded_library(tmp_path, sim, [603, 949])
    return Path(settings.config_path), keys


def test_auto_publish_sensor_retries_a_failed_wave_after_its_backoff(tmp_path: Path, sim: Simulator) -> None:
    cfg, keys = _enriched_library(tmp_path, sim)
    cfg.write_text(cfg.read_text() + "\n[publish]\nauto_publish = true\n")
    resource = MetarrResource(config_path=str(cfg))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("movies", keys)

        def tick() -> list[str]:
            return _keys(auto_publish_sensor(dg.build_sensor_context(instance=instance, resources={"metarr": resource})))

        first = tick()
        assert first and tick() == first  # nothing ran yet: the same keys, so no duplicate wave
        _seen_and_failed(instance, "auto_publish_sensor", "publish_job", first)
        retry = tick()
        assert retry and not set(retry) & set(first), "a finished wave whose movies are still outdated is retried"
        _seen_and_failed(instance, "auto_publish_sensor", "publish_job", retry)
        assert tick() == retry  # within the backoff: only seen keys, Dagster launches nothing


def test_config_change_sensor_retries_a_failed_backfill(tmp_path: Path, sim: Simulator) -> None:
    cfg, keys = _enriched_library(tmp_path, sim)
    cfg.write_text(cfg.read_text().replace("poster = 1", "poster = 2"))  # every movie's enrichment is stale
    resource = MetarrResource(config_path=str(cfg))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("movies", keys)

        def tick() -> list[str]:
            return _keys(config_change_sensor(dg.build_sensor_context(instance=instance, resources={"metarr": resource})))

        first = tick()
        assert first
        _seen_and_failed(instance, "config_change_backfill_sensor", "enrich_job", first)
        retry = tick()
        assert retry and not set(retry) & set(first)
