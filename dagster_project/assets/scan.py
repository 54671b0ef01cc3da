"""Scan stage: the library-wide scan and the per-movie view of what it found.

The scan materialises ``scanned_movie`` for every movie whose scan result is new or changed (one small event
per movie: its folder, TMDB id, what changed and a link to its review page), so a movie's partition is green
from its first scan on and shows when the scan last saw it change; unchanged movies cost no event.
"""


import dagster as dg

from dagster_project.metadata import markdown_table, raise_for, review_page
from dagster_project.partitions import collections_partitions, movies_partitions, sync_partitions
from dagster_project.resources import MetarrResource
from dagster_project.step_metadata import PartitionMetadata, log_materializations
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.report import streams_summary
from metarr_pipeline.scan.scan import ScanReport, scan_library


@dg.asset(
    group_name="scan",
    description="Scan every library root: find movie folders, identify films, probe streams (cached by "
                "file size and mtime). Registers new movies as partitions and removes gone ones.",
    kinds={"duckdb", "python"},
)
def library_scan(context: dg.AssetExecutionContext, metarr: MetarrResource) -> dg.MaterializeResult:
    try:
        settings = metarr.settings  # validates the library roots before anything else happens
        with metarr.providers() as providers:
            context.log.info(providers.describe())
            report = scan_library(settings, metarr.store(), resolver=providers.tmdb)
    except MetarrError as exc:
        raise_for(exc, context)
    added, removed = sync_partitions(context.instance, report.partitions)
    # The sets of the movies the library still holds (known from earlier fetches; the partitions sensor adds the
    # ones a later fetch reveals): a set whose movies all left loses its partition here.
    sync_partitions(context.instance, [s.partition_key for s in metarr.store().library_sets().values()],
                    collections_partitions)
    described = _materialise_scanned_movies(context, report, set(added))
    summary = report.summary()
    context.log.info("scan: %s; partitions +%d -%d", summary, len(added), len(removed))
    problems = report.problems()
    metadata: dict[str, dg.RawMetadataValue] = {
        "found": summary["found"],
        "identified": summary["identified"],
        "unidentified": summary["unidentified"],
        "invalid": summary["invalid"],
        "probe_failures": summary["probe_failures"],
        "probed": summary["probed"],
        "probe_cache_hits": summary["probe_cache_hits"],
        "new": summary["new"],
        "moved": summary["moved"],
        "gone": summary["gone"],
        "partitions_added": len(added),
        "partitions_removed": len(removed),
        "scanned_movie_partitions_materialised": described,
        "seconds": summary["seconds"],
    }
    if problems:
        metadata["problems"] = dg.MetadataValue.md(markdown_table(("folder", "reason"), problems[:200]))
    return dg.MaterializeResult(metadata=metadata)


def _materialise_scanned_movies(context: dg.AssetExecutionContext, report: ScanReport, added: set[str]) -> int:
    """One ``scanned_movie`` materialisation per identified movie that is new, changed or newly a partition."""
    materializations = []
    for o in report.outcomes:
        key = o.partition_key
        if o.status != "identified" or not key or not (o.change or key in added):
            continue
        metadata: dict[str, dg.RawMetadataValue] = {
            "folder": dg.MetadataValue.path(o.folder), "tmdb_id": o.tmdb_id or 0,
            "change": o.change or "new partition", "review_page": review_page(key),
        }
        if o.probe_error:
            metadata["probe_error"] = o.probe_error
        materializations.append(dg.AssetMaterialization(asset_key=SCANNED_MOVIE, partition=key, metadata=metadata))
    log_materializations(context, materializations)
    return len(materializations)


SCANNED_MOVIE = dg.AssetKey("scanned_movie")


@dg.asset(
    group_name="scan",
    partitions_def=movies_partitions,
    deps=[library_scan],
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="One movie as the scan sees it: identity, folder and probed streams. The scan materialises "
                "it for new and changed movies; batch-capable: a run over many partitions reads them all in one "
                "query and describes each movie on its own partition.",
    kinds={"duckdb"},
)
def scanned_movie(context: dg.AssetExecutionContext, metarr: MetarrResource) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    store = metarr.store()
    wanted = set(keys)
    movies = {m.partition_key: m for m in store.movies(partition_keys=keys)}
    missing = sorted(wanted - set(movies))
    if missing:
        raise dg.Failure(description=f"movies not in the state database (run library_scan): {', '.join(missing[:20])}")
    streams = store.streams([m.id for m in movies.values() if m.id is not None])
    # Each partition's metadata is about its movie only; the run's count goes to its log.
    per_movie = PartitionMetadata(context)
    for key in keys:
        m = movies[key]
        per_movie.add(key, {
            "folder": dg.MetadataValue.path(m.folder), "tmdb_id": m.tmdb_id or 0,
            "state": m.status if m.gone_at is None else "gone", "identified_from": m.id_source,
            "streams": streams_summary(streams.get(m.id)) if not m.probe_error else f"probe failed: {m.probe_error}",
            "review_page": review_page(key),
        })
    per_movie.attach()
    failures = sum(1 for m in movies.values() if m.probe_error)
    context.log.info("scanned_movie: %d movies described, %d probe failures", len(keys), failures)
    return dg.MaterializeResult()
