"""Reports of a run done in steps (behind a progress bar) joined into one, and a movie's status as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from metarr_pipeline.config import Settings
from metarr_pipeline.models import StreamDetails
from metarr_pipeline.providers.fetch import FetchReport
from metarr_pipeline.report import movie_state, streams_summary
from metarr_pipeline.store import MovieRecord, Store


def _add_counts(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Numbers summed key by key, nested dicts (``by_kind``) likewise; anything else: the last one."""
    out = dict(total)
    for key, value in part.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, dict)):
            out[key] = value
        elif isinstance(value, dict):
            out[key] = _add_counts(out.get(key) or {}, value)
        else:
            out[key] = out.get(key, 0) + value
    return out


def merge_fetch(reports: Sequence[FetchReport]) -> FetchReport:
    if len(reports) == 1:
        return reports[0]
    requests: dict[str, Any] = {}
    for r in reports:
        requests = _add_counts(requests, r.requests)
    return FetchReport(outcomes=tuple(o for r in reports for o in r.outcomes), requests=requests,
                       cache_hits=sum(r.cache_hits for r in reports), seconds=sum(r.seconds for r in reports),
                       auth_error=next((r.auth_error for r in reports if r.auth_error), ""))


def merge_enrich(reports: Sequence[Any]) -> Any:
    from metarr_pipeline.artwork.enrich import EnrichReport

    if len(reports) == 1:
        return reports[0]
    counters: dict[str, Any] = {}
    requests: dict[str, Any] = {}
    for r in reports:
        counters, requests = _add_counts(counters, r.counters), _add_counts(requests, r.requests)
    return EnrichReport(movies=[m for r in reports for m in r.movies], counters=counters, requests=requests,
                        seconds=sum(r.seconds for r in reports))


def merge_publish(reports: Sequence[Any], settings: Settings, store: Store, *, reclaim: bool) -> Any:
    """One report; with ``reclaim`` (the steps each skipped it) the blob cache is reclaimed once, at the end."""
    from metarr_pipeline.blobs import BlobStore
    from metarr_pipeline.publish.publish import PublishReport, reclaim_blobs

    report = reports[0] if len(reports) == 1 else PublishReport(
        [m for r in reports for m in r.movies], reclaimed_blobs=sum(r.reclaimed_blobs for r in reports),
        reclaimed_bytes=sum(r.reclaimed_bytes for r in reports), seconds=sum(r.seconds for r in reports))
    if reclaim:
        report.reclaimed_blobs, report.reclaimed_bytes = reclaim_blobs(store, BlobStore(settings.cache_dir))
    return report


def movie_status(movie: MovieRecord, streams: dict[int, StreamDetails], publish: dict[int, dict[str, Any]],
                 stale: dict[str, list[str]]) -> dict[str, Any]:
    """One movie of ``metarr status --json``: what the table shows, as fields."""
    pub = publish.get(movie.id or -1, {})
    return {
        "key": movie.partition_key, "folder": movie.folder, "status": movie.status, "state": movie_state(movie),
        "title": movie.title, "year": movie.year, "tmdb_id": movie.tmdb_id, "imdb_id": movie.imdb_id,
        "id_source": movie.id_source, "reason": movie.reason, "warnings": list(movie.warnings),
        "enriched": bool(pub.get("enriched")), "publish_state": pub.get("state", "unpublished"),
        "stale": movie.partition_key in set(stale.get("enrich", [])) | set(stale.get("publish", [])),
        "manual": movie.manual, "gone_at": movie.gone_at, "probe_error": movie.probe_error,
        "streams": streams_summary(streams.get(movie.id)) if movie.id in streams else None,
    }
