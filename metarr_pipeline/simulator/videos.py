"""Every movie's ``videos``: trailers, teasers and extras as TMDB lists them, generated from the movie id.

The set plants what a trailer picker must get right: a fan upload that is larger than the official trailer,
an official teaser, a smaller official trailer, one in French and one in the original language, a featurette,
and a Vimeo trailer the YouTube add-on cannot play. Keys look like YouTube ids (11 URL-safe characters).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class VideoEntry:
    key: str
    name: str
    site: str
    size: int
    type: str
    official: bool
    language: str
    country: str
    published_at: str


def video_key(seed: int, movie_id: int, slot: int) -> str:
    digest = hashlib.blake2b(f"{seed}:video:{movie_id}:{slot}".encode(), digest_size=9).digest()
    return base64.urlsafe_b64encode(digest).decode()[:11]


# (slot, name, site, size, type, official, language or None for the original language)
_PLAN = (
    (0, "Fan-made trailer (4K upscale)", "YouTube", 2160, "Trailer", False, "en"),
    (1, "Official Teaser", "YouTube", 1080, "Teaser", True, "en"),
    (2, "Official Trailer", "YouTube", 1080, "Trailer", True, "en"),
    (3, "Official Trailer (720p)", "YouTube", 720, "Trailer", True, "en"),
    (4, "Bande-annonce officielle", "YouTube", 1080, "Trailer", True, "fr"),
    (5, "Original trailer", "YouTube", 1080, "Trailer", True, None),
    (6, "Official Trailer", "Vimeo", 2160, "Trailer", True, "en"),
    (7, "Behind the Scenes", "YouTube", 1080, "Featurette", True, "en"),
)


def movie_videos(seed: int, movie_id: int, original_language: str, release_date: str) -> tuple[VideoEntry, ...]:
    out = []
    for slot, name, site, size, kind, official, language in _PLAN:
        lang = language or original_language
        if language is None and lang in ("en", "fr"):
            continue  # the original-language trailer only where it is a third language
        key = video_key(seed, movie_id, slot) if site == "YouTube" else str(100_000_000 + movie_id * 8 + slot)
        out.append(VideoEntry(key, name, site, size, kind, official, lang, "US" if lang == "en" else "",
                              f"{release_date}T16:00:{slot:02d}.000Z"))
    return tuple(out)
