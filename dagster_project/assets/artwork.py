"""Enrich stage, artwork and actors: four assets computed in one batched step.

Candidates, their scored selection, the cached originals and the actor headshots come out of one pass over
the batch (the selection needs the analysis, the cache needs the selection), so they are one ``multi_asset``
that always materialises its four assets together. Each movie's review screen (contact sheet, top candidates
with score parts, duplicates dropped) is attached to that movie's partition with ``add_asset_metadata``: every
movie of a small run, and in a library-wide run the movies that changed or failed (see
``metadata.partitions_to_describe``).

A run launched by a config-change backfill (tag ``metarr/trigger=config_change``) or with ``defer_originals``
re-scores offline: no provider request at all; originals of newly chosen winners are fetched by the next
regular enrichment or when the movie is published.
"""

import dagster as dg

from dagster_project.assets.enrich import provider_metadata
from dagster_project.code_versions import config_code_versions
from dagster_project.metadata import failures_metadata, markdown_table, partitions_to_describe, raise_for
from dagster_project.partitions import movies_partitions
from dagster_project.resources import MetarrResource
from dagster_project.run_tags import CONFIG_CHANGE, REVIEW_PAGE_URL, TRIGGER_TAG
from metarr_pipeline.artwork.choices import apply_choices
from metarr_pipeline.artwork.enrich import MovieEnrichment, enrich_movies
from metarr_pipeline.artwork.review import contact_sheet_for, top_table
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.fingerprints import config_fingerprint

CANDIDATES = dg.AssetKey("artwork_candidates")
SELECTION = dg.AssetKey("artwork_selection")
CACHED = dg.AssetKey("cached_artwork")
ACTORS = dg.AssetKey("actor_thumbnails")
ENRICH_VERSION = config_code_versions()[0]


class ArtworkConfig(dg.Config):
    """User choices applied before the run (each a pick locks its type)."""

    picks: list[str] = []
    """'movie-key:type:candidate-id' entries to pick."""
    rejects: list[str] = []
    """'movie-key:type:candidate-id' entries to reject."""
    locks: list[str] = []
    """'movie-key:type' entries whose current selection is frozen."""
    unlocks: list[str] = []
    """'movie-key:type' entries to unfreeze (their picks are forgotten)."""
    contact_sheets: int = 25
    """Movies per run that get a contact-sheet preview in their metadata (each costs decoding its images)."""
    defer_originals: bool = False
    """Re-score offline: do not download originals of newly chosen winners now (publish fetches them)."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(CANDIDATES, deps=[provider_metadata], partitions_def=movies_partitions, group_name="enrich",
                     code_version=ENRICH_VERSION,
                     description="Every artwork image both providers offer, analysed from a small rendition "
                                 "(real format and size, perceptual hash).", kinds={"polars"}),
        dg.AssetSpec(SELECTION, deps=[CANDIDATES], partitions_def=movies_partitions, group_name="enrich",
                     code_version=ENRICH_VERSION,
                     description="Scored (named parts), ranked per movie × type, near-duplicates dropped, top N "
                                 "chosen; user picks, rejects and locks respected. Every candidate with a Pick "
                                 f"button: the review page, {REVIEW_PAGE_URL} (`metarr review`).", kinds={"polars"}),
        dg.AssetSpec(CACHED, deps=[SELECTION], partitions_def=movies_partitions, group_name="enrich",
                     code_version=ENRICH_VERSION,
                     description="The chosen originals, verified, in the content-addressed cache. The review "
                                 "screen: a contact sheet of the chosen art per movie.", kinds={"python"}),
        dg.AssetSpec(ACTORS, deps=[provider_metadata], partitions_def=movies_partitions, group_name="enrich",
                     code_version=ENRICH_VERSION,
                     description="Top-billed actors (one per person) with their headshots cached as shared blobs.",
                     kinds={"python"}),
    ],
    partitions_def=movies_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=False,
    check_specs=[dg.AssetCheckSpec("has_poster", asset=SELECTION,
                                   description="Every enriched movie in the run has a selected poster.")],
)
def enriched_artwork(context: dg.AssetExecutionContext, metarr: MetarrResource, config: ArtworkConfig):
    keys = list(context.partition_keys)
    defer = config.defer_originals or context.run.tags.get(TRIGGER_TAG) == CONFIG_CHANGE
    settings = metarr.settings_without_roots
    store = metarr.store()
    try:
        apply_choices(store, picks=config.picks, rejects=config.rejects, locks=config.locks,
                      unlocks=config.unlocks)
        with metarr.providers() as providers:
            context.log.info(providers.describe())
            report = enrich_movies(settings, store, providers, keys, download_originals=not defer)
    except MetarrError as exc:
        raise_for(exc, context)

    by_key = {m.partition_key: m for m in report.movies}
    fingerprint = config_fingerprint(settings)
    described = partitions_to_describe(keys, [m.partition_key for m in report.movies if m.status == "enriched"],
                                       [m.partition_key for m in report.failures])
    sheets = 0
    for key in keys:
        movie = by_key.get(key)
        if movie is None or key not in described:
            continue
        _partition_metadata(context, movie, settings.cache_dir, with_sheet=sheets < config.contact_sheets,
                            fingerprint=fingerprint)
        sheets += 1
    for failure in report.failures:
        context.log.warning("%s: %s", failure.partition_key, failure.error)
    for kept in (m for m in report.movies if m.status == "kept"):  # a fault: the stored result stays, retried
        context.log.warning("%s: %s", kept.partition_key, "; ".join(kept.warnings))
    if report.movies and len(report.failures) == len(report.movies):
        raise dg.Failure(description=f"every movie failed; first: {report.failures[0].error}")

    s = report.summary()
    without_poster = [m.partition_key for m in report.movies
                      if m.status not in ("failed", "kept") and not any(c.type == "poster" for c in m.chosen)]
    yield dg.AssetCheckResult(asset_key=SELECTION, check_name="has_poster", passed=not without_poster,
                              severity=dg.AssetCheckSeverity.WARN,
                              metadata={"movies_without_poster": len(without_poster),
                                        "movies": ", ".join(without_poster[:50])})
    yield dg.MaterializeResult(asset_key=CANDIDATES, metadata={
        "movies": s["movies"], "candidates": s["candidates"], "previews_analysed": s["previews_analysed"],
        "previews_cached": s["previews_cached"], "failed_movies": s["failed"],
        "partitions_described": len(described),
        **failures_metadata(report.failures)})
    yield dg.MaterializeResult(asset_key=SELECTION, metadata={
        "enriched": s["enriched"], "unchanged": s["unchanged"], "kept_last_good": s["kept"],
        "selection_changed": s["selection_changed"]})
    yield dg.MaterializeResult(asset_key=CACHED, metadata={
        "originals_downloaded": s["originals_downloaded"], "originals_reused": s["originals_reused"],
        "originals_deferred": s["originals_deferred"], "bytes_downloaded": s["bytes_downloaded"],
        "seconds": s["seconds"]})
    yield dg.MaterializeResult(asset_key=ACTORS, metadata={
        "headshots_downloaded": s["headshots_downloaded"], "headshots_reused": s["headshots_reused"]})


def _partition_metadata(context: dg.AssetExecutionContext, movie: MovieEnrichment, cache_dir, with_sheet: bool,
                        fingerprint: str) -> None:
    key = movie.partition_key
    if movie.status == "failed":
        context.add_asset_metadata({"error": movie.error}, asset_key=CANDIDATES, partition_key=key)
        return
    context.add_asset_metadata({"candidates": movie.candidates, "unreadable_or_failed": movie.failed_candidates,
                                "status": movie.status}, asset_key=CANDIDATES, partition_key=key)
    selection_md = top_table(movie)
    if movie.duplicates:
        selection_md += "\n\n**Duplicates dropped**\n\n" + markdown_table(
            ("type", "candidate", "duplicate of"), list(movie.duplicates))
    context.add_asset_metadata({"review": dg.MetadataValue.md(selection_md),
                                "review_page": dg.MetadataValue.url(f"{REVIEW_PAGE_URL}/key/{key}"),
                                "selection_changed": movie.selection_changed,
                                "config_fingerprint": fingerprint}, asset_key=SELECTION, partition_key=key)
    chosen = {"chosen": dg.MetadataValue.md(markdown_table(
        ("type", "rank", "candidate", "provider", "lang", "size", "score", "original"),
        [(c.type, c.rank, c.candidate_id, c.provider, c.language or "textless", f"{c.width}x{c.height}",
          f"{c.score:.1f}", "cached" if c.blob_sha else "fetched at publish") for c in movie.chosen]))}
    if with_sheet:
        sheet = contact_sheet_for(movie, cache_dir)
        if sheet:
            chosen["contact_sheet"] = dg.MetadataValue.md(sheet)
    context.add_asset_metadata(chosen, asset_key=CACHED, partition_key=key)
    context.add_asset_metadata({"actors": movie.actors, "without_headshot": movie.actors_without_headshot},
                               asset_key=ACTORS, partition_key=key)
