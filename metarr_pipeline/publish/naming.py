"""Where Kodi looks for each file (KODI.md, measured on Kodi 20.1), in one place.

- An ordinary video ``M/Name.mkv`` (or ``.iso``): ``Name.nfo``, ``Name-poster.jpg``, ``Name-poster1.jpg``...,
  ``M/.actors/``. A stack ``Name-cd1.mkv``, ``Name-cd2.mkv``: ``Name-cd1.nfo`` (Kodi reads the first part's NFO
  first), ``Name-poster.jpg`` (a stack's art is named after the stacked title).
- A DVD ``M/VIDEO_TS/``: ``M/VIDEO_TS/VIDEO_TS.nfo``, bare art names in ``M/`` (``poster.jpg``, ``poster1.jpg``),
  ``M/VIDEO_TS/.actors/``. A flat DVD: ``M/VIDEO_TS.nfo``, bare names, ``M/.actors/``.
- A Blu-ray ``M/BDMV/``: ``M/BDMV/index.nfo``, bare names in ``M/``, ``M/BDMV/.actors/``.

Rank 1 of a type has no number; rank n + 1 is ``{type}{n}`` (``-fanart.jpg``, ``-fanart1.jpg``...); the
stems are ``art_types``' ``kodi_name`` column.
"""

from __future__ import annotations

import re
import unicodedata

from metarr_pipeline import art_types

_ILLEGAL = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def nfo_path(kind: str, basename: str, video_file: str | None = None) -> str:
    """A stack's NFO goes beside its first part (``Movie-cd1.nfo``: where Kodi looks first), its artwork under
    the stacked title (``basename``, ``Movie-poster.jpg``: where Kodi looks for a stack's art)."""
    if kind in ("dvd", "bluray", "dvd_flat"):
        return {"dvd": "VIDEO_TS/VIDEO_TS.nfo", "bluray": "BDMV/index.nfo", "dvd_flat": "VIDEO_TS.nfo"}[kind]
    if video_file and "." in video_file and "/" not in video_file:
        return f"{video_file.rpartition('.')[0]}.nfo"
    return f"{basename}.nfo"


def artwork_path(kind: str, basename: str, art_type: str, rank: int, ext: str) -> str:
    stem = art_types.file_stem(art_type, rank)
    if kind in ("dvd", "bluray", "dvd_flat"):
        return f"{stem}.{ext}"
    return f"{basename}-{stem}.{ext}"


def extrafanart_path(rank: int, ext: str) -> str:
    """Kodi's legacy extra copies number from 1 (``extrafanart/fanart1.jpg``), unlike the rank names."""
    fanart = art_types.art_type("fanart")
    return f"{fanart.extra_folder}/{fanart.kodi_name}{rank}.{ext}"


def actors_dir(kind: str) -> str:
    return {"dvd": "VIDEO_TS/.actors", "bluray": "BDMV/.actors"}.get(kind, ".actors")


def actor_file_name(name: str, ext: str) -> str | None:
    """Kodi's rule: spaces → ``_``, case and UTF-8 kept, characters illegal in file names removed.

    The result is always one plain path component (never ``.``/``..``, never a separator), so a hostile name
    like ``../../x`` becomes ``x.jpg`` inside ``.actors/`` and cannot escape it.
    """
    text = unicodedata.normalize("NFC", name).strip().replace(" ", "_")
    text = _ILLEGAL.sub("", text).strip(". ")
    text = text[:200]
    if not text or text in (".", ".."):
        return None
    return f"{text}.{ext}"
