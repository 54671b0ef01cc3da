"""The Definitions of metarr-pipeline, assembled from the per-stage modules."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.artwork import enriched_artwork
from dagster_project.assets.enrich import provider_metadata
from dagster_project.assets.notify import (
    player_notification_retry_job,
    player_notification_sensor,
    player_notifications,
)
from dagster_project.assets.publish import published_library_files
from dagster_project.assets.scan import library_scan, scanned_movie
from dagster_project.automation import (
    build_auto_publish_sensor,
    build_config_change_sensor,
    build_enrich_schedule,
)
from dagster_project.resources import MetarrResource
from dagster_project.sensors import movie_partitions_sensor

scan_job = dg.define_asset_job(
    "scan_library_job",
    selection=dg.AssetSelection.assets(library_scan),
    description="Scan the library and register movie partitions.",
)

enrich_job = dg.define_asset_job(
    "enrich_job",
    selection=dg.AssetSelection.assets(provider_metadata, enriched_artwork),
    description="Fetch provider metadata and enrich artwork and actors for the selected movies (batched).",
)

publish_job = dg.define_asset_job(
    "publish_job",
    selection=dg.AssetSelection.assets(published_library_files, player_notifications),
    description="Write NFO, artwork and .actors/ into the selected movies' folders (batched), then tell the players.",
)

enrich_schedule = build_enrich_schedule(enrich_job)
auto_publish_sensor = build_auto_publish_sensor(publish_job)
config_change_sensor = build_config_change_sensor(enrich_job, publish_job, rescore_assets=enriched_artwork.keys)

defs = dg.Definitions(
    assets=[library_scan, scanned_movie, provider_metadata, enriched_artwork, published_library_files,
            player_notifications],
    sensors=[movie_partitions_sensor, auto_publish_sensor, config_change_sensor, player_notification_sensor],
    schedules=[enrich_schedule],
    jobs=[scan_job, enrich_job, publish_job, player_notification_retry_job],
    resources={"metarr": MetarrResource()},
)
