"""Bringing Kodi's movie sets up to date after a batch: their art and overview (docs/KODI-SOURCE.md (d)).

Why: Kodi 20 takes a set's art (the pictures in ``<videolibrary.moviesetsfolder>/<legal set title>/``) and its
overview (the movie NFO's ``<set><overview>``) only when it *creates* the set; ``VideoLibrary.RefreshMovie``
never updates them (measured), ``VideoLibrary.SetMovieSetDetails`` does. So a set art type published later, a
re-chosen set image under a new name, or a changed overview would never reach a set Kodi already has.

What happens, after the batch's movies are verified, for the distinct sets (Kodi's ``setid``) of those movies:

1. ``Settings.GetSettingValue`` of ``videolibrary.moviesetsfolder`` and ``videolibrary.artworklevel`` (one
   JSON-RPC batch). No folder configured: nothing to do (Kodi has no set art either).
2. One JSON-RPC batch: per set, ``Files.GetDirectory`` of its folder (the folder setting joined with
   :func:`~metarr_pipeline.art_types.kodi_set_folder_name`, in Kodi's own separator) and
   ``VideoLibrary.GetMovieSetDetails`` (``plot``, ``art``). Kodi lists only folders inside one of its sources
   (``CFileUtils::RemoteAccessAllowed``; measured: a sets folder outside every source is ``Invalid params``),
   so when it refuses, metarr lists its own ``[publish] movie_sets_folder`` instead, provided the player's path
   mappings map that folder to exactly Kodi's setting (the same folder, seen from both sides).
3. The art Kodi would take from the folder, by ``CVideoInfoScanner::AddLocalItemArtwork``'s rule: every
   picture whose name without extension (lower-cased) is an art type (at artwork level "all", Kodi's default:
   ASCII letters and digits, at most 25; at "basic"/"custom" only the ``poster``/``fanart`` families; "none":
   no art), as the file's path in Kodi's form. ``folder.*`` is left to Kodi (it guesses the type from the size).
4. The overview: the ``<set><overview>`` of a batch movie's NFO (found as Kodi finds it: beside the video file,
   then ``movie.nfo``) whose ``<set><name>`` is Kodi's set title: what Kodi reads when it creates the set.
5. ``VideoLibrary.SetMovieSetDetails`` with only what differs: art types whose file differs (Kodi answers
   art as ``image://<url-encoded path>/``; it unwraps what it is sent), art that points into the set's
   folder at a file that is no longer there (``null`` removes it), and the plot. Nothing differs: nothing sent.

None of this can fail a notification: a problem is logged as a warning (without secrets) and the batch's
outcomes stand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from lxml import etree

from metarr_pipeline.art_types import kodi_set_folder_name
from metarr_pipeline.players.errors import PlayerError, UnmappedPathError
from metarr_pipeline.players.mapping import PathMapper, as_folder, contains, join, parse

log = logging.getLogger(__name__)

Rpc = Callable[[Sequence[tuple[str, dict[str, Any]]]], list[Any]]  # KodiPlayer.batch: results or errors
FOLDER_SETTING = "videolibrary.moviesetsfolder"
LEVEL_SETTING = "videolibrary.artworklevel"
LEVEL_ALL, LEVEL_BASIC, LEVEL_CUSTOM, LEVEL_NONE = 0, 1, 2, 3  # CSettings::VIDEOLIBRARY_ARTWORK_LEVEL_*
SET_ART_FAMILIES = ("poster", "fanart")  # CVideoThumbLoader::GetArtTypeDefault(MediaTypeVideoCollection)
# Kodi 20's picture extensions (CFileExtensionProvider), without the archive and feed ones no art file uses.
PICTURE_EXTENSIONS = frozenset((".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ico", ".tif", ".tiff", ".tga", ".pcx",
                                ".webp", ".jp2", ".apng"))
_NFO_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class SetMembers:
    """One Kodi set and the batch's movies in it, as metarr sees their folders."""

    title: str
    movies: list[tuple[str, str]] = field(default_factory=list)  # (folder, video file relative to it)


def art_type_of(name: str, level: int) -> str | None:
    """The art type Kodi takes a file of a set's folder as, or None (``AddLocalItemArtwork``)."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or name.startswith(".") or f".{ext.lower()}" not in PICTURE_EXTENSIONS:
        return None
    kind = stem.lower()
    if kind == "folder" or level == LEVEL_NONE:
        return None
    if level == LEVEL_ALL:
        valid = 0 < len(kind) <= 25 and kind.isascii() and kind.isalnum()
        return kind if valid else None
    family = kind if level == LEVEL_BASIC else kind.rstrip("0123456789")
    return kind if family in SET_ART_FAMILIES else None


def unwrap_image(value: str) -> str:
    """Kodi's ``image://<url-encoded path>/`` → the path (``CTextureUtils::UnwrapImageURL``); others unchanged."""
    if not value.startswith("image://"):
        return value
    inner = value[len("image://"):]
    if "?" in inner:
        return value
    return unquote(inner[:-1] if inner.endswith("/") else inner)


def folder_art(files: Sequence[str], level: int, current: Mapping[str, str]) -> dict[str, str]:
    """Art type → Kodi path of the file Kodi would take. Several files of one type (``poster.jpg`` and
    ``poster.png``): Kodi keeps whichever its listing gives last, so the one it has now is kept."""
    out: dict[str, str] = {}
    for path in files:
        kind = art_type_of(_file_name(path), level)
        if kind and (kind not in out or out[kind] != current.get(kind)):
            out[kind] = path
    return out


def set_overview(members: SetMembers) -> str | None:
    """The ``<set><overview>`` of the first batch movie's NFO that names this set, or None."""
    for folder, video_file in members.movies:
        root = _read_nfo(Path(folder), video_file)
        if root is None:
            continue
        element = root.find("set")
        name = (element.findtext("name") or "").strip() if element is not None else ""
        overview = element.findtext("overview") if element is not None else None
        if name == members.title.strip() and overview and overview.strip():
            return overview
    return None


def _read_nfo(folder: Path, video_file: str) -> etree._Element | None:
    """The movie NFO Kodi reads for this video: ``<video without extension>.nfo`` beside it, then ``movie.nfo``."""
    candidates = []
    if video_file and "." in PurePosixPath(video_file).name:
        candidates.append(folder / PurePosixPath(video_file).with_suffix(".nfo"))
    candidates.append(folder / "movie.nfo")
    for path in candidates:
        try:
            root = etree.parse(str(path), _NFO_PARSER).getroot()
        except OSError:
            continue
        except etree.XMLSyntaxError as exc:
            log.warning("movie set overview: %s is not well-formed XML (%s); skipped", path, exc)
            continue
        if root.tag == "movie":
            return root
    return None


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


class SetUpdater:
    """One batch's set updates for one Kodi (see the module docstring)."""

    def __init__(self, rpc: Rpc, name: str, mapper: PathMapper, local_sets_folder: Path | None) -> None:
        self.rpc = rpc
        self.name = name
        self.mapper = mapper
        self.local_sets_folder = local_sets_folder
        self.told: list[str] = []  # "set 'X' (id 3): clearlogo, plot" per SetMovieSetDetails sent

    def run(self, sets: Mapping[int, SetMembers]) -> list[str]:
        if not sets:
            return self.told
        folder_setting, level = self.rpc([("Settings.GetSettingValue", {"setting": FOLDER_SETTING}),
                                          ("Settings.GetSettingValue", {"setting": LEVEL_SETTING})])
        for answer in (folder_setting, level):
            if isinstance(answer, PlayerError):
                raise answer
        kodi_folder = str((folder_setting or {}).get("value") or "")
        if not kodi_folder:
            return self.told  # Kodi has no sets folder: it shows no set art, and nothing here can change that
        art_level = int((level or {}).get("value", LEVEL_ALL))
        ids = sorted(sets)
        folders = {i: as_folder(join(kodi_folder, kodi_set_folder_name(sets[i].title))) for i in ids}
        answers = self.rpc([call for i in ids for call in (
            ("Files.GetDirectory", {"directory": folders[i], "media": "files"}),
            ("VideoLibrary.GetMovieSetDetails", {"setid": i, "properties": ["title", "plot", "art"]}))])
        local = self._local_root(kodi_folder)
        updates = []
        for n, i in enumerate(ids):
            listing, details = answers[2 * n], answers[2 * n + 1]
            if isinstance(details, PlayerError):
                log.warning("%s: movie set %r (id %d) not updated: %s", self.name, sets[i].title, i, details)
                continue
            files = None if art_level == LEVEL_NONE else self._files(listing, local, sets[i].title, folders[i])
            change = self._change((details or {}).get("setdetails") or {}, files, art_level, folders[i], sets[i])
            if change:
                updates.append((i, change))
        if updates:
            results = self.rpc([("VideoLibrary.SetMovieSetDetails", {"setid": i, **change}) for i, change in updates])
            for (i, change), result in zip(updates, results, strict=True):
                if isinstance(result, PlayerError):
                    log.warning("%s: movie set %r (id %d) not updated: %s", self.name, sets[i].title, i, result)
                else:
                    what = sorted(change.get("art", {})) + (["plot"] if "plot" in change else [])
                    self.told.append(f"set {sets[i].title!r} (id {i}): {', '.join(what)}")
        return self.told

    def _local_root(self, kodi_folder: str) -> Path | None:
        """metarr's own sets folder, when the path mappings make it exactly Kodi's; else None."""
        if self.local_sets_folder is None:
            return None
        try:
            mapped = self.mapper(str(self.local_sets_folder))
        except UnmappedPathError:
            return None
        a, b = parse(mapped), parse(kodi_folder)
        left, right = (a.anchor, *a.parts), (b.anchor, *b.parts)
        if a.windows or b.windows:
            left, right = tuple(x.casefold() for x in left), tuple(x.casefold() for x in right)
        return self.local_sets_folder if left == right else None

    def _files(self, listing: Any, local: Path | None, title: str, kodi_set_folder: str) -> list[str] | None:
        """Kodi paths of the files in the set's folder; None when neither Kodi nor metarr can list it."""
        if not isinstance(listing, PlayerError):
            return [str(f.get("file", "")) for f in (listing or {}).get("files") or []
                    if isinstance(f, dict) and f.get("filetype") != "directory"]
        if local is None:
            log.warning("%s: movie set %r: Kodi does not list %s (%s), and metarr's [publish] movie_sets_folder "
                        "is not that folder through this player's path_mappings: its art is not compared",
                        self.name, title, kodi_set_folder, listing)
            return None
        folder = local / kodi_set_folder_name(title)
        if not folder.is_dir():
            return []
        return [join(kodi_set_folder, p.name) for p in sorted(folder.iterdir()) if p.is_file()]

    @staticmethod
    def _change(details: Mapping[str, Any], files: list[str] | None, level: int, kodi_set_folder: str,
                members: SetMembers) -> dict[str, Any]:
        """The SetMovieSetDetails parameters for what differs (empty: nothing)."""
        change: dict[str, Any] = {}
        if files is not None:
            current = {k: unwrap_image(str(v)) for k, v in (details.get("art") or {}).items() if isinstance(v, str)}
            wanted = folder_art(files, level, current)
            art: dict[str, str | None] = {k: v for k, v in wanted.items() if current.get(k) != v}
            listed = set(files)
            art.update({k: None for k, v in current.items()
                        if k not in wanted and contains(kodi_set_folder, v) and v not in listed})
            if art:
                change["art"] = art
        overview = set_overview(members)
        if overview is not None and overview != details.get("plot"):
            change["plot"] = overview
        return change
