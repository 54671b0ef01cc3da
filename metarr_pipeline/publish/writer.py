"""Writing into a user's library: atomically, and not at all when the bytes are already right.

Every file goes to a temp file in the same folder (so the rename never crosses a filesystem), is fsynced,
then renamed over the target, and the folder is fsynced (a movie's folder once, after all its renames). A movie
stages all its temp files first (:func:`stage_file`) and renames them only once all are written
(:func:`commit_file`), so a failure before
the renames (a full disk, a read-only subfolder) leaves every old file as it was. A reader (Kodi, Jellyfin)
or a crash therefore sees the old file or the new one, never half of one. Temp files carry
:data:`TEMP_PREFIX`, which the scan ignores and the next publish removes, in every folder it writes.

``METARR_TEST_CRASH`` is a fault-injection seam for the crash test only: ``before-rename:N`` or
``after-rename:N`` kills the process (``os._exit``) around the N-th rename of this process.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
from collections.abc import Iterable
from pathlib import Path

TEMP_PREFIX = ".metarr-tmp-"
_renames = 0
_rename_lock = threading.Lock()  # movies are published from several threads


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _crash_point(stage: str) -> None:
    spec = os.environ.get("METARR_TEST_CRASH", "")
    if not spec:
        return
    where, _, count = spec.partition(":")
    if where == stage and count.isdigit() and _renames + (1 if stage == "before-rename" else 0) == int(count):
        os._exit(137)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically. Raises OSError (the caller records it on the movie)."""
    commit_file(stage_file(path, data), path)


def stage_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new fsynced temp file beside ``path``; the temp's path, for :func:`commit_file` (or
    :func:`discard` on failure). Nothing at ``path`` changes yet. A failed write leaves no temp file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f"{TEMP_PREFIX}{secrets.token_hex(6)}"
    try:
        # O_EXCL | O_NOFOLLOW: a fresh file of ours, never through a symlink someone planted at that name.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def commit_file(tmp: Path, path: Path, *, sync_folder: bool = True) -> None:
    """Rename a staged temp file over ``path`` (atomic) and fsync the folder (``sync_folder=False``: the caller
    renames several files into it and fsyncs it once, :func:`sync_folders`)."""
    global _renames
    try:
        _crash_point("before-rename")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with _rename_lock:
        _renames += 1
    if sync_folder:
        _fsync_dir(path.parent)
    _crash_point("after-rename")


def sync_folders(paths: Iterable[Path]) -> None:
    """fsync each folder the renamed ``paths`` are in, once: what makes their renames durable."""
    for folder in dict.fromkeys(p.parent for p in paths):
        _fsync_dir(folder)


def discard(temps: list[Path]) -> None:
    """Remove staged temp files that will not be committed (best effort: the next publish sweeps the rest)."""
    for tmp in temps:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(folder: Path) -> None:
    """Create and remove a temp file: the only honest test of "can we write here" (root, ACLs, ro mounts)."""
    probe = folder / f"{TEMP_PREFIX}{secrets.token_hex(6)}"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.close(fd)
    probe.unlink()


def remove_stale_temps(folder: Path, subfolders: Iterable[str] = ()) -> int:
    """Temp files a crashed publish left behind (only ours: by prefix), in the folder and each subfolder we
    write (``.actors/``, a disc structure's ``VIDEO_TS/.actors/``...); a subfolder that resolves outside the
    folder (a symlink) is not looked into."""
    removed = 0
    real = folder.resolve()
    subs = {"", ".actors", "VIDEO_TS", "BDMV", "VIDEO_TS/.actors", "BDMV/.actors", *subfolders}
    for rel in sorted(subs):
        sub = folder / rel if rel else folder
        if rel and not sub.resolve().is_relative_to(real):
            continue
        try:
            entries = list(os.scandir(sub))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed
