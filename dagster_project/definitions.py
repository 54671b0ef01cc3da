"""The Definitions of metarr-pipeline, assembled from the per-stage modules."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.enrich import provider_metadata
from dagster_project.assets.scan import library_scan, scanned_movie
from dagster_project.resources import MetarrResource
from dagster_project.sensors import movie_partitions_sensor

scan_job = dg.define_asset_job(
    "scan_library_job",
    selection=dg.AssetSelection.assets(library_scan),
    description="Scan the library and register movie partitions.",
)

defs = dg.Definitions(
    assets=[library_scan, scanned_movie, provider_metadata],
    sensors=[movie_partitions_sensor],
    jobs=[scan_job],
    resources={"metarr": MetarrResource()},
)
