"""Scan stage: the library-wide scan and the per-movie view of what it found."""


import dagster as dg

from dagster_project.metadata import markdown_table, raise_for
from dagster_project.partitions import movies_partitions, sync_partitions
from dagster_project.resources import MetarrResource
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.report import streams_summary
from metarr_pipeline.scan.scan import scan_library


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
        "seconds": summary["seconds"],
    }
    if problems:
        metadata["problems"] = dg.MetadataValue.md(markdown_table(("folder", "reason"), problems[:200]))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    group_name="scan",
    partitions_def=movies_partitions,
    deps=[library_scan],
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="One movie as the scan sees it: identity, folder and probed streams. Batch-capable: a run "
                "over many partitions reads them all in one query.",
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
    rows = []
    for key in keys:
        m = movies[key]
        rows.append((key, m.status if m.gone_at is None else "gone", m.folder,
                     streams_summary(streams.get(m.id)) if not m.probe_error else f"probe failed: {m.probe_error}"))
    metadata: dict[str, dg.RawMetadataValue] = {
        "movies": len(keys),
        "probe_failures": sum(1 for m in movies.values() if m.probe_error),
        "movies_table": dg.MetadataValue.md(markdown_table(("movie", "state", "folder", "streams"), rows[:500])),
    }
    if len(keys) == 1:
        m = movies[keys[0]]
        metadata |= {"folder": dg.MetadataValue.path(m.folder), "tmdb_id": m.tmdb_id or 0,
                     "identified_from": m.id_source, "streams": streams_summary(streams.get(m.id))}
    return dg.MaterializeResult(metadata=metadata)
