"""Enrich stage: provider metadata (more assets join here as enrichment grows).

Each movie's partition shows what happened to that movie (fetched or cached, which fields changed, its
warnings or error, a link to its review page); the run's totals (requests, cache hits, retries, ratings) are
reported once for the run (``step_metadata``).
"""

import dagster as dg

from dagster_project.assets.scan import scanned_movie
from dagster_project.metadata import markdown_table, raise_for, review_page
from dagster_project.partitions import movies_partitions
from dagster_project.pools import PROVIDERS
from dagster_project.resources import MetarrResource
from dagster_project.step_metadata import PartitionMetadata, report_run_totals
from metarr_pipeline.artwork.enrich.prefetch import fetch_with_previews
from metarr_pipeline.errors import MetarrError


class ProviderFetchConfig(dg.Config):
    force_refresh: bool = False
    """Refetch even when the cached responses are younger than the TTL."""


@dg.asset(
    group_name="enrich",
    partitions_def=movies_partitions,
    deps=[scanned_movie],
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=PROVIDERS,
    description="TMDB (one call per movie, everything appended) and fanart.tv responses, cached for the TTL, "
                "merged into the movie's metadata (fill gaps, don't erase, locks respected). Batch-capable: "
                "a run over many movies fetches them concurrently within the providers' limits, and analyses the "
                "new answers' artwork previews on the image hosts meanwhile (cached for cached_artwork).",
    kinds={"python", "duckdb"},
)
def provider_metadata(
    context: dg.AssetExecutionContext, metarr: MetarrResource, config: ProviderFetchConfig
) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    try:
        with metarr.providers() as providers:
            context.log.info(providers.describe())
            report, previews = fetch_with_previews(metarr.settings_without_roots, metarr.store(), providers, keys,
                                                   force=config.force_refresh)
    except MetarrError as exc:
        raise_for(exc, context)
    summary = report.summary()
    for failure in report.failures:
        context.log.warning("%s: %s", failure.partition_key, failure.error)
    if report.outcomes and len(report.failures) == len(report.outcomes):
        raise dg.Failure(description=f"every movie failed; first: {report.failures[0].error}",
                         metadata={"failed": len(report.failures)})
    per_movie = PartitionMetadata(context)
    for o in report.outcomes:
        meta: dict[str, dg.RawMetadataValue] = {"status": o.status, "changed": ", ".join(o.changed) or "nothing",
                                                "review_page": review_page(o.partition_key)}
        if o.error:
            meta["error"] = o.error
        if o.warnings:
            meta["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in o.warnings))
        per_movie.add(o.partition_key, meta)
    per_movie.attach()
    metadata: dict[str, dg.RawMetadataValue] = {
        "movies": summary["movies"], "fetched": summary["fetched"], "cached": summary["cached"],
        "failed": summary["failed"], "metadata_changed": summary["metadata_changed"],
        "requests": summary["requests"], "cache_hits": summary["cache_hits"], "retries": summary["retries"],
        "rate_limited": summary["rate_limited"], "seconds": summary["seconds"],
        "requests_by_kind": dg.MetadataValue.json(report.requests.get("by_kind", {})),
    }
    metadata.update(previews.summary())  # the previews analysed beside the fetch (the enrichment finds them cached)
    if previews.error:
        context.log.warning("previews analysed ahead of the enrichment: stopped early (%s)", previews.error)
    if report.ratings is not None and report.ratings.found:
        metadata["ratings_updated"] = report.ratings.updated
        metadata["ratings"] = dg.MetadataValue.json(report.ratings.summary())
    if report.failures:
        metadata["failures"] = dg.MetadataValue.md(
            markdown_table(("movie", "error"), [(f.partition_key, f.error) for f in report.failures[:200]]))
    warned = [(o.partition_key, "; ".join(o.warnings)) for o in report.outcomes if o.warnings]
    if warned:
        metadata["warnings"] = dg.MetadataValue.md(markdown_table(("movie", "warning"), warned[:200]))
    report_run_totals(context, metadata)
    return dg.MaterializeResult()
