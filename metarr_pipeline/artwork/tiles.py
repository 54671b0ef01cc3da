"""The contact sheets' tiles, cached per image, and the review cache's atomic file writes.

A tile is a chosen original reduced to the sheet's tile size (``contact_sheet.tile_jpeg``), kept as
``<cache>/review/tiles/<sha[:2]>/<sha>.<geometry>.jpg``. The enrichment makes it right after it stores the original, on
its image workers (``artwork.enrich.images``: the original was just written, so reading it back is a page-cache
read), so the run's contact sheets only compose small tiles: drawing them from the originals afterwards, on the
run's own process and after every download, was most of Dagster's share of a cold enrichment (bench/results/). A
sheet of an original whose tile is missing (an older version's cache, a tile removed) makes it then.

Everything here is a cache: a file that cannot be written is only a miss, never an error.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from PIL import Image

from metarr_pipeline.artwork.contact_sheet import TILE_GEOMETRY, tile_jpeg
from metarr_pipeline.blobs import BlobStore


def tile_path(cache_dir: Path, sha: str) -> Path:
    return cache_dir / "review" / "tiles" / sha[:2] / f"{sha}.{TILE_GEOMETRY}.jpg"


def keep_tile(cache_dir: Path, sha: str, data: bytes, image: Image.Image | None = None) -> bytes | None:
    """Make and keep the tile of an original, from its bytes or from ``image`` when verifying it already decoded
    it (a PNG: decoding it again would cost more than the rest of the tile); None when it does not read."""
    tile = tile_jpeg(data, image)
    if tile is not None:
        write_atomically(tile_path(cache_dir, sha), tile)
    return tile


def tile_for(cache_dir: Path, sha: str, ext: str) -> bytes | None:
    """The cached original's tile, made now when missing; the original's bytes as they are when they do not
    read as an image (the sheet draws its red tile); None when the blob is gone."""
    try:
        return tile_path(cache_dir, sha).read_bytes()
    except OSError:
        pass
    try:
        data = BlobStore(cache_dir).path_for(sha, ext).read_bytes()
    except OSError:
        return None
    tile = keep_tile(cache_dir, sha, data)
    return data if tile is None else tile


def write_atomically(path: Path, data: bytes) -> bool:
    """A reader (any thread or process) sees the whole file or none; False when it could not be written. No
    fsync: a cache file lost in a crash is made again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}-{threading.get_ident()}")
        tmp.write_bytes(data)
        tmp.replace(path)
        return True
    except OSError:
        return False
