"""Thumbnails for the review pages: small JPEGs from what is already cached, fetched once otherwise.

A candidate's thumbnail is its small rendition (TMDB ``w300``, fanart.tv preview: the image the analysis
measured); a selected candidate whose original is in the blob store is thumbnailed from that blob without any
request. A rendition not on disk yet is fetched once through the providers' session (the allowlist, the per-host
limits and the size cap apply), verified as an image and kept under ``<cache>/review/``, so browsing the library
again costs no request. Whatever cannot be read becomes a grey placeholder: a page never fails on an image.
"""

from __future__ import annotations

import hashlib
import html
import io
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from PIL import Image

from metarr_pipeline.artwork.tiles import write_atomically
from metarr_pipeline.blobs import BlobStore
from metarr_pipeline.blobs.verify import open_image
from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.providers.http import check_allowed
from metarr_pipeline.providers.session import ProviderSession, open_providers

log = logging.getLogger(__name__)

THUMB_BOX = (300, 300)  # a poster column of the grid is ~180 px wide: 300 keeps it sharp on HiDPI


class Thumbnails:
    """Thumbnail bytes by (preview URL, cached blob), with one lazily opened provider session."""

    def __init__(self, settings: Settings,
                 providers: Callable[[], AbstractContextManager[ProviderSession]] | None = None) -> None:
        self.settings = settings
        self.root = settings.cache_dir / "review"
        self.blobs = BlobStore(settings.cache_dir)
        self._open = providers or (lambda: open_providers(settings))
        self._session_cm: AbstractContextManager[ProviderSession] | None = None
        self._session: ProviderSession | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._session_cm is not None:
                self._session_cm.__exit__(None, None, None)
            self._session_cm = self._session = None

    def thumbnail(self, url: str, blob: tuple[str, str] | None = None) -> bytes | None:
        """A JPEG thumbnail, or None when neither the cache nor the provider yields a readable image."""
        if not url and blob is None:
            return None
        digest = hashlib.sha256((url or (blob[0] if blob else "")).encode()).hexdigest()
        path = self.root / digest[:2] / f"{digest}.jpg"
        if path.is_file():
            return path.read_bytes()
        data = self._from_blob(blob) if blob is not None else None
        if data is None and url:
            data = self._fetch(url)
        thumb = _thumbnail(data) if data is not None else None
        if thumb is not None:
            write_atomically(path, thumb)
        return thumb

    def _from_blob(self, blob: tuple[str, str]) -> bytes | None:
        sha, ext = blob
        return self.blobs.read_verified(sha, ext) if sha else None

    def _fetch(self, url: str) -> bytes | None:
        try:
            session = self.session()
            check_allowed(url, session.image_hosts)
            response = session.fetcher.get(session.actual(url), kind="preview", provider="image host",
                                           max_bytes=int(self.settings.providers.max_image_mb * 1024 * 1024))
            return response.content
        except MetarrError as exc:
            log.warning("review: no thumbnail for %s: %s", url, exc)
            return None

    def session(self) -> ProviderSession:
        with self._lock:
            if self._session is None:
                self._session_cm = self._open()
                self._session = self._session_cm.__enter__()
            return self._session


def _thumbnail(data: bytes) -> bytes | None:
    try:
        fmt, image = open_image(data, min_side=1)  # sniffed and size-limited, like every image we read
        if fmt == "jpeg":
            image.draft("RGB", THUMB_BOX)
        image.load()
        image.thumbnail(THUMB_BOX)
        if image.mode not in ("RGB", "L"):
            rgba = image.convert("RGBA")
            background = Image.new("RGB", image.size, (58, 62, 70))  # the page's card colour under transparency
            background.paste(rgba, mask=rgba.split()[-1])
            image = background
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
        return out.getvalue()
    except Exception as exc:  # an unreadable image is a placeholder on the page, never an error
        log.warning("review: unreadable image (%s)", exc)
        return None


def placeholder_svg(text: str, width: int = 200, height: int = 300) -> bytes:
    """A grey card with the text (a movie's title, or "no image"), for an image we do not have."""
    label = html.escape(text[:40])
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="#3a3e46"/>'
            f'<text x="50%" y="50%" fill="#b8bcc6" font-family="sans-serif" font-size="14" '
            f'text-anchor="middle">{label}</text></svg>').encode()
