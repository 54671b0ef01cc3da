"""The Definitions of metarr-pipeline, assembled from the small modules (the flow is told in ``__init__``)."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.artwork import enriched_artwork
from dagster_project.assets.enrich import provider_metadata
from dagster_project.assets.notify import player_notification_retry_job, player_notifications
from dagster_project.assets.publish import published_library_files
from dagster_project.assets.scan import library_scan, scanned_movie
from dagster_project.assets.sets import collection_artwork, published_movie_sets
from dagster_project.automation import (
    auto_publish_sensor,
    config_change_sensor,
    enrich_schedule,
    movie_partitions_sensor,
    movie_sets_schedule,
    player_notification_sensor,
)
from dagster_project.jobs import collection_artwork_job, enrich_job, movie_sets_job, publish_job, scan_job
from dagster_project.resources import MetarrResource
from dagster_project.retention import event_log_retention_job, event_log_retention_schedule

defs = dg.Definitions(
    assets=[library_scan, scanned_movie, provider_metadata, enriched_artwork, published_library_files,
            player_notifications, collection_artwork, published_movie_sets],
    sensors=[movie_partitions_sensor, auto_publish_sensor, config_change_sensor, player_notification_sensor],
    schedules=[enrich_schedule, movie_sets_schedule, event_log_retention_schedule],
    jobs=[scan_job, enrich_job, publish_job, movie_sets_job, collection_artwork_job, player_notification_retry_job,
          event_log_retention_job],
    resources={"metarr": MetarrResource()},
)
