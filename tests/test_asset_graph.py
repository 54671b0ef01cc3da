"""The asset graph, pinned: every asset, job, sensor and schedule, compared with the structure written here.

A change to the graph (an asset renamed, a dependency dropped, a job selecting one asset more, a sensor
running by default) fails this test until the expected structure below is changed with it, on purpose.
The definitions load as in ``test_dagster.py`` (with the demo config: no ``schedule.enrich_cron``).
"""

from __future__ import annotations

import contextvars

import dagster as dg

from dagster_project.definitions import defs

MOVIES = ("DynamicPartitionsDefinition", "movies")
SETS = ("DynamicPartitionsDefinition", "collections")
UNPARTITIONED = (None, None)

# asset key -> (deps, (partitions type, partitions name), group, checks)
ASSETS: dict[str, tuple[set[str], tuple[str | None, str | None], str, set[str]]] = {
    "library_scan": (set(), UNPARTITIONED, "scan", set()),
    "scanned_movie": ({"library_scan"}, MOVIES, "scan", set()),
    "provider_metadata": ({"scanned_movie"}, MOVIES, "enrich", set()),
    "artwork_candidates": ({"provider_metadata"}, MOVIES, "enrich", set()),
    "artwork_selection": ({"artwork_candidates"}, MOVIES, "enrich", {"has_poster"}),
    "cached_artwork": ({"artwork_selection"}, MOVIES, "enrich", set()),
    "actor_thumbnails": ({"provider_metadata"}, MOVIES, "enrich", set()),
    "published_library_files": ({"cached_artwork", "actor_thumbnails", "provider_metadata"}, MOVIES, "publish",
                                {"nfo_well_formed_and_matches_db", "published_files_recorded"}),
    "player_notifications": ({"published_library_files"}, MOVIES, "notify", set()),
    "collection_artwork": ({"provider_metadata"}, SETS, "sets", set()),
    "published_movie_sets": ({"collection_artwork"}, SETS, "sets", set()),
}

# job -> the assets it materialises (asset jobs) or its ops (op jobs)
JOBS: dict[str, tuple[set[str], set[str]]] = {
    "scan_library_job": ({"library_scan"}, {"library_scan"}),
    "enrich_job": ({"provider_metadata", "artwork_candidates", "artwork_selection", "cached_artwork",
                    "actor_thumbnails"}, {"provider_metadata", "enriched_artwork"}),
    "publish_job": ({"published_library_files", "player_notifications"},
                    {"published_library_files", "player_notifications"}),
    "movie_sets_job": ({"collection_artwork", "published_movie_sets"},
                       {"collection_artwork", "published_movie_sets"}),
    "collection_artwork_job": ({"collection_artwork"}, {"collection_artwork"}),
    "player_notification_retry_job": (set(), {"deliver_due_notifications"}),
    "dagster_event_log_retention_job": (set(), {"prune_dagster_event_log"}),
}

# sensor -> (target jobs, default status)
SENSORS: dict[str, tuple[set[str], dg.DefaultSensorStatus]] = {
    "movie_partitions_sensor": (set(), dg.DefaultSensorStatus.RUNNING),
    "auto_publish_sensor": ({"publish_job"}, dg.DefaultSensorStatus.STOPPED),  # the demo config: auto_publish off
    "config_change_backfill_sensor": ({"enrich_job", "publish_job"}, dg.DefaultSensorStatus.STOPPED),
    "player_notification_sensor": ({"player_notification_retry_job"}, dg.DefaultSensorStatus.RUNNING),
}

# schedule -> (target job, cron, default status)
SCHEDULES: dict[str, tuple[str, str, dg.DefaultScheduleStatus]] = {
    "library_enrichment_schedule": ("enrich_job", "0 4 * * *", dg.DefaultScheduleStatus.STOPPED),
    "movie_sets_schedule": ("collection_artwork_job", "0 4 * * *", dg.DefaultScheduleStatus.STOPPED),
    "dagster_event_log_retention_schedule": ("dagster_event_log_retention_job", "30 3 * * *",
                                             dg.DefaultScheduleStatus.RUNNING),
}


def test_the_definitions_load() -> None:
    # In an empty context, as a fresh code location loads them: Dagster keeps the current instance's state
    # storage in a ContextVar, and an instance another test left to the garbage collector can restore a dead
    # one into this context ("Attempted to resolve undefined DagsterInstance weakref").
    contextvars.Context().run(dg.Definitions.validate_loadable, defs)


def test_every_asset_with_its_deps_partitions_group_and_checks() -> None:
    graph = defs.resolve_asset_graph()
    actual = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        partitions = node.partitions_def
        actual[key.to_user_string()] = (
            {parent.to_user_string() for parent in node.parent_keys},
            (type(partitions).__name__, partitions.name) if partitions is not None else UNPARTITIONED,
            node.group_name,
            {check.name for check in node.check_keys},
        )
    assert actual == ASSETS


def test_every_partitioned_asset_runs_a_batch_in_one_run() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.partitions_def is not None:
            assert node.backfill_policy == dg.BackfillPolicy.single_run(), key


def test_every_job_with_its_selection() -> None:
    actual = {}
    for name in JOBS:
        job = defs.resolve_job_def(name)
        assets = job.asset_layer.selected_asset_keys if job.asset_layer else set()
        actual[name] = ({k.to_user_string() for k in assets}, {node.name for node in job.nodes})
    assert actual == JOBS
    assert {job.name for job in defs.jobs or []} == set(JOBS)  # no job besides these


def test_every_sensor_with_its_jobs_and_default_status() -> None:
    actual = {s.name: ({t.job_name for t in s.targets}, s.default_status) for s in defs.sensors or []}
    assert actual == SENSORS


def test_every_schedule_with_its_job_cron_and_default_status() -> None:
    actual = {s.name: (s.job_name, s.cron_schedule, s.default_status) for s in defs.schedules or []}
    assert actual == SCHEDULES
