"""Writing into a user's library: atomically, and not at all when the bytes are already right.

Every file goes to a temp file in the same folder (so the rename never crosses a filesystem), is fsynced,
then renamed over the target, and the folder is fsynced. A reader (Kodi, Jellyfin) or a crash therefore sees
the old file or the new one, never half of one. Temp files carry :data:`TEMP_PREFIX`, which the scan ignores
and the next publish removes.

``METARR_TEST_CRASH`` is a fault-injection seam for the crash test only: ``before-rename:N`` or
``after-rename:N`` kills the process (``os._exit``) around the N-th rename of this process.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

TEMP_PREFIX = ".metarr-tmp-"
_renames = 0


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
    global _renames
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f"{TEMP_PREFIX}{secrets.token_hex(6)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _crash_point("before-rename")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _renames += 1
    _fsync_dir(path.parent)
    _crash_point("after-rename")


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


def remove_stale_temps(folder: Path) -> int:
    """Temp files a crashed publish left behind (only ours: by prefix)."""
    removed = 0
    for sub in (folder, folder / ".actors", folder / "VIDEO_TS", folder / "BDMV"):
        try:
            entries = list(os.scandir(sub))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed
