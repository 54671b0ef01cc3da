"""Artwork candidates: every image both providers offer, normalised into one polars frame per batch.

Mapping (DOMAIN §4, the ``sources`` column of ``art_types``): TMDB posters → poster (and keyart when
textless); TMDB backdrops → fanart and landscape; TMDB logos → clearlogo; each fanart.tv key → its type.
fanart.tv gives no sizes, so its images get the key's nominal size until measured; TMDB's declared sizes
are checked against the measured aspect of the small rendition during analysis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from metarr_pipeline.art_types import provider_feeds
from metarr_pipeline.providers.images import TMDB_IMAGE_BASE

TMDB_PREVIEW_SIZE = "w300"

SCHEMA: dict[str, Any] = {
    "movie_id": pl.Int64, "type": pl.String, "candidate_id": pl.String, "provider": pl.String,
    "url": pl.String, "preview_url": pl.String, "language": pl.String, "width": pl.Int32, "height": pl.Int32,
    "votes": pl.Int64, "vote_average": pl.Float64,
}


def candidate_id(provider: str, url: str) -> str:
    """Stable across runs and hosts: the provider plus the image's own path, hashed."""
    path = url.split("://", 1)[-1].split("/", 1)[-1]
    return hashlib.sha1(f"{provider}:{path}".encode()).hexdigest()[:16]


def _tmdb_language(value: Any) -> str:
    return value.strip().lower() if isinstance(value, str) and value.strip() else ""


def _fanart_language(value: Any) -> str:
    lang = (value or "").strip().lower() if isinstance(value, str) else ""
    return "" if lang in ("", "00") else lang


def tmdb_candidates(movie_id: int, body: Mapping[str, Any], image_base: str, enabled: set[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    images = body.get("images") or {}

    def add(kinds: Iterable[str], image: Mapping[str, Any]) -> None:
        path = image.get("file_path")
        if not isinstance(path, str) or not path.startswith("/"):
            return
        url = f"{image_base}/original{path}"
        for kind in kinds:
            if kind in enabled:
                rows.append({
                    "movie_id": movie_id, "type": kind, "candidate_id": candidate_id("tmdb", url), "provider": "tmdb",
                    "url": url, "preview_url": f"{image_base}/{TMDB_PREVIEW_SIZE}{path}",
                    "language": _tmdb_language(image.get("iso_639_1")),
                    "width": int(image.get("width") or 0), "height": int(image.get("height") or 0),
                    "votes": int(image.get("vote_count") or 0), "vote_average": float(image.get("vote_average") or 0.0),
                })

    for key, feeds in provider_feeds("tmdb"):
        for image in images.get(key) or []:
            textless = not _tmdb_language(image.get("iso_639_1"))
            add([kind for kind, source in feeds if textless or not source.textless_only], image)
    return rows


def fanart_candidates(movie_id: int, body: Mapping[str, Any] | None, enabled: set[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for key, feeds in provider_feeds("fanart"):
        for image in (body or {}).get(key) or []:
            url = image.get("url") if isinstance(image, Mapping) else None
            if not isinstance(url, str) or "://" not in url:
                continue
            lang = _fanart_language(image.get("lang"))
            try:
                likes = int(str(image.get("likes") or "0"))
            except ValueError:
                likes = 0
            for kind, source in feeds:
                if kind not in enabled or (source.textless_only and lang):
                    continue
                width, height = source.nominal or (0, 0)
                rows.append({
                    "movie_id": movie_id, "type": kind, "candidate_id": candidate_id("fanart", url),
                    "provider": "fanart", "url": url, "preview_url": url.replace("/fanart/", "/preview/", 1),
                    "language": lang, "width": width, "height": height, "votes": likes, "vote_average": None,
                })
    return rows


def provider_candidates(owner_id: int, tmdb: Mapping[str, Any], fanart: Mapping[str, Any] | None,
                        enabled: set[str]) -> list[dict[str, Any]]:
    """Both providers' candidates of one movie (or set), named under TMDB's canonical image base (``providers.images``:
    the names stay valid whatever endpoint the bytes come from)."""
    return tmdb_candidates(owner_id, tmdb, TMDB_IMAGE_BASE, enabled) + fanart_candidates(owner_id, fanart, enabled)


def candidates_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row") if rows else pl.DataFrame(schema=SCHEMA)
    # One candidate per (movie, type, id): providers occasionally list an image twice.
    return frame.unique(subset=["movie_id", "type", "candidate_id"], keep="first", maintain_order=True)
