"""The user's own NFOs that publishing replaced: listed, and put back on request (``metarr backups/restore``).

Publishing backs up a user's NFO into the blob store once before its own NFO replaces it (``protect``). A
restore writes those exact bytes back (verified against their SHA-256, atomically) and hands the file back to
the user: our record of the path is forgotten, so a later publish treats it as the user's file again (backed
up, its state carried over), and the movie is marked manual so no automatic publish replaces it behind the
user's back. ``metarr manual KEY off`` and a publish undo that on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from metarr_pipeline.blobs import BlobStore
from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.publish.writer import write_atomic
from metarr_pipeline.store import MovieRecord, Store


class RestoreError(MetarrError):
    """A backup could not be restored (gone from the cache, damaged, or the folder refused it)."""


@dataclass(frozen=True)
class NfoBackup:
    number: int  # 1 = the oldest; what ``metarr restore KEY --at N`` takes
    path: str  # relative to the movie folder
    sha256: str
    saved_at: datetime
    size: int | None
    ext: str
    cached: bool  # its bytes are still in the blob store


def list_backups(settings: Settings, store: Store, movie: MovieRecord) -> list[NfoBackup]:
    assert movie.id is not None
    blobs = BlobStore(settings.cache_dir)
    return [NfoBackup(n, row["path"], row["sha256"], row["saved_at"], row["bytes"], row["ext"],
                      blobs.present(row["sha256"], row["ext"], row["bytes"]))
            for n, row in enumerate(store.nfo_backups(movie.id), start=1)]


def restore_backup(settings: Settings, store: Store, movie: MovieRecord, number: int | None = None) -> NfoBackup:
    """Write backup ``number`` (default: the newest) back into the movie folder; returns what was restored."""
    assert movie.id is not None
    backups = list_backups(settings, store, movie)
    if not backups:
        raise RestoreError(f"{movie.partition_key}: publishing has backed up no NFO of yours for this movie")
    if number is None:
        number = backups[-1].number
    chosen = next((b for b in backups if b.number == number), None)
    if chosen is None:
        raise RestoreError(f"{movie.partition_key}: no backup number {number} (there are {len(backups)}: "
                           f"see 'metarr backups {movie.partition_key}')")
    data = BlobStore(settings.cache_dir).read_verified(chosen.sha256, chosen.ext)
    if data is None:
        raise RestoreError(f"{movie.partition_key}: backup {number} ({chosen.sha256[:12]}) is missing from the "
                           f"cache or damaged: nothing restored")
    folder = Path(movie.folder)
    target = folder / chosen.path
    if not folder.is_dir():
        raise RestoreError(f"{movie.partition_key}: folder '{folder}' does not exist: nothing restored")
    if target.is_symlink() or not target.resolve().is_relative_to(folder.resolve()):
        raise RestoreError(f"{movie.partition_key}: '{target}' leads outside the movie folder: nothing restored")
    try:
        write_atomic(target, data)
    except OSError as exc:
        raise RestoreError(f"{movie.partition_key}: cannot write '{target}': {exc.strerror or exc}") from exc
    store.forget_library_file(movie.id, chosen.path)
    store.set_manual(movie.partition_key or "", True)
    return chosen
