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

from metarr_pipeline import art_types
from metarr_pipeline.publish.nfo import clean_xml_text

MAX_FILE_NAME_BYTES = 255


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
    """The ``.actors/`` file Kodi matches for this actor, or None when no file can match.

    Kodi's rule exactly (``CVideoInfoScanner::FetchActorThumbs``; docs/KODI-SOURCE.md): the name as Kodi reads
    it from our NFO (ends trimmed, inner white space kept as it is: measured), every space replaced by ``_``,
    nothing else changed: case, UTF-8, dots (``Robert_Downey_Jr..jpg``) and characters such as ``:`` or
    ``?`` stay, because Kodi compares the listed file name, minus its extension, with that text byte for byte.
    A name with ``/`` or ``\\`` (Kodi splits paths on both), one starting with ``.`` (Kodi does not list hidden
    files) or one too long for a file name can never match: no file, the NFO's ``<thumb>`` URL is used. So the
    result is always one plain path component inside ``.actors/``.
    """
    text = clean_xml_text(name).strip().replace(" ", "_")  # the name as our NFO holds it (nfo._actor)
    if not text or text.startswith(".") or "/" in text or "\\" in text:
        return None
    file = f"{text}.{ext}"
    return file if len(file.encode("utf-8")) <= MAX_FILE_NAME_BYTES else None
