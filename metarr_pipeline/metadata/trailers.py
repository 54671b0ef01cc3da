"""The trailer: TMDB's best YouTube video, as the URL the current Kodi YouTube add-on plays.

``plugin://plugin.video.youtube/play/?video_id=<id>`` is the add-on's current route; the older
``?action=play_video&videoid=`` form (still written by Kodi's own TMDB scraper and other tools) no longer plays.

Which video, in order: a trailer before a teaser (nothing else is a trailer: featurettes, clips and
behind-the-scenes are left out); an official one before a fan upload; the user's language, then English,
then any; the larger size; then the earliest published (the original over a re-upload) and the key, so the
choice is deterministic. Only YouTube is playable through the add-on; a key that is not a YouTube id is
ignored rather than written into a URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

YOUTUBE_URL = "plugin://plugin.video.youtube/play/?video_id="
_KINDS = ("Trailer", "Teaser")
# The add-on's old route, still in NFOs other tools wrote: ``?action=play_video&videoid=<id>``.
_LEGACY = re.compile(r"^plugin://plugin\.video\.youtube/?\?action=play_video&videoid=([A-Za-z0-9_-]{11})$")
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")


def _rank(video: Mapping[str, Any], languages: tuple[str, ...]) -> tuple[Any, ...]:
    language = str(video.get("iso_639_1") or "").lower()
    size = video.get("size")
    return (
        _KINDS.index(video["type"]),
        video.get("official") is not True,
        languages.index(language) if language in languages else len(languages),
        -(size if isinstance(size, int) else 0),
        str(video.get("published_at") or ""),
        str(video["key"]),
    )


def current_trailer_url(url: str) -> str:
    """A trailer URL as the current add-on plays it: the old ``action=play_video`` form rewritten, others kept."""
    url = url.strip()
    match = _LEGACY.match(url)
    return YOUTUBE_URL + match.group(1) if match else url


def best_trailer(videos: Mapping[str, Any] | None, language: str = "en") -> str:
    """The add-on URL of the best trailer in TMDB's ``videos`` section, or "" when there is none."""
    results = (videos or {}).get("results") if isinstance(videos, Mapping) else None
    playable = [v for v in results or () if isinstance(v, Mapping) and v.get("site") == "YouTube"
                and v.get("type") in _KINDS and _YOUTUBE_ID.fullmatch(str(v.get("key") or ""))]
    if not playable:
        return ""
    ladder = tuple(dict.fromkeys((language.lower(), "en")))
    best = min(playable, key=lambda v: _rank(v, ladder))
    return YOUTUBE_URL + str(best["key"])
