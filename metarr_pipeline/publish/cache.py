"""The blob cache as publishing needs it: present, verified, repaired, and reclaimed once nothing needs it.

Completeness is checked only as deeply as each file needs. A file already right in the library needs its blob
only present (one ``stat``: exists, recorded size), and a missing one is restored from the library's own copy.
A file to write has its blob read once and hashed; a missing or damaged blob is downloaded again and verified
before anything is written. A provider that now serves different bytes is reported, never silently published.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from metarr_pipeline.blobs import BlobStore, download_blob
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.publish.context import PublishContext
from metarr_pipeline.publish.plan import Planned
from metarr_pipeline.publish.report import MoviePublish, PublishError
from metarr_pipeline.store import Store

log = logging.getLogger(__name__)


def blob_present(item: Planned, target: Path, ctx: PublishContext) -> bool:
    """For a library file already right: its blob need only be present (one ``stat``, recorded size). A missing
    one is restored from the library's copy when that hashes right (offline, nothing downloaded)."""
    assert item.blob is not None
    sha, ext = item.blob
    if ctx.blobs.present(sha, ext, getattr(ctx.blob_rows.get(sha), "bytes", None)):
        return True
    data = target.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        return False
    ctx.blobs.put(data, ext)  # absent or of the wrong size, so put() really writes it
    log.info("publish: cached image %s restored from %s", sha[:12], target)
    return True


def blob_bytes(item: Planned, ctx: PublishContext, result: MoviePublish) -> bytes | None:
    """The verified bytes of an image to write: read once and hashed; a missing or damaged blob is downloaded
    again (and verified). ``None`` when the provider now serves different bytes (reported on the movie)."""
    assert item.blob is not None
    sha, ext = item.blob
    data = ctx.blobs.read_verified(sha, ext)
    if data is not None:
        return data
    what, url = item.what, item.url
    if ctx.session is None:
        raise PublishError(f"{what}: cached image {sha[:12]} is missing or damaged and no provider is available")
    log.warning("publish: cached image %s (%s) is missing or damaged: downloading it again", sha[:12], what)
    ctx.blobs.remove(sha, ext)  # a damaged copy of the right size would otherwise be kept by put()
    try:
        row = download_blob(ctx.session, ctx.settings, ctx.blobs, url, "original", ctx.now)
    except MetarrError as exc:
        raise PublishError(f"{what}: cached image {sha[:12]} is missing or damaged and could not be downloaded "
                           f"again: {exc}") from exc
    if row["sha256"] != sha:
        result.warnings.append(f"{what}: the provider now serves different bytes for {url} "
                               f"(was {sha[:12]}, now {row['sha256'][:12]}): not published; re-enrich to review it")
        return None
    data = ctx.blobs.read_verified(sha, row["ext"])
    if data is None:
        raise PublishError(f"{what}: cached image {sha[:12]} is still damaged after downloading it again")
    return data


def reclaim_blobs(store: Store, blobs: BlobStore) -> tuple[int, int]:
    """Delete blobs nothing refers to any more (after the user approved by publishing)."""
    candidates = store.unreferenced_blobs()
    if not candidates:
        return 0, 0
    deleted = set(store.forget_blobs([sha for sha, _, _ in candidates]))
    freed = 0
    for sha, ext, _ in candidates:
        if sha in deleted:
            freed += blobs.remove(sha, ext)
    return len(deleted), freed
