"""``metarr publish --dry-run``: the file plan of each movie, decided as publishing would, writing nothing.

It follows the same rules as a real publish (the plan from :mod:`plan`, the user's files from :mod:`protect`,
removal only of our own unchanged files, as in :mod:`apply`) but only reads: the library (to hash what is
there), the state database and nothing else. No temp file, no backup, no download, no store write. What a
real run could still find out only by writing (a folder that refuses a write, a cached original that turns out
damaged) is not known here, so a dry run may list a file as ``write`` that the real run then fails on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from metarr_pipeline.config import Settings
from metarr_pipeline.publish.context import PublishContext
from metarr_pipeline.publish.plan import is_kept, plan_movie
from metarr_pipeline.publish.report import MoviePublish
from metarr_pipeline.publish.writer import sha256_file
from metarr_pipeline.store import MovieRecord, Store

ACTIONS = ("write", "unchanged", "remove", "keep")


@dataclass
class FileStep:
    path: str  # relative to the movie folder
    action: str  # write | unchanged | remove | keep (a file that is not ours, left alone)
    why: str = ""


@dataclass
class MoviePlan:
    partition_key: str
    folder: str
    files: list[FileStep] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""  # the movie would not be published, and why


def plan_publish(settings: Settings, store: Store, partition_keys: Sequence[str]) -> list[MoviePlan]:
    """The plan of every named movie (identified ones; the others are not publishable and say so)."""
    movies = store.movies(include_gone=True, partition_keys=list(partition_keys))
    ids = [m.id for m in movies if m.id is not None and m.status == "identified"]
    ctx = PublishContext.load(settings, store, None, ids, datetime.now().replace(microsecond=0))
    return [_plan_one(m, ctx) for m in movies if m.partition_key]


def _plan_one(movie: MovieRecord, ctx: PublishContext) -> MoviePlan:
    assert movie.partition_key is not None
    result = MoviePlan(movie.partition_key, movie.folder)
    folder = Path(movie.folder)
    error = _cannot_publish(movie, folder, ctx)
    if error:
        result.error = error
        return result
    assert movie.id is not None
    report = MoviePublish(movie.partition_key, "planned")
    keep: set[str] = set()
    plan = plan_movie(movie, ctx, report, keep)
    ours = ctx.files.get(movie.id, {})
    for item in plan:
        target = folder / item.path
        if not target.exists():
            result.files.append(FileStep(item.path, "write", "new"))
        elif target.is_file() and sha256_file(target) == item.sha256:
            result.files.append(FileStep(item.path, "unchanged"))
        elif item.path in ours or item.role == "nfo":
            why = "changed" if item.path in ours else "the user's own NFO: backed up first, state carried over"
            result.files.append(FileStep(item.path, "write", why))
        else:
            result.files.append(FileStep(item.path, "keep", "exists and was not written by metarr"))
    planned = {p.path for p in plan}
    for path, record in sorted(ours.items()):
        target = folder / path
        if path in planned or not target.is_file():
            continue
        if is_kept(path, keep):
            result.files.append(FileStep(path, "keep", "its new original is not cached yet"))
        elif sha256_file(target) != record["sha256"]:
            result.files.append(FileStep(path, "keep", "changed since metarr wrote it"))
        else:
            result.files.append(FileStep(path, "remove", "no longer selected"))
    result.warnings = list(report.warnings)
    return result


def _cannot_publish(movie: MovieRecord, folder: Path, ctx: PublishContext) -> str:
    if movie.status != "identified" or movie.id is None:
        return f"not identified ({movie.status}): nothing to publish"
    if movie.gone_at is not None:
        return f"the movie is gone from disk since {movie.gone_at:%Y-%m-%d}: nothing to publish"
    if not ctx.state.get(movie.id, {}).get("enriched") or movie.id not in ctx.metadata:
        return "not enriched yet: run enrichment (metarr enrich) before publishing"
    if not folder.is_dir():
        return f"folder '{folder}' does not exist (moved or deleted since the last scan)"
    return ""
