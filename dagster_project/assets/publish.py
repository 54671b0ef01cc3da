"""Publish stage: the library files (NFO, artwork, .actors) written into each movie folder.

Never materialised automatically unless ``auto_publish`` is on: the user reviews the enrichment in the UI and
then materialises this asset for the movies they choose (any number of partitions, one batched run). Such a
run from the asset page has no notify step (it is an asset job of this asset alone), so it tells the players
itself once the files are written: the whole publish, notifications included, is that one run. In
``publish_job`` the ``player_notifications`` step does it.
"""

from typing import Any

import dagster as dg

from dagster_project.assets.artwork import ACTORS, CACHED
from dagster_project.assets.delivery import (
    NOTIFICATIONS,
    delivery_totals,
    log_player_failures,
    notify_step_in_run,
)
from dagster_project.assets.enrich import provider_metadata
from dagster_project.code_versions import config_code_versions
from dagster_project.metadata import failures_metadata, markdown_table, raise_for, review_page
from dagster_project.partitions import movies_partitions
from dagster_project.pools import LIBRARY_WRITES
from dagster_project.resources import MetarrResource
from dagster_project.run_tags import AUTOMATIC_TRIGGERS, REVIEW_PAGE_URL, TRIGGER_TAG
from dagster_project.step_metadata import PartitionMetadata, report_run_totals
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.players.deliver import deliver_notifications
from metarr_pipeline.publish.checks import check_published
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.publish.report import MoviePublish


@dg.asset(
    group_name="publish",
    partitions_def=movies_partitions,
    deps=[CACHED, ACTORS, provider_metadata],
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=LIBRARY_WRITES,
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
    per_movie = PartitionMetadata(context)
    for movie in report.movies:
        if movie.error:
            context.log.warning("%s: %s", movie.partition_key, movie.error)
        per_movie.add(movie.partition_key, _movie_metadata(movie))
    if report.movies and len(report.failures) == len(report.movies):
        raise dg.Failure(description=f"no movie could be published; first: {report.failures[0].error}")
    if not notify_step_in_run(context):
        _notify_players(context, metarr, keys, per_movie)
    s = report.summary()
    problems = check_published(metarr.store(), keys)
    checks = [
        dg.AssetCheckResult(check_name=name, passed=not problems[key], metadata={
            "movies_checked": len(keys), "problems": len(problems[key]),
            **({"details": dg.MetadataValue.md(markdown_table(("movie", "problem"), problems[key][:200]))}
               if problems[key] else {})})
        for name, key in (("nfo_well_formed_and_matches_db", "nfo"), ("published_files_recorded", "files"))
    ]
    report_run_totals(context, {
        "movies": s["movies"], "published": s["published"], "failed": s["failed"],
        "files_written": s["files_written"], "files_unchanged": s["files_unchanged"],
        "files_removed": s["files_removed"], "warnings": s["warnings"], "reclaimed_blobs": s["reclaimed_blobs"],
        "reclaimed_bytes": s["reclaimed_bytes"], "seconds": s["seconds"], **failures_metadata(report.failures)})
    per_movie.attach()
    return dg.MaterializeResult(check_results=checks)


def _notify_players(context: dg.AssetExecutionContext, metarr: MetarrResource, keys: list[str],
                    per_movie: PartitionMetadata) -> None:
    """Deliver this run's notifications now (no notify step follows in this run). A player's trouble is recorded
    and retried by the sensor as always; an unreadable state here is a warning, never a failed publish."""
    try:
        report = deliver_notifications(metarr.settings_without_roots, metarr.store(), keys)
    except MetarrError as exc:
        context.log.warning("players not notified in this run (the sensor retries): %s", exc)
        return
    for key, told in report.by_partition().items():
        per_movie.add(key, {"players_told": dg.MetadataValue.md(markdown_table(
            ("player", "told"), sorted(told.items())))})
    log_player_failures(context, report)
    report_run_totals(context, delivery_totals(report), NOTIFICATIONS)


def _movie_metadata(movie: MoviePublish) -> dict[str, Any]:
    """What publishing did to this movie's folder, and a link to its review page."""
    meta: dict[str, dg.RawMetadataValue] = {
        "status": movie.status, "written": len(movie.written), "unchanged": len(movie.unchanged),
        "removed": len(movie.removed), "review_page": review_page(movie.partition_key),
    }
    if movie.error:
        meta["error"] = movie.error
    if movie.written or movie.removed:
        meta["changes"] = dg.MetadataValue.md(markdown_table(
            ("file", "change"), [(p, "written") for p in movie.written] + [(p, "removed") for p in movie.removed]))
    if movie.warnings:
        meta["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in movie.warnings))
    return meta
