"""Event-log retention: old finished runs and their events pruned from the Dagster instance, nightly.

A nightly schedule over a big library adds thousands of events a night (a materialisation, a "planned" event
and step events per asset and run); without pruning the instance grows without bound. The
``dagster_event_log_retention_job`` deletes, with ``DagsterInstance.delete_run`` (the run and all its events),
every run that finished (succeeded, failed or was cancelled) more than ``older_than_days`` ago, except a run
still holding the *latest* materialisation of some asset partition: deleting that one would make the UI show
the movie as never materialised. Such a run goes once a newer run re-materialises its partitions.

What was pruned is not forgotten: the counts (runs and events deleted, per job) are added to a small cumulative
summary kept in the instance's key-value store (``SUMMARY_KEY``, on SQLite and PostgreSQL alike), reported in the
run's metadata with this run's own counts. The schedule (``dagster_event_log_retention_schedule``, 03:30 daily,
running) reads the retention from ``METARR_EVENT_LOG_RETENTION_DAYS`` (default 90).
"""

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dagster as dg

SUMMARY_KEY = "metarr/event_log_retention"
DAYS_ENV = "METARR_EVENT_LOG_RETENTION_DAYS"
DEFAULT_DAYS = 90
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


@dataclass
class RetentionReport:
    """One pruning pass: what went, what stayed and why."""

    cutoff: datetime
    runs_deleted: int = 0
    events_deleted: int = 0
    runs_kept_holding_latest: int = 0
    deleted_by_job: Counter[str] = field(default_factory=Counter)


def runs_holding_latest(instance: dg.DagsterInstance, chunk: int = 500) -> set[str]:
    """The runs that recorded the latest materialisation of some asset partition (or unpartitioned asset).

    Compared by run id: on SQLite a run's events carry other storage ids in the run's shard than in the index
    that ``get_latest_storage_id_by_partition`` reads."""
    runs: set[str] = set()
    for key in instance.all_asset_keys():
        ids = list(instance.get_latest_storage_id_by_partition(key, dg.DagsterEventType.ASSET_MATERIALIZATION
                                                               ).values())
        for i in range(0, len(ids), chunk):
            part = ids[i:i + chunk]
            records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, storage_ids=part),
                                                      limit=len(part)).records
            runs.update(r.run_id for r in records)
        last = instance.fetch_materializations(key, limit=1, ascending=False).records
        if last and last[0].partition_key is None:
            runs.add(last[0].run_id)
    return runs


def prune_event_log(instance: dg.DagsterInstance, cutoff: datetime) -> RetentionReport:
    """Delete the finished runs created before ``cutoff`` (and their events) that hold no latest
    materialisation; add the counts to the cumulative summary."""
    report = RetentionReport(cutoff=cutoff)
    old = instance.get_run_records(filters=dg.RunsFilter(statuses=FINISHED, created_before=cutoff), ascending=True)
    protected = runs_holding_latest(instance) if old else set()
    for record in old:
        run_id = record.dagster_run.run_id
        if run_id in protected:
            report.runs_kept_holding_latest += 1
            continue
        events = len(instance.get_records_for_run(run_id).records)
        instance.delete_run(run_id)
        report.runs_deleted += 1
        report.events_deleted += events
        report.deleted_by_job[record.dagster_run.job_name] += 1
    if report.runs_deleted:
        add_to_summary(instance, report)
    return report


def read_summary(instance: dg.DagsterInstance) -> dict:
    raw = instance.run_storage.get_cursor_values({SUMMARY_KEY}).get(SUMMARY_KEY)
    return json.loads(raw) if raw else {"runs_deleted": 0, "events_deleted": 0, "deleted_by_job": {}}


def add_to_summary(instance: dg.DagsterInstance, report: RetentionReport) -> dict:
    summary = read_summary(instance)
    summary["runs_deleted"] += report.runs_deleted
    summary["events_deleted"] += report.events_deleted
    by_job = Counter(summary["deleted_by_job"])
    by_job.update(report.deleted_by_job)
    summary["deleted_by_job"] = dict(sorted(by_job.items()))
    summary["last_pruned_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    summary["last_cutoff"] = report.cutoff.isoformat(timespec="seconds")
    instance.run_storage.set_cursor_values({SUMMARY_KEY: json.dumps(summary, sort_keys=True)})
    return summary


class RetentionConfig(dg.Config):
    older_than_days: int = DEFAULT_DAYS


@dg.op(description="Delete finished runs older than the retention, with their events, except runs holding an "
                   "asset partition's latest materialisation; counts added to a cumulative summary.")
def prune_dagster_event_log(context: dg.OpExecutionContext, config: RetentionConfig) -> None:
    if config.older_than_days < 1:
        raise dg.Failure(description=f"older_than_days must be at least 1 (got {config.older_than_days}): "
                                     "a run younger than a day may still be read by sensors and the UI")
    cutoff = datetime.now(UTC) - timedelta(days=config.older_than_days)
    report = prune_event_log(context.instance, cutoff)
    summary = read_summary(context.instance)
    context.add_output_metadata({
        "cutoff": cutoff.isoformat(timespec="seconds"), "runs_deleted": report.runs_deleted,
        "events_deleted": report.events_deleted, "runs_kept_holding_latest": report.runs_kept_holding_latest,
        "deleted_by_job": dict(report.deleted_by_job),
        "total_runs_deleted": summary["runs_deleted"], "total_events_deleted": summary["events_deleted"],
    })
    context.log.info("pruned %d runs (%d events) created before %s; kept %d holding latest materialisations",
                     report.runs_deleted, report.events_deleted, cutoff.isoformat(timespec="seconds"),
                     report.runs_kept_holding_latest)


@dg.job(name="dagster_event_log_retention_job", description="Prune old runs and their events (see retention.py).")
def event_log_retention_job() -> None:
    prune_dagster_event_log()


def retention_days() -> int:
    raw = os.environ.get(DAYS_ENV, "").strip()
    if not raw:
        return DEFAULT_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"{DAYS_ENV}={raw!r} is not a whole number of days") from None
    if days < 1:
        raise ValueError(f"{DAYS_ENV}={raw!r}: the retention must be at least 1 day")
    return days


@dg.schedule(job=event_log_retention_job, cron_schedule="30 3 * * *", name="dagster_event_log_retention_schedule",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description=f"Nightly: prune runs older than ${DAYS_ENV} days (default {DEFAULT_DAYS}) and their "
                         "events, keeping the counts.")
def event_log_retention_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    try:
        days = retention_days()
    except ValueError as exc:
        return dg.SkipReason(str(exc))
    return dg.RunRequest(run_config=dg.RunConfig(ops={"prune_dagster_event_log": RetentionConfig(
        older_than_days=days)}))
