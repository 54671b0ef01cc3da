"""Event-log retention on both instances: old finished runs and their events go, runs holding a partition's
latest materialisation stay, newer runs are untouched, and the counts are kept in a cumulative summary."""

import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from dagster_project.definitions import defs
from dagster_project.retention import (
    DAYS_ENV,
    SUMMARY_KEY,
    event_log_retention_schedule,
    prune_event_log,
    read_summary,
)

LETTERS = dg.StaticPartitionsDefinition(["a", "b", "c"])


@dg.asset(partitions_def=LETTERS)
def letter(context: dg.AssetExecutionContext) -> None:
    if context.partition_key == "c" and context.run.tags.get("fail") == "yes":
        raise RuntimeError("a failing run, with its events")


@dg.asset
def unpartitioned() -> None:
    return None


def materialise(instance: dg.DagsterInstance, partition: str, fail: bool = False) -> str:
    result = dg.materialize([letter], instance=instance, partition_key=partition, raise_on_error=False,
                            tags={"fail": "yes" if fail else "no"})
    assert result.success != fail
    return result.run_id


def run_ids(instance: dg.DagsterInstance) -> set[str]:
    return {r.dagster_run.run_id for r in instance.get_run_records()}


def test_old_runs_are_pruned_except_those_holding_the_latest_materialisation(
        dagster_instance: dg.DagsterInstance) -> None:
    instance = dagster_instance
    a_old, b_only, a_new, c_failed = (materialise(instance, "a"), materialise(instance, "b"),
                                      materialise(instance, "a"), materialise(instance, "c", fail=True))
    single_old = dg.materialize([unpartitioned], instance=instance).run_id
    single_new = dg.materialize([unpartitioned], instance=instance).run_id
    old_events = len(instance.get_records_for_run(a_old).records) + \
        len(instance.get_records_for_run(c_failed).records) + len(instance.get_records_for_run(single_old).records)
    cutoff = datetime.now(UTC) + timedelta(seconds=1)  # every run so far is "old"

    report = prune_event_log(instance, cutoff)

    # a_old and single_old were superseded, c_failed materialised nothing: gone with their events.
    assert report.runs_deleted == 3 and report.runs_kept_holding_latest == 3
    assert report.events_deleted == old_events
    assert run_ids(instance) >= {b_only, a_new, single_new} and not run_ids(instance) & {a_old, c_failed, single_old}
    assert not instance.get_records_for_run(a_old).records
    assert instance.get_materialized_partitions(letter.key) == {"a", "b"}  # the UI still shows them materialised
    assert instance.get_latest_materialization_event(unpartitioned.key).run_id == single_new
    summary = read_summary(instance)
    assert summary["runs_deleted"] == 3 and summary["events_deleted"] == old_events
    assert summary["deleted_by_job"] == {"__ephemeral_asset_job__": 3}

    # A second pass finds nothing more to delete and leaves the summary's totals alone.
    again = prune_event_log(instance, cutoff)
    assert again.runs_deleted == 0 and read_summary(instance)["runs_deleted"] == 3
    assert instance.run_storage.get_cursor_values({SUMMARY_KEY})  # stored in the instance, on both storages


def test_runs_newer_than_the_cutoff_and_unfinished_runs_are_never_pruned(dagster_instance: dg.DagsterInstance
                                                                         ) -> None:
    instance = dagster_instance
    cutoff = datetime.now(UTC) - timedelta(days=1)
    failed = materialise(instance, "c", fail=True)
    running = str(uuid.uuid4())
    instance.add_run(dg.DagsterRun(job_name="long_job", run_id=running, status=dg.DagsterRunStatus.STARTED))
    report = prune_event_log(instance, cutoff)  # both are younger than a day
    assert report.runs_deleted == 0 and {failed, running} <= run_ids(instance)
    report = prune_event_log(instance, datetime.now(UTC) + timedelta(seconds=1))
    assert report.runs_deleted == 1 and run_ids(instance) == {running}  # the unfinished run is left alone


def test_the_retention_job_reports_its_counts_and_refuses_a_retention_under_a_day(
        monkeypatch: pytest.MonkeyPatch) -> None:
    job = defs.resolve_job_def("dagster_event_log_retention_job")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance, run_config={
            "ops": {"prune_dagster_event_log": {"config": {"older_than_days": 30}}}})
        assert result.success
        meta = next(e for e in result.all_events if e.event_type_value == "STEP_OUTPUT").step_output_data.metadata
        assert meta["runs_deleted"].value == 0 and meta["total_runs_deleted"].value == 0
        bad = job.execute_in_process(instance=instance, raise_on_error=False, run_config={
            "ops": {"prune_dagster_event_log": {"config": {"older_than_days": 0}}}})
        assert not bad.success
        failure = next(e for e in bad.all_events if e.event_type_value == "STEP_FAILURE")
        assert "older_than_days must be at least 1" in str(failure.event_specific_data.error)

    monkeypatch.setenv(DAYS_ENV, "14")
    request = event_log_retention_schedule(dg.build_schedule_context())
    assert isinstance(request, dg.RunRequest)
    assert request.run_config["ops"]["prune_dagster_event_log"]["config"]["older_than_days"] == 14
    monkeypatch.setenv(DAYS_ENV, "two weeks")
    skipped = event_log_retention_schedule(dg.build_schedule_context())
    assert isinstance(skipped, dg.SkipReason) and DAYS_ENV in skipped.skip_message


@pytest.mark.parametrize("days", ["", "90"])
def test_the_default_retention_is_ninety_days(days: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DAYS_ENV, days)
    request = event_log_retention_schedule(dg.build_schedule_context())
    assert request.run_config["ops"]["prune_dagster_event_log"]["config"]["older_than_days"] == 90
