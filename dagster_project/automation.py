"""Every sensor and schedule of the project: what runs without a person asking.

- ``movie_partitions_sensor`` (running): keeps the movie and set partitions equal to what the state database knows. A
  scan run from the CLI (``metarr scan``) writes only the state database; this brings the Dagster instance's
  partitions in line within one tick, without launching runs.
- ``enrich_schedule`` (``library_enrichment_schedule``, stopped unless ``schedule.enrich_cron`` is set):
  enriches every movie that is due.
- ``movie_sets_schedule`` (on the same cron and status): chooses the art of every movie set that is due
  (``collection_artwork_job``); the set folders follow with the next publish.
- ``auto_publish_sensor`` (running exactly when ``publish.auto_publish`` is on as the definitions load: the
  config is the one switch; a sensor toggled in the UI still skips while the config says off): publishes what
  changed.
- ``config_change_sensor`` (``config_change_backfill_sensor``, stopped): re-runs the movies a config change
  made stale, like ``metarr backfill``.
- ``player_notification_sensor`` (running; idle while no player is enabled): launches one
  ``player_notification_retry_job`` run when notifications are due (a retry after a failure, a deferral while
  Kodi was playing, a publish made outside ``publish_job``, or a published movie that left the library).
  Pending notifications younger than two minutes are left to the publish run that queued them.

The library-wide ones emit a few batched runs (contiguous ranges of movie partitions, at most
``schedule.max_movies_per_run`` each), never a run per movie, tagged with who launched them (``run_tags``).
Movies inside a range that did not need the work are cheap no-ops: their provider cache is fresh, their
analysis cached, their result unchanged.

**Retries.** Dagster never launches a run key it has seen, and the sensors' keys are derived from what is wanted,
so a wave whose runs finished while its movies are still wanted (a run failed, or a movie failed inside it)
would never run again. :func:`retry_attempt` looks up the runs of the wave's keys in the instance: once they have
all finished and the backoff of that attempt has passed (``RETRY_BACKOFF``: the next tick, then 10 min, 40 min,
2 h, 6 h), the keys get an attempt suffix (``-r1``, ``-r2``...), which Dagster has not seen.
"""

import hashlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import dagster as dg

from dagster_project.assets.artwork import enriched_artwork
from dagster_project.assets.notify import player_notification_retry_job
from dagster_project.code_versions import settings_at_load
from dagster_project.jobs import collection_artwork_job, enrich_job, publish_job
from dagster_project.partitions import collections_partitions, movies_partitions, partition_requests
from dagster_project.resources import MetarrResource
from dagster_project.run_tags import (
    AUTO_PUBLISH,
    CONFIG_CHANGE,
    RANGE_END,
    RANGE_START,
    RUN_KEY,
    SCHEDULE,
    TRIGGER_TAG,
)
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.fingerprints import config_fingerprint, publish_fingerprint
from metarr_pipeline.orchestration import (
    batched_ranges,
    due_for_enrichment,
    outdated_for_publish,
    publish_changes,
    sets_due,
    stale_movies,
)

PENDING_GRACE = timedelta(minutes=2)
RETRY_BACKOFF = (timedelta(0), timedelta(minutes=10), timedelta(minutes=40), timedelta(hours=2), timedelta(hours=6))
"""How long after the last run of attempt n finished attempt n+1 may start (the last value repeats)."""


def retry_attempt(instance: dg.DagsterInstance, keys_of: Callable[[int], list[str]],
                  now: float | None = None) -> int:
    """The attempt whose run keys a tick should use: the first one not yet run to the end, or whose backoff
    has not passed (its keys are then seen ones, so Dagster launches nothing until the backoff is over)."""
    now = time.time() if now is None else now
    attempt = 0
    while True:
        records = [r for key in keys_of(attempt)
                   for r in instance.get_run_records(filters=dg.RunsFilter(tags={RUN_KEY: key}), limit=1)]
        if not records or not all(r.dagster_run.is_finished for r in records):
            return attempt
        ended = max((r.end_time or now) for r in records)
        if now - ended < RETRY_BACKOFF[min(attempt, len(RETRY_BACKOFF) - 1)].total_seconds():
            return attempt
        attempt += 1


def range_requests(instance: dg.DagsterInstance, wanted: list[str], max_per_run: int, trigger: str,
                   run_key_prefix: str, partitions: str = "movies") -> list[dg.RunRequest]:
    """Batched runs over ``wanted``; their keys carry the retry attempt once an earlier wave has finished."""
    ordered = instance.get_dynamic_partitions(partitions)
    ranges = batched_ranges(ordered, wanted, max_per_run)

    def keys_of(attempt: int) -> list[str]:
        prefix = run_key_prefix if attempt == 0 else f"{run_key_prefix}-r{attempt}"
        return [f"{prefix}-{i}" for i in range(len(ranges))]

    keys = keys_of(retry_attempt(instance, keys_of)) if ranges else []
    return [
        dg.RunRequest(run_key=key, tags={RANGE_START: start, RANGE_END: end, TRIGGER_TAG: trigger})
        for key, (start, end) in zip(keys, ranges, strict=True)
    ]


def enrich_schedule_cron() -> tuple[str, dg.DefaultScheduleStatus]:
    """The schedule's cron is part of the definitions, so it is read when they load (from $METARR_CONFIG or the
    demo config); an empty ``schedule.enrich_cron`` (the default) leaves the schedule stopped."""
    settings = settings_at_load()
    cron = settings.schedule.enrich_cron.strip() if settings else ""
    return (cron or "0 4 * * *", dg.DefaultScheduleStatus.RUNNING if cron else dg.DefaultScheduleStatus.STOPPED)


@dg.sensor(
    name="movie_partitions_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition for every newly identified movie and every movie set they reveal, and removes "
                "those of movies gone from disk and of sets no movie belongs to any more.",
)
def movie_partitions_sensor(context: dg.SensorEvaluationContext, metarr: MetarrResource) -> dg.SensorResult:
    try:
        desired = metarr.store().partition_keys()
        sets = [s.partition_key for s in metarr.store().library_sets().values()]
    except MetarrError as exc:
        return dg.SensorResult(skip_reason=f"state database not readable: {exc}")
    current = context.instance.get_dynamic_partitions(movies_partitions.name)
    requests = partition_requests(current, desired) + partition_requests(
        context.instance.get_dynamic_partitions(collections_partitions.name), sets, collections_partitions)
    if not requests:
        return dg.SensorResult(skip_reason=f"{len(desired)} movie and {len(sets)} set partitions already in sync")
    return dg.SensorResult(dynamic_partitions_requests=requests)


_ENRICH_CRON, _ENRICH_STATUS = enrich_schedule_cron()


def _tick(context: dg.ScheduleEvaluationContext) -> str:
    """The tick's time as run keys carry it (a manual evaluation has none: "now")."""
    return context.scheduled_execution_time.strftime("%Y%m%dT%H%M") if context.scheduled_execution_time else "now"


@dg.schedule(job=enrich_job, cron_schedule=_ENRICH_CRON, default_status=_ENRICH_STATUS,
             name="library_enrichment_schedule",
             description="Enrich every movie that is due (new, TTL expired, or failed last time) in a few "
                         "batched runs. " + (f"Runs on the config's schedule.enrich_cron ({_ENRICH_CRON})."
                                             if _ENRICH_STATUS == dg.DefaultScheduleStatus.RUNNING else
                                             "Off: the config sets no schedule.enrich_cron (the cron shown is only "
                                             "a placeholder); set one and reload to turn it on."))
def enrich_schedule(context: dg.ScheduleEvaluationContext, metarr: MetarrResource):
    settings = metarr.settings_without_roots
    due = due_for_enrichment(settings, metarr.store())
    if not due:
        return dg.SkipReason("no movie is due for enrichment")
    tick = _tick(context)
    return range_requests(context.instance, due, settings.schedule.max_movies_per_run, SCHEDULE, f"enrich-{tick}")


@dg.schedule(job=collection_artwork_job, cron_schedule=_ENRICH_CRON, default_status=_ENRICH_STATUS,
             name="movie_sets_schedule",
             description="Choose the art of every movie set that is due (new, older than the providers' TTL, or "
                         "touched by a fault) in batched runs, on the enrichment's cron (schedule.enrich_cron; off "
                         "without one). The set folders are written by the next publish.")
def movie_sets_schedule(context: dg.ScheduleEvaluationContext, metarr: MetarrResource):
    settings = metarr.settings_without_roots
    due = sets_due(settings, metarr.store())
    if not due:
        return dg.SkipReason("no movie set is due for its art")
    tick = _tick(context)
    return range_requests(context.instance, due, settings.schedule.max_movies_per_run, SCHEDULE, f"sets-{tick}",
                          str(collections_partitions.name))


def auto_publish_status() -> dg.DefaultSensorStatus:
    """Running when the config at load says ``auto_publish = true``: the UI shows what the config says."""
    settings = settings_at_load()
    on = settings is not None and settings.publish.auto_publish
    return dg.DefaultSensorStatus.RUNNING if on else dg.DefaultSensorStatus.STOPPED


@dg.sensor(job=publish_job, name="auto_publish_sensor", minimum_interval_seconds=120,
           default_status=auto_publish_status(),
           description="With publish.auto_publish on, publishes (in batched runs) every movie whose enrichment "
                       "or metadata changed since its last publish; never a movie marked manual.")
def auto_publish_sensor(context: dg.SensorEvaluationContext, metarr: MetarrResource):
    try:
        settings = metarr.settings_without_roots
        if not settings.publish.auto_publish:
            return dg.SkipReason("publish.auto_publish is off: publish from the UI after review")
        store = metarr.store()
        keys = outdated_for_publish(store)
        changed = publish_changes(store, keys)
    except MetarrError as exc:
        return dg.SkipReason(f"cannot read the state: {exc}")
    if not keys:
        return dg.SkipReason("every enriched movie is published and up to date")
    # The same movies outdated again by a later change make a new wave, not a seen one.
    digest = hashlib.sha1("\n".join(f"{k}@{changed.get(k, '')}" for k in keys).encode()).hexdigest()[:12]
    return range_requests(context.instance, keys, settings.schedule.max_movies_per_run, AUTO_PUBLISH,
                          f"auto-publish-{digest}")


@dg.sensor(jobs=[enrich_job, publish_job], name="config_change_backfill_sensor", minimum_interval_seconds=300,
           default_status=dg.DefaultSensorStatus.STOPPED,
           description="After a config change (scoring, counts, languages, naming), re-runs exactly the movies "
                       "whose stored fingerprint differs, in batched runs. Off by default; `metarr backfill` "
                       "does the same on demand.")
def config_change_sensor(context: dg.SensorEvaluationContext, metarr: MetarrResource):
    """An enrichment backfill materialises the artwork assets only: provider metadata does not depend on the
    config, so its partitions are left alone."""
    try:
        settings = metarr.settings_without_roots
        stale = stale_movies(settings, metarr.store())
    except MetarrError as exc:
        return dg.SkipReason(f"cannot read the state: {exc}")
    requests = []
    for req in range_requests(context.instance, stale["enrich"], settings.schedule.max_movies_per_run,
                              CONFIG_CHANGE, f"config-{config_fingerprint(settings)}"):
        requests.append(req.with_replaced_attrs(job_name=enrich_job.name, asset_selection=list(enriched_artwork.keys)))
    publish_keys = [k for k in stale["publish"] if k not in set(stale["enrich"])]
    for req in range_requests(context.instance, publish_keys, settings.schedule.max_movies_per_run,
                              CONFIG_CHANGE, f"republish-{publish_fingerprint(settings)}"):
        requests.append(req.with_replaced_attrs(job_name=publish_job.name))
    if not requests:
        return dg.SkipReason("no movie is stale: every result matches the current config")
    return requests


@dg.sensor(
    name="player_notification_sensor",
    job=player_notification_retry_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches one delivery run when player notifications are due (failed ones after their backoff, "
                "deferred ones, removed movies); no run when nothing is due or no player is enabled.",
)
def player_notification_sensor(context: dg.SensorEvaluationContext, metarr: MetarrResource) -> dg.SensorResult:
    try:
        settings = metarr.settings_without_roots
        players = [p.label for p in settings.enabled_players]
        if not players:
            return dg.SensorResult(skip_reason="no player is enabled")
        now = datetime.now()
        store = metarr.store()
        due = [r for r in store.due_notifications(now, players)
               if r.status != "pending" or r.queued_at <= now - PENDING_GRACE]
        removed = store.removed_movies_to_notify(players)
    except MetarrError as exc:
        return dg.SensorResult(skip_reason=f"state database or config not readable: {exc}")
    if not due and not removed:
        return dg.SensorResult(skip_reason="no player notification is due")
    # Same due set → same run key (no duplicate run while one is delivering); a new hour allows a new run
    # should a delivery run have died without recording anything.
    basis = sorted(f"{r.id}:{r.attempts}:{r.status}" for r in due) + \
        sorted(f"{r.player}:{r.movie_id}:deleted" for r in removed) + [f"{now:%Y%m%d%H}"]
    run_key = "notify-" + hashlib.sha1("|".join(basis).encode()).hexdigest()[:16]
    return dg.SensorResult(run_requests=[dg.RunRequest(
        run_key=run_key, tags={"metarr/notify": "retry",
                               "metarr/due_notifications": str(len(due) + len(removed))})])
