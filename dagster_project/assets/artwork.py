"""Enrich stage, artwork and actors: four assets computed in one batched step.

Candidates, their scored selection, the cached originals and the actor headshots come out of one pass over
the batch (the selection needs the analysis, the cache needs the selection), so they are one ``multi_asset``
that always materialises its four assets together. Every movie of the run, whatever its size, gets its own small
review on its partitions (``step_metadata.PartitionMetadata``): on ``artwork_selection`` a link to its review
page and the chosen art with its score and score parts; on ``cached_artwork`` the chosen files and one small
contact sheet (tiles labelled with the file name each gets and the candidate id, rendered from the cached
originals and kept beside them, so an unchanged movie's sheet is read back, not drawn again). The batch's totals
are reported once for the run.

A run launched by a config-change backfill (tag ``metarr/trigger=config_change``) or with ``defer_originals``
re-scores offline: no provider request at all; originals of newly chosen winners are fetched by the next
regular enrichment or when the movie is published.
"""

import dagster as dg

from dagster_project.assets.enrich import provider_metadata
from dagster_project.code_versions import config_code_versions
from dagster_project.metadata import failures_metadata, markdown_table, raise_for, review_page
from dagster_project.partitions import movies_partitions
from dagster_project.pools import PROVIDERS
from dagster_project.resources import MetarrResource
from dagster_project.run_tags import CONFIG_CHANGE, REVIEW_PAGE_URL, TRIGGER_TAG
from dagster_project.step_metadata import PartitionMetadata, report_run_totals
from metarr_pipeline.artwork.choices import apply_choices
from metarr_pipeline.artwork.enrich import MovieEnrichment, enrich_movies
from metarr_pipeline.artwork.review import Names, chosen_table, contact_sheets_for, file_name
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.fingerprints import config_fingerprint
from metarr_pipeline.publish.naming import art_base, artwork_path
from metarr_pipeline.store import MovieRecord

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
    pool=PROVIDERS,
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

    per_movie = PartitionMetadata(context)
    fingerprint = config_fingerprint(settings)
    records = {m.partition_key: m for m in store.movies(partition_keys=keys)}
    named = [(movie, published_names(records.get(movie.partition_key), movie)) for movie in report.movies]
    sheets = contact_sheets_for([pair for pair in named if pair[0].status != "failed"], settings.cache_dir)
    by_key = dict(zip([m.partition_key for m, _ in named if m.status != "failed"], sheets, strict=True))
    for movie, names in named:
        _describe_movie(per_movie, movie, fingerprint, names, by_key.get(movie.partition_key, ""))
    per_movie.attach()
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
    report_run_totals(context, {
        "movies": s["movies"], "candidates": s["candidates"], "previews_analysed": s["previews_analysed"],
        "previews_cached": s["previews_cached"], "failed_movies": s["failed"],
        **failures_metadata(report.failures)}, CANDIDATES)
    report_run_totals(context, {
        "enriched": s["enriched"], "unchanged": s["unchanged"], "kept_last_good": s["kept"],
        "selection_changed": s["selection_changed"]}, SELECTION)
    report_run_totals(context, {
        "originals_downloaded": s["originals_downloaded"], "originals_reused": s["originals_reused"],
        "originals_deferred": s["originals_deferred"], "bytes_downloaded": s["bytes_downloaded"],
        "image_processes": report.image_processes, "seconds": s["seconds"],
        **{f"seconds_{stage}": v for stage, v in report.stage_seconds.items()}}, CACHED)
    report_run_totals(context, {
        "headshots_downloaded": s["headshots_downloaded"], "headshots_reused": s["headshots_reused"]}, ACTORS)
    for key in (CANDIDATES, SELECTION, CACHED, ACTORS):
        yield dg.MaterializeResult(asset_key=key)


def published_names(record: MovieRecord | None, movie: MovieEnrichment) -> Names:
    """The names the movie's chosen art gets in its folder (the publish stage's naming), after its base name."""
    if record is None:
        return {}
    base = art_base(record.basename or "")
    names = {}
    for c in movie.chosen:
        name = artwork_path(record.kind, record.basename or "", c.type, c.rank, c.ext or "jpg")
        names[(c.type, c.rank)] = name[len(base):] if name.startswith(f"{base}-") else name
    return names


def _describe_movie(per_movie: PartitionMetadata, movie: MovieEnrichment, fingerprint: str, names: Names,
                    sheet: str) -> None:
    """The movie's own review, small: its numbers, a link to its review page, the chosen art, its contact sheet
    (drawn for the whole run beforehand, on every core)."""
    key = movie.partition_key
    link = review_page(key)
    if movie.status == "failed":
        per_movie.add(key, {"error": movie.error, "review_page": link}, CANDIDATES)
        return
    per_movie.add(key, {"candidates": movie.candidates, "unreadable_or_failed": movie.failed_candidates,
                        "status": movie.status}, CANDIDATES)
    per_movie.add(key, {"review_page": link, "review": dg.MetadataValue.md(chosen_table(movie, names)),
                        "selection_changed": movie.selection_changed, "config_fingerprint": fingerprint}, SELECTION)
    chosen: dict[str, dg.RawMetadataValue] = {"review_page": link, "chosen": dg.MetadataValue.md(markdown_table(
        ("type", "file", "candidate", "provider", "lang", "size", "score", "original"),
        [(c.type, file_name(c, names), c.candidate_id, c.provider, c.language or "textless", f"{c.width}x{c.height}",
          f"{c.score:.1f}", "cached" if c.blob_sha else "fetched at publish") for c in movie.chosen]))}
    if sheet:
        chosen["contact_sheet"] = dg.MetadataValue.md(sheet)
    per_movie.add(key, chosen, CACHED)
    per_movie.add(key, {"actors": movie.actors, "without_headshot": movie.actors_without_headshot}, ACTORS)
