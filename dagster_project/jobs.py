"""The jobs a person or the automation launches: each one a stage of the flow over a batch of movies.

A library-wide job run covers a contiguous range of movie partitions (see ``run_tags``), never one run per
movie; ``movie_sets_job`` runs over ``collections`` partitions (a job holds one partitioning).
``player_notification_retry_job`` is the notify stage's own op job (``assets/notify.py``).
"""

import dagster as dg

from dagster_project.assets.artwork import enriched_artwork
from dagster_project.assets.enrich import provider_metadata
from dagster_project.assets.notify import player_notifications
from dagster_project.assets.publish import published_library_files
from dagster_project.assets.scan import library_scan
from dagster_project.assets.sets import collection_artwork, published_movie_sets

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

movie_sets_job = dg.define_asset_job(
    "movie_sets_job",
    selection=dg.AssetSelection.assets(collection_artwork, published_movie_sets),
    description="Choose the selected movie sets' art (batched, one winner per type) and write their set folders.",
)

collection_artwork_job = dg.define_asset_job(
    "collection_artwork_job",
    selection=dg.AssetSelection.assets(collection_artwork),
    description="Choose the selected movie sets' art (batched); their folders are written by the next publish.",
)
