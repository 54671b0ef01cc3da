"""The Definitions of metarr-pipeline, assembled from the per-stage modules."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.artwork import enriched_artwork
from dagster_project.assets.enrich import provider_metadata
from dagster_project.assets.publish import published_library_files
from dagster_project.assets.scan import library_scan, scanned_movie
from dagster_project.partitions import movies_partitions
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
    partitions_def=movies_partitions,
    description="Fetch provider metadata and enrich artwork and actors for the selected movies (batched).",
)

publish_job = dg.define_asset_job(
    "publish_job",
    selection=dg.AssetSelection.assets(published_library_files),
    partitions_def=movies_partitions,
    description="Write NFO, artwork and .actors/ into the selected movies' folders (batched).",
)

defs = dg.Definitions(
    assets=[library_scan, scanned_movie, provider_metadata, enriched_artwork, published_library_files],
    sensors=[movie_partitions_sensor],
    jobs=[scan_job, enrich_job, publish_job],
    resources={"metarr": MetarrResource()},
)
