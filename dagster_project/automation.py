"""Library-wide automation: the enrichment schedule, auto-publish, and backfills after config changes.

All of them emit a few batched runs (contiguous ranges of movie partitions, at most
``schedule.max_movies_per_run`` each), never a run per movie. Movies inside a range that did not need the
work are cheap no-ops: their provider cache is fresh, their analysis cached, their result unchanged.
"""

import hashlib
from typing import Any

import dagster as dg

from dagster_project.partitions import movies_partitions
from dagster_project.resources import MetarrResource
from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.fingerprints import config_fingerprint, publish_fingerprint
from metarr_pipeline.orchestration import (
    batched_ranges,
    due_for_enrichment,
    outdated_for_publish,
    stale_movies,
)

TRIGGER_TAG = "metarr/trigger"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
AUTOMATIC_TRIGGERS = frozenset({"schedule", "auto_publish", "config_change"})


def range_requests(instance: dg.DagsterInstance, wanted: list[str], max_per_run: int, trigger: str,
                   run_key_prefix: str) -> list[dg.RunRequest]:
    ordered = instance.get_dynamic_partitions(movies_partitions.name)
    return [
        dg.RunRequest(run_key=f"{run_key_prefix}-{i}", tags={RANGE_START: start, RANGE_END: end, TRIGGER_TAG: trigger})
        for i, (start, end) in enumerate(batched_ranges(ordered, wanted, max_per_run))
    ]


def enrich_schedule_cron() -> tuple[str, dg.DefaultScheduleStatus]:
    """The schedule's cron is part of the definitions, so it is read when they load (from $METARR_CONFIG or the
    demo config); an empty ``schedule.enrich_cron`` (the default) leaves the schedule stopped."""
    settings = _settings_at_load()
    cron = settings.schedule.enrich_cron.strip() if settings else ""
    return (cron or "0 4 * * *", dg.DefaultScheduleStatus.RUNNING if cron else dg.DefaultScheduleStatus.STOPPED)


def config_code_versions() -> tuple[str | None, str | None]:
    """(enrichment, publish) config fingerprints, used as the assets' code versions: after a config change (and
    a reload of the code location), partitions materialised under the old config show as stale in the UI
    ("code version changed"), as they do in `metarr status`. None when the config cannot be read."""
    settings = _settings_at_load()
    if settings is None:
        return None, None
    return config_fingerprint(settings), publish_fingerprint(settings)


def _settings_at_load() -> Settings | None:
    """The settings as the definitions load ($METARR_CONFIG or the demo config); None when unreadable, so a
    broken config still lets the code location load (runs then report the config error)."""
    try:
        return load_settings(check_roots=False)
    except MetarrError:
        return None


def build_enrich_schedule(job: Any) -> dg.ScheduleDefinition:
    cron, status = enrich_schedule_cron()

    @dg.schedule(job=job, cron_schedule=cron, default_status=status, name="library_enrichment_schedule",
                 description="Enrich every movie that is due (new, TTL expired, or failed last time) in a few "
                             "batched runs. Off unless schedule.enrich_cron is set.")
    def library_enrichment_schedule(context: dg.ScheduleEvaluationContext, metarr: MetarrResource):
        settings = metarr.settings_without_roots
        due = due_for_enrichment(settings, metarr.store())
        if not due:
            return dg.SkipReason("no movie is due for enrichment")
        tick = context.scheduled_execution_time.strftime("%Y%m%dT%H%M") if context.scheduled_execution_time else "now"
        return range_requests(context.instance, due, settings.schedule.max_movies_per_run, "schedule",
                              f"enrich-{tick}")

    return library_enrichment_schedule


def build_auto_publish_sensor(job: Any) -> dg.SensorDefinition:
    @dg.sensor(job=job, name="auto_publish_sensor", minimum_interval_seconds=120,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="With publish.auto_publish on, publishes (in batched runs) every movie whose enrichment "
                           "or metadata changed since its last publish; never a movie marked manual.")
    def auto_publish_sensor(context: dg.SensorEvaluationContext, metarr: MetarrResource):
        try:
            settings = metarr.settings_without_roots
            if not settings.publish.auto_publish:
                return dg.SkipReason("publish.auto_publish is off: publish from the UI after review")
            keys = outdated_for_publish(metarr.store())
        except MetarrError as exc:
            return dg.SkipReason(f"cannot read the state: {exc}")
        if not keys:
            return dg.SkipReason("every enriched movie is published and up to date")
        digest = hashlib.sha1("\n".join(keys).encode()).hexdigest()[:12]
        return range_requests(context.instance, keys, settings.schedule.max_movies_per_run, "auto_publish",
                              f"auto-publish-{digest}")

    return auto_publish_sensor


def build_config_change_sensor(enrich_job: Any, publish_job: Any,
                               rescore_assets: Any = None) -> dg.SensorDefinition:
    """``rescore_assets``: what an enrichment backfill materialises (the artwork assets: provider metadata does not
    depend on the config, so its partitions are left alone)."""

    @dg.sensor(jobs=[enrich_job, publish_job], name="config_change_backfill_sensor", minimum_interval_seconds=300,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description="After a config change (scoring, counts, languages, naming), re-runs exactly the movies "
                           "whose stored fingerprint differs, in batched runs. Off by default; `metarr backfill` "
                           "does the same on demand.")
    def config_change_backfill_sensor(context: dg.SensorEvaluationContext, metarr: MetarrResource):
        try:
            settings = metarr.settings_without_roots
            stale = stale_movies(settings, metarr.store())
        except MetarrError as exc:
            return dg.SkipReason(f"cannot read the state: {exc}")
        requests = []
        for req in range_requests(context.instance, stale["enrich"], settings.schedule.max_movies_per_run,
                                  "config_change", f"config-{config_fingerprint(settings)}"):
            requests.append(req.with_replaced_attrs(job_name=enrich_job.name, asset_selection=(
                list(rescore_assets) if rescore_assets else None)))
        publish_keys = [k for k in stale["publish"] if k not in set(stale["enrich"])]
        for req in range_requests(context.instance, publish_keys, settings.schedule.max_movies_per_run,
                                  "config_change", f"republish-{publish_fingerprint(settings)}"):
            requests.append(req.with_replaced_attrs(job_name=publish_job.name))
        if not requests:
            return dg.SkipReason("no movie is stale: every result matches the current config")
        return requests

    return config_change_backfill_sensor
