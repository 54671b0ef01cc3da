"""Where Kodi looks for each file (KODI.md, measured on Kodi 20.1), in one place.

- An ordinary video ``M/Name.mkv`` (or ``.iso``): ``Name.nfo``, ``Name-poster.jpg``, ``Name-poster1.jpg``...,
  ``M/.actors/``. A stack ``Name-cd1.mkv``, ``Name-cd2.mkv``: ``Name-cd1.nfo`` (Kodi reads the first part's NFO
  first), ``Name-poster.jpg`` (a stack's art is named after the stacked title).
- A DVD ``M/VIDEO_TS/``: ``M/VIDEO_TS/VIDEO_TS.nfo``, bare art names in ``M/`` (``poster.jpg``, ``poster1.jpg``),
  ``M/VIDEO_TS/.actors/``. A flat DVD: ``M/VIDEO_TS.nfo``, bare names, ``M/.actors/``.
- A Blu-ray ``M/BDMV/``: ``M/BDMV/index.nfo``, bare names in ``M/``, ``M/BDMV/.actors/``.

Rank 1 of a type has no number; rank n + 1 is ``{type}{n}`` (``-fanart.jpg``, ``-fanart1.jpg``...); the
stems are ``art_types``' ``kodi_name`` column.

Every name fits the file system's limit of :data:`NAME_MAX` bytes per path component (ext4, XFS, Btrfs, ZFS;
NTFS/exFAT count 255 UTF-16 units, which 255 UTF-8 bytes never exceed). A name the rules make longer is
shortened deterministically by :func:`fit_name`, after the rule and apart from it: the part Kodi matches on
(the extension, ``-poster.jpg``) is kept and the cut is marked with a short hash of the full name, so two long
names never collide and the same name always gives the same file. Actor thumbs are the exception: Kodi
matches them by the exact name (:func:`actor_file_name`), so a name too long for a file gets no file at all.
"""

from __future__ import annotations

import hashlib
import unicodedata

from metarr_pipeline import art_types
from metarr_pipeline.publish.nfo import clean_xml_text

NAME_MAX = 255
"""Bytes in one path component (``NAME_MAX`` on Linux file systems)."""
_ART_SUFFIX_MAX = 40
"""Bytes reserved after a shortened artwork base name: ``-`` + the longest Kodi stem and rank + ``.`` + ext."""


def fit_name(name: str, keep: str | None = None, limit: int = NAME_MAX) -> str:
    """``name`` if it fits ``limit`` UTF-8 bytes, else its head cut at a character boundary, ``~`` and 8 hex
    digits of the full name's SHA-1, then ``keep`` (default: the extension, dot included), which must end it."""
    if len(name.encode("utf-8")) <= limit:
        return name
    if keep is None:
        stem, dot, ext = name.rpartition(".")
        keep = f".{ext}" if dot and stem and len(ext.encode("utf-8")) <= 16 else ""
    assert name.endswith(keep)
    mark = "~" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    head = _cut(name[:len(name) - len(keep)], limit - len(mark.encode("utf-8")) - len(keep.encode("utf-8")))
    return f"{head}{mark}{keep}"


def _cut(text: str, budget: int) -> str:
    """The longest prefix of ``text`` within ``budget`` UTF-8 bytes, never splitting a character (nor leaving a
    dangling combining mark, which would join the ``~`` that follows)."""
    head = text.encode("utf-8")[:max(0, budget)].decode("utf-8", errors="ignore")
    while head and unicodedata.combining(head[-1]):
        head = head[:-1]
    return head


def nfo_path(kind: str, basename: str, video_file: str | None = None) -> str:
    """A stack's NFO goes beside its first part (``Movie-cd1.nfo``: where Kodi looks first), its artwork under
    the stacked title (``basename``, ``Movie-poster.jpg``: where Kodi looks for a stack's art)."""
    if kind in ("dvd", "bluray", "dvd_flat"):
        return {"dvd": "VIDEO_TS/VIDEO_TS.nfo", "bluray": "BDMV/index.nfo", "dvd_flat": "VIDEO_TS.nfo"}[kind]
    if video_file and "." in video_file and "/" not in video_file:
        return fit_name(f"{video_file.rpartition('.')[0]}.nfo", ".nfo")
    return fit_name(f"{basename}.nfo", ".nfo")


def artwork_path(kind: str, basename: str, art_type: str, rank: int, ext: str) -> str:
    stem = art_types.file_stem(art_type, rank)
    if kind in ("dvd", "bluray", "dvd_flat"):
        return f"{stem}.{ext}"
    return f"{art_base(basename)}-{stem}.{ext}"


def art_base(basename: str) -> str:
    """The base name artwork is named after, shortened (:func:`fit_name`) when a long title would push any of
    its names over the limit; the same for every type, rank and extension, so they stay one family."""
    if len(basename.encode("utf-8")) + _ART_SUFFIX_MAX <= NAME_MAX:
        return basename
    return fit_name(basename, "", NAME_MAX - _ART_SUFFIX_MAX)


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
    return file if len(file.encode("utf-8")) <= NAME_MAX else None
