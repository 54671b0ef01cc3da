"""Fetching an original into the blob store: one way in, shared by enrichment and publish.

Enrichment downloads the winners' originals and the actors' headshots; publish downloads the originals an
offline re-score deferred. All of them go through :func:`download_blob`, so every blob in the store came
from an allowlisted host, within the size cap, and opened as a complete image.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PIL import Image

from metarr_pipeline.blobs.blobstore import BlobStore
from metarr_pipeline.blobs.verify import verified_original
from metarr_pipeline.config import Settings
from metarr_pipeline.providers.http import HttpFetcher
from metarr_pipeline.providers.session import ProviderSession


def download_blob(session: ProviderSession, settings: Settings, blobs: BlobStore, url: str, kind: str,
                  now: datetime) -> dict[str, Any]:
    """Download an image (a canonical name from its configured endpoint, any other URL from an allowlisted
    host), check it is complete, store it; the ``blobs`` row."""
    return fetch_blob(session.fetcher, session.image_url, blobs, url, kind, now,
                      int(settings.providers.max_image_mb * 1024 * 1024))


def fetch_blob(fetcher: HttpFetcher, to_actual: Callable[[str], str], blobs: BlobStore, url: str, kind: str,
               now: datetime, max_bytes: int) -> dict[str, Any]:
    """:func:`download_blob` with the session's parts handed in one by one: what a worker process has (the
    enrichment's image workers, ``artwork.enrich.images``) instead of a whole session."""
    return fetch_blob_with_image(fetcher, to_actual, blobs, url, kind, now, max_bytes)[0]


def fetch_blob_with_image(fetcher: HttpFetcher, to_actual: Callable[[str], str], blobs: BlobStore, url: str,
                          kind: str, now: datetime, max_bytes: int
                          ) -> tuple[dict[str, Any], bytes, Image.Image | None]:
    """:func:`fetch_blob`, also handing back the bytes and the image as verifying decoded it (None for a JPEG):
    what the enrichment makes an original's contact-sheet tile of without decoding it again."""
    response = fetcher.get(to_actual(url), kind=kind, provider="image host", max_bytes=max_bytes)
    facts, image = verified_original(response.content)
    blob = blobs.put(response.content, facts.extension)
    return ({"sha256": blob.sha256, "ext": blob.ext, "bytes": blob.size, "width": facts.width,
             "height": facts.height, "format": facts.format, "source_url": url, "created_at": now},
            response.content, image)


def download_workers(settings: Settings) -> int:
    """Threads for image downloads: enough to fill every image host's connection limit at once (each host's
    limiter still caps its own connections); fewer would leave one host idle while the other is busy."""
    return max(2, settings.providers.tmdb.image_max_connections + settings.providers.fanart.image_max_connections)
