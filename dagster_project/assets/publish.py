"""Publish stage: the library files (NFO, artwork, .actors) written into each movie folder.

Never materialised automatically unless ``auto_publish`` is on: the user reviews the enrichment in the UI and
then materialises this asset for the movies they choose (any number of partitions, one batched run).
"""

import dagster as dg

from dagster_project.assets.artwork import ACTORS, CACHED
from dagster_project.assets.enrich import provider_metadata
from dagster_project.code_versions import config_code_versions
from dagster_project.metadata import failures_metadata, markdown_table, partitions_to_describe, raise_for
from dagster_project.partitions import movies_partitions
from dagster_project.resources import MetarrResource
from dagster_project.run_tags import AUTOMATIC_TRIGGERS, REVIEW_PAGE_URL, TRIGGER_TAG
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.publish.checks import check_published
from metarr_pipeline.publish.publish import publish_movies


@dg.asset(
    group_name="publish",
    partitions_def=movies_partitions,
    deps=[CACHED, ACTORS, provider_metadata],
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="metarr_library_writes",
    code_version=config_code_versions()[1],
    check_specs=[
        dg.AssetCheckSpec("nfo_well_formed_and_matches_db", asset="published_library_files",
                          description="Each movie's NFO parses strictly and has the database's title and TMDB id."),
        dg.AssetCheckSpec("published_files_recorded", asset="published_library_files",
                          description="Every file metarr wrote is present with the size it wrote."),
    ],
    description="Kodi-compliant NFO, rank-named artwork and .actors/ written into the movie folder, atomically; "
                "unchanged files are not touched, and only files metarr wrote are ever removed. Review and "
                f"publish with a click on the review page: {REVIEW_PAGE_URL} (`metarr review`, started by `make ui`).",
    kinds={"python"},
)
def published_library_files(context: dg.AssetExecutionContext, metarr: MetarrResource) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    # Runs launched by automation skip movies marked manual and movies already up to date; a run the user
    # launched from the UI publishes exactly the partitions they chose.
    automatic = context.run.tags.get(TRIGGER_TAG) in AUTOMATIC_TRIGGERS
    try:
        with metarr.providers() as providers:
            report = publish_movies(metarr.settings_without_roots, metarr.store(), providers, keys,
                                    automatic=automatic)
    except MetarrError as exc:
        raise_for(exc, context)
    described = partitions_to_describe(
        keys, [m.partition_key for m in report.movies if m.written or m.removed or m.warnings],
        [m.partition_key for m in report.failures])
    for movie in report.movies:
        if movie.error:
            context.log.warning("%s: %s", movie.partition_key, movie.error)
        if movie.partition_key not in described:
            continue
        meta: dict[str, dg.RawMetadataValue] = {
            "status": movie.status, "written": len(movie.written), "unchanged": len(movie.unchanged),
            "removed": len(movie.removed),
        }
        if movie.error:
            meta["error"] = movie.error
        if movie.written or movie.removed:
            meta["changes"] = dg.MetadataValue.md(markdown_table(
                ("file", "change"), [(p, "written") for p in movie.written] + [(p, "removed") for p in movie.removed]))
        if movie.warnings:
            meta["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in movie.warnings))
        context.add_asset_metadata(meta, partition_key=movie.partition_key)
    if report.movies and len(report.failures) == len(report.movies):
        raise dg.Failure(description=f"no movie could be published; first: {report.failures[0].error}")
    s = report.summary()
    problems = check_published(metarr.store(), keys)
    checks = [
        dg.AssetCheckResult(check_name=name, passed=not problems[key], metadata={
            "movies_checked": len(keys), "problems": len(problems[key]),
            **({"details": dg.MetadataValue.md(markdown_table(("movie", "problem"), problems[key][:200]))}
               if problems[key] else {})})
        for name, key in (("nfo_well_formed_and_matches_db", "nfo"), ("published_files_recorded", "files"))
    ]
    return dg.MaterializeResult(check_results=checks, metadata={
        "movies": s["movies"], "published": s["published"], "failed": s["failed"],
        "files_written": s["files_written"], "files_unchanged": s["files_unchanged"],
        "files_removed": s["files_removed"], "warnings": s["warnings"], "reclaimed_blobs": s["reclaimed_blobs"],
        "reclaimed_bytes": s["reclaimed_bytes"], "seconds": s["seconds"], "partitions_described": len(described),
        **failures_metadata(report.failures),
    })
