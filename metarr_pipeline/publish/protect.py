"""The user's own files: never overwritten, never removed; the user's own NFO is the one file we replace.

A file at a planned path that we did not write (the user's own ``-poster.jpg``) is left alone and reported,
unless it already holds exactly our bytes (then it is adopted: our own earlier crash, or a copy). A symlink at
any of our names, the NFO's included, is the user's: kept and reported, never replaced by a regular file. The user's own
NFO is backed up into the blob store once before ours replaces it; its state and foreign tags were read at scan
and are carried into ours.
"""

from __future__ import annotations

from pathlib import Path

from metarr_pipeline.publish import naming
from metarr_pipeline.publish.confine import is_symlink
from metarr_pipeline.publish.context import PublishContext
from metarr_pipeline.publish.plan import Planned
from metarr_pipeline.publish.report import MoviePublish, PublishError
from metarr_pipeline.publish.writer import sha256_file
from metarr_pipeline.store import LibraryFileRow, MovieRecord

NFO_BACKUP_LIMIT = 5 * 1024 * 1024  # an "NFO" larger than this is not one we dare replace


def skip_user_files(folder: Path, plan: list[Planned], ours: dict[str, LibraryFileRow],
                    result: MoviePublish) -> list[Planned]:
    kept = []
    for item in plan:
        target = folder / item.path
        if is_symlink(target):  # the user's, wherever it points (even at a name we wrote before): never replaced
            result.warnings.append(f"'{item.path}' is a symlink (the user's): kept untouched, not written")
            continue
        if item.role != "nfo" and item.path not in ours and target.exists():
            if target.is_file() and sha256_file(target) == item.sha256:
                kept.append(item)  # identical bytes: adopt it (e.g. our own earlier crash, or a copy)
                continue
            result.warnings.append(f"'{item.path}' exists and was not written by metarr: kept untouched")
            continue
        kept.append(item)
    return kept


def warn_foreign_movie_nfo(movie: MovieRecord, folder: Path, ours: dict[str, LibraryFileRow],
                           result: MoviePublish) -> None:
    """A ``movie.nfo`` we did not write, beside ours of another name, wins in Kodi's folder mode: say so."""
    if movie.kind == "file" and (folder / "movie.nfo").is_file() and "movie.nfo" not in ours \
            and naming.nfo_path(movie.kind, movie.basename or "", movie.video_file) != "movie.nfo":
        result.warnings.append("a movie.nfo not written by metarr is in the folder: Kodi's folder mode would read "
                               "it instead of ours (kept; remove or rename it if that is not what you want)")


def backup_user_nfo(movie: MovieRecord, folder: Path, plan: list[Planned], ours: dict[str, LibraryFileRow],
                    ctx: PublishContext, result: MoviePublish) -> None:
    """Keep the user's own NFO in the blob store before ours replaces it (its state is carried over too)."""
    assert movie.id is not None
    nfo = next((p for p in plan if p.role == "nfo"), None)
    if nfo is None:  # the NFO's name is the user's symlink: not replaced, nothing to back up
        return
    target = folder / nfo.path
    if nfo.path in ours or not target.is_file():
        return
    data = target.read_bytes()
    if len(data) > NFO_BACKUP_LIMIT:
        raise PublishError(f"'{nfo.path}' is {len(data)} bytes: refusing to replace an NFO that large")
    blob = ctx.blobs.put(data, "nfo")
    ctx.store.record_nfo_backup(movie.id, nfo.path, {"sha256": blob.sha256, "ext": blob.ext, "bytes": blob.size,
                                                     "source_url": str(target)}, ctx.now)
    result.warnings.append(f"'{nfo.path}' was the user's own: backed up ({blob.sha256[:12]}) and replaced, "
                           "with its watched state and extra tags carried over")
