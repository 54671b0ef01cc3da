"""Everything decided about one movie before a byte is written into its folder.

Validate (enriched, folder present, inside its library root, free space: < 100 MB is a warning), plan, refuse any
path that leaves the folder through a symlink (:mod:`confine`), sweep our stale temp files from every folder the
movie uses, leave the user's files alone, make sure every image to write is in hand and verified, probe that the
folder is writable (a real temp file, only when a write or a removal is due: the probe touches the folder's mtime),
back up the user's own NFO, and the intent rows the batch records before any write (so a crash still knows what we
may have written). A failure here writes nothing and says why.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metarr_pipeline.publish.cache import blob_bytes, blob_present
from metarr_pipeline.publish.confine import check_confined, confined_folder
from metarr_pipeline.publish.context import PublishContext
from metarr_pipeline.publish.plan import Planned, plan_movie
from metarr_pipeline.publish.protect import backup_user_nfo, skip_user_files, warn_foreign_movie_nfo
from metarr_pipeline.publish.report import MoviePublish, PublishError
from metarr_pipeline.publish.writer import check_writable, remove_stale_temps, sha256_file
from metarr_pipeline.store import LibraryFileRow, MovieRecord

LOW_SPACE_BYTES = 100 * 1024 * 1024


@dataclass
class Prepared:
    movie: MovieRecord
    result: MoviePublish
    folder: Path
    plan: list[Planned]
    ours: dict[str, LibraryFileRow]  # path → the record of a file we wrote before
    to_write: dict[str, bytes]  # path → its verified bytes, for files not already right
    keep: set[str]  # names of ours to keep although not planned (see plan.is_kept)
    intent: list[dict[str, Any]]


def prepare_movie(movie: MovieRecord, ctx: PublishContext, result: MoviePublish) -> Prepared:
    """Raises (PublishError, OSError...) when the movie cannot be published; nothing is written then."""
    assert movie.id is not None
    folder = Path(movie.folder)
    real_folder = _validate(movie, folder, ctx, result)
    keep: set[str] = set()
    ours = ctx.files.get(movie.id, {})
    planned = plan_movie(movie, ctx, result, keep)
    paths = [p.path for p in planned] + list(ours)
    check_confined(folder, real_folder, paths)  # no write or removal through a symlink out of the folder
    remove_stale_temps(folder, {Path(p).parent.as_posix() for p in paths} - {"."})
    plan = skip_user_files(folder, planned, ours, result)
    plan, to_write = _resolve(folder, plan, ours, ctx, result)
    if to_write or set(ours) - {p.path for p in plan}:  # a write or a removal is due: probe only then
        _check_writable(folder)
    warn_foreign_movie_nfo(movie, folder, ours, result)
    backup_user_nfo(movie, folder, plan, ours, ctx, result)
    intent = [{"path": p.path, "role": p.role, "sha256": p.sha256, "bytes": 0, "mtime_ns": None,
               "written_at": ctx.now} for p in plan if p.path not in ours or ours[p.path].sha256 != p.sha256]
    return Prepared(movie, result, folder, plan, ours, to_write, keep, intent)


def _validate(movie: MovieRecord, folder: Path, ctx: PublishContext, result: MoviePublish) -> Path:
    """The resolved movie folder, once it is known to be publishable (confined to its library root)."""
    assert movie.id is not None
    if movie.gone_at is not None:
        raise PublishError(f"the movie is gone from disk since {movie.gone_at:%Y-%m-%d}: nothing to publish")
    if not getattr(ctx.state.get(movie.id), "enriched", False) or movie.id not in ctx.metadata:
        raise PublishError("not enriched yet: run enrichment (metarr enrich) before publishing")
    if ctx.metadata[movie.id].fetch_error and ctx.metadata[movie.id].fields_json == "{}":
        raise PublishError(f"no provider metadata: {ctx.metadata[movie.id].fetch_error}")
    if not folder.is_dir():
        raise PublishError(f"folder '{folder}' does not exist (moved or deleted since the last scan)")
    real_folder = confined_folder(folder, movie.library_root)
    free = shutil.disk_usage(folder).free
    if free < LOW_SPACE_BYTES:
        result.warnings.append(f"only {free // (1024 * 1024)} MB free on the library volume")
    return real_folder


def _check_writable(folder: Path) -> None:
    """The temp-file probe changes the folder's mtime, so it runs only when a write or a removal is due: a
    publish that changes nothing must leave every folder as it was (players and file watchers see folders)."""
    try:
        check_writable(folder)
    except OSError as exc:
        raise PublishError(f"folder '{folder}' is not writable ({exc.strerror or exc}): nothing written") from exc


def _resolve(folder: Path, plan: list[Planned], ours: dict[str, LibraryFileRow], ctx: PublishContext,
             result: MoviePublish) -> tuple[list[Planned], dict[str, bytes]]:
    """The plan that can be published and the bytes of each file to write: every image to write is read and
    verified (or repaired) now, before anything is written; an image the provider changed is dropped."""
    to_write: dict[str, bytes] = {}
    resolved: dict[str, bytes | None] = {}  # sha → verified bytes (None: not publishable), once per movie
    ready: list[Planned] = []
    for item in plan:
        target = folder / item.path
        right = _already_right(target, item, ours.get(item.path))
        if right and item.blob is not None and not blob_present(item, target, ctx):
            right = False  # the library copy did not hash right either: repair the cache, then write
        if not right:
            if item.data is not None:
                data: bytes | None = item.data
            else:
                assert item.blob is not None
                if item.blob[0] not in resolved:
                    resolved[item.blob[0]] = blob_bytes(item, ctx, result)
                data = resolved[item.blob[0]]
            if data is None:
                continue  # the provider now serves different bytes: reported, not published
            to_write[item.path] = data
        ready.append(item)
    return ready, to_write


def _already_right(target: Path, item: Planned, record: LibraryFileRow | None) -> bool:
    try:
        st = target.stat()
    except FileNotFoundError:
        return False
    if record and record.sha256 == item.sha256 and record.mtime_ns == st.st_mtime_ns \
            and record.bytes == st.st_size:
        return True  # unchanged since we wrote it: no need to read it
    return sha256_file(target) == item.sha256
