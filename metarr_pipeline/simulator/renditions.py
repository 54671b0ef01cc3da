"""Rendered image bytes, cached twice so the image hosts never re-draw a picture.

On disk (``image_cache_dir``), keyed by everything that changes the bytes, written atomically (temporary
file, then rename) so several simulator processes, e.g. a benchmark's workers, can share one cache
without ever reading a half-written file. In memory, an LRU bounded in bytes for the hot small
renditions (w300s and previews are what the analysis stage fetches, many times per run).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from metarr_pipeline.simulator.entries import ImageEntry
from metarr_pipeline.simulator.images import render

RENDER_VERSION = 1  # bump when drawing changes, so stale cached files are not served
_MEMORY_BUDGET = 96 * 1024 * 1024
_MEMORY_ITEM_MAX = 512 * 1024


class Renditions:
    """``get(image, width, height)`` → encoded bytes, from memory, disk or a fresh render."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._memory_bytes = 0
        self._lock = threading.Lock()

    def get(self, image: ImageEntry, width: int, height: int) -> bytes:
        key = self._key(image, width, height)
        with self._lock:
            data = self._memory.get(key)
            if data is not None:
                self._memory.move_to_end(key)
                return data
        path = self.cache_dir / key[:2] / f"{key}.{image.fmt.lower()}"
        try:
            data = path.read_bytes()
        except OSError:
            data = render(image.picture_id, image.style, width, height, image.fmt, image.quality, image.caption,
                          image.drawing_aspect)
            self._store(path, data)
        self._remember(key, data)
        return data

    @staticmethod
    def _key(image: ImageEntry, width: int, height: int) -> str:
        text = (f"{RENDER_VERSION}|{image.picture_id}|{image.style}|{width}x{height}|{image.fmt}|{image.quality}|"
                f"{image.drawing_aspect}|{image.caption}")
        return hashlib.sha1(text.encode()).hexdigest()

    @staticmethod
    def _store(path: Path, data: bytes) -> None:
        """Atomic: readers see the old state or the whole file. A full disk only costs a re-render."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            pass

    def _remember(self, key: str, data: bytes) -> None:
        if len(data) > _MEMORY_ITEM_MAX:
            return
        with self._lock:
            if key in self._memory:
                return
            self._memory[key] = data
            self._memory_bytes += len(data)
            while self._memory_bytes > _MEMORY_BUDGET:
                _, evicted = self._memory.popitem(last=False)
                self._memory_bytes -= len(evicted)
