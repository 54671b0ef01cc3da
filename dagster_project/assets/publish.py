"""Publish stage: the library files (NFO, artwork, .actors) written into each movie folder.

Never materialised automatically unless ``auto_publish`` is on: the user reviews the enrichment in the UI and
then materialises this asset for the movies they choose (any number of partitions, one batched run).
"""

import dagster as dg

from dagster_project.assets.artwork import ACTORS, CACHED
from dagster_project.assets.enrich import provider_metadata
from dagster_project.assets.scan import markdown_table
from dagster_project.partitions import movies_partitions
from dagster_project.resources import MetarrResource
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.publish.publish import publish_movies


@dg.asset(
    group_name="publish",
    partitions_def=movies_partitions,
    deps=[CACHED, ACTORS, provider_metadata],
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Kodi-compliant NFO, rank-named artwork and .actors/ written into the movie folder, atomically; "
                "unchanged files are not touched, and only files metarr wrote are ever removed.",
    kinds={"python"},
)
def published_library_files(context: dg.AssetExecutionContext, metarr: MetarrResource) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    try:
        with metarr.providers() as providers:
            report = publish_movies(metarr.settings_without_roots, metarr.store(), providers, keys)
    except MetarrError as exc:
        raise dg.Failure(description=str(exc)) from exc
    for movie in report.movies:
        meta: dict[str, dg.RawMetadataValue] = {
            "status": movie.status, "written": len(movie.written), "unchanged": len(movie.unchanged),
            "removed": len(movie.removed),
        }
        if movie.error:
            meta["error"] = movie.error
            context.log.warning("%s: %s", movie.partition_key, movie.error)
        if movie.written or movie.removed:
            meta["changes"] = dg.MetadataValue.md(markdown_table(
                ("file", "change"), [(p, "written") for p in movie.written] + [(p, "removed") for p in movie.removed]))
        if movie.warnings:
            meta["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in movie.warnings))
        context.add_asset_metadata(meta, partition_key=movie.partition_key)
    if report.movies and len(report.failures) == len(report.movies):
        raise dg.Failure(description=f"no movie could be published; first: {report.failures[0].error}")
    s = report.summary()
    return dg.MaterializeResult(metadata={
        "movies": s["movies"], "published": s["published"], "failed": s["failed"],
        "files_written": s["files_written"], "files_unchanged": s["files_unchanged"],
        "files_removed": s["files_removed"], "warnings": s["warnings"], "reclaimed_blobs": s["reclaimed_blobs"],
        "reclaimed_bytes": s["reclaimed_bytes"], "seconds": s["seconds"],
    })
