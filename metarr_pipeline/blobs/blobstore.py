"""The content-addressed blob store: one file per distinct content, named by its SHA-256.

``<cache>/blobs/ab/cd/<sha256>.<ext>``. Writing is idempotent (same bytes → same name → nothing to do) and
atomic (temp file in the same folder, rename), so two processes writing the same image at once both succeed.
Blobs are not fsynced: the cache can always be refetched and is verified where it matters (publish checks the
size of every blob it relies on and the hash of every blob it copies into the library, and repairs a bad one),
so a power cut that leaves a short blob costs a download, not a wrong file; fsyncing ~20,000 images cost a
cold 1,000-movie run about a tenth of its time. Files in the library are fsynced (``publish.writer``).
Which blobs are still needed is the state store's business (rows that reference them); this module never
decides to delete on its own.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Blob:
    sha256: str
    ext: str
    size: int
    path: Path


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.cache_dir = Path(root)  # the cache the blobs are one part of (review tiles sit beside them)
        self.root = self.cache_dir / "blobs"

    def path_for(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.{ext}"

    def has(self, sha256: str, ext: str) -> bool:
        return self.path_for(sha256, ext).is_file()

    def put(self, data: bytes, ext: str) -> Blob:
        sha = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha, ext)
        if path.is_file() and path.stat().st_size == len(data):
            return Blob(sha, ext, len(data), path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Blob(sha, ext, len(data), path)

    def present(self, sha256: str, ext: str, size: int | None) -> bool:
        """The cheap check (one ``stat``): the file exists and, when the recorded size is known, has that size.
        It does not read the content: use :meth:`read_verified` when the bytes are needed."""
        try:
            st = self.path_for(sha256, ext).stat()
        except OSError:
            return False
        return stat.S_ISREG(st.st_mode) and (size is None or st.st_size == size)

    def read_verified(self, sha256: str, ext: str) -> bytes | None:
        """The blob's bytes when present and intact (they hash to its name), else ``None``: one read serves
        both the check and the use."""
        try:
            data = self.path_for(sha256, ext).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        return data if hashlib.sha256(data).hexdigest() == sha256 else None

    def remove(self, sha256: str, ext: str) -> int:
        """Delete one blob (publish's garbage collection calls this for blobs nothing refers to)."""
        path = self.path_for(sha256, ext)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size
