"""Movie sets stage: each set's art chosen (``collection_artwork``) and its set folder written
(``published_movie_sets``), one ``collections`` partition per set, batched like the movies' assets.

Both are thin: the domain's :func:`~metarr_pipeline.artwork.sets.enrich_collections` and
:func:`~metarr_pipeline.publish.movie_sets.publish_movie_sets` over the run's partitions. A set that fails (a
provider down for it) is named in the metadata and the log; the run fails only when every set failed.
"""

from datetime import datetime

import dagster as dg

from dagster_project.assets.enrich import provider_metadata
from dagster_project.metadata import markdown_table, raise_for
from dagster_project.partitions import collections_partitions
from dagster_project.pools import LIBRARY_WRITES, PROVIDERS
from dagster_project.resources import MetarrResource
from dagster_project.step_metadata import PartitionMetadata, report_run_totals
from metarr_pipeline.artwork.sets import enrich_collections
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.publish.movie_sets import publish_movie_sets


@dg.asset(
    group_name="sets",
    partitions_def=collections_partitions,
    # Every movie's metadata may name the set: the set depends on the fetch as a whole, not on one movie.
    deps=[dg.AssetDep(provider_metadata, partition_mapping=dg.AllPartitionMapping())],
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=PROVIDERS,
    description="A movie set's artwork: TMDB's /collection images and fanart.tv's set art (one call each per set, "
                "cached), scored, de-duplicated and selected by the movies' machinery, one winner per type "
                "(poster, fanart, clearlogo, clearart, banner, landscape, discart), verified into the blob store.",
    kinds={"python", "duckdb"},
)
def collection_artwork(context: dg.AssetExecutionContext, metarr: MetarrResource) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    try:
        with metarr.providers() as providers:
            report = enrich_collections(metarr.settings_without_roots, metarr.store(), providers, keys)
    except MetarrError as exc:
        raise_for(exc, context)
    per_set = PartitionMetadata(context)
    for movie_set in report.sets:
        meta: dict[str, dg.RawMetadataValue] = {"status": movie_set.status, "candidates": movie_set.candidates}
        if movie_set.error:
            context.log.warning("%s: %s", movie_set.partition_key, movie_set.error)
            meta["error"] = movie_set.error
        if movie_set.chosen:
            meta["chosen"] = dg.MetadataValue.md(markdown_table(
                ("type", "provider", "size", "score"),
                [(a.type, a.provider, f"{a.width}x{a.height}", round(a.score, 1)) for a in movie_set.chosen]))
        if movie_set.partition_key in keys:
            per_set.add(movie_set.partition_key, meta)
    per_set.attach()
    if report.sets and len(report.failures) == len(report.sets):
        raise dg.Failure(description=f"every set failed; first: {report.failures[0].error}")
    s = report.summary()
    report_run_totals(context, {
        "sets": s["sets"], "enriched": s["enriched"], "unchanged": s["unchanged"], "kept": s["kept"],
        "failed": s["failed"], "images": s["images"], "requests": s["requests"], "seconds": s["seconds"],
        **({"failures": dg.MetadataValue.md(markdown_table(
            ("set", "error"), [(f.partition_key, f.error) for f in report.failures[:200]]))}
           if report.failures else {}),
    })
    return dg.MaterializeResult()


@dg.asset(
    group_name="sets",
    partitions_def=collections_partitions,
    deps=[collection_artwork],
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=LIBRARY_WRITES,
    description="The set's folder in [publish] movie_sets_folder (Kodi's 'Movie set information folder'): the "
                "selected art of every type under Kodi's names and set.nfo; only files metarr wrote are ever "
                "replaced or removed (a manifest per folder). Nothing to do while movie_sets_folder is unset.",
    kinds={"python"},
)
def published_movie_sets(context: dg.AssetExecutionContext, metarr: MetarrResource) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    try:
        with metarr.providers() as providers:
            report = publish_movie_sets(metarr.settings_without_roots, metarr.store(), providers, datetime.now(),
                                        keys)
    except MetarrError as exc:
        raise_for(exc, context)
    if report is None:
        report_run_totals(context, {"movie_sets_folder": "unset: nothing published"})
        return dg.MaterializeResult()
    for problem in report.problems:
        context.log.warning(problem)
    report_run_totals(context, {
        "folder": report.folder, "sets": report.sets, "written": len(report.written), "removed": len(report.removed),
        "problems": len(report.problems),
        **({"changes": dg.MetadataValue.md(markdown_table(
            ("file", "change"), [(p, "written") for p in report.written] + [(p, "removed") for p in report.removed]))}
           if report.written or report.removed else {}),
        **({"problem_list": dg.MetadataValue.md("\n".join(f"- {p}" for p in report.problems))}
           if report.problems else {}),
    })
    return dg.MaterializeResult()
