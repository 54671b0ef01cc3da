"""Discovery: walk the library roots and find movie folders, without reading any file's content.

A movie is a folder holding one video (or one stack of parts: ``cd1``/``part2``...), or a disc structure
(``VIDEO_TS/``, ``BDMV/``, a flat ``VIDEO_TS.IFO``). Kodi's default exclusions apply, plus the extras
folders Plex and Jellyfin use, hidden folders, ``.actors`` and our own temp files. A folder that cannot
be a movie for a reason the user can fix (unreadable, empty, several unrelated videos, a name that is
not UTF-8) is still reported as an entry with that reason, so nothing disappears silently.

Folders that contain a movie are not descended into: their subfolders are extras, subtitles or disc
internals. Folders without one are (collections, year folders, A–Z folders).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from metarr_pipeline.art_types import LONGEST_KODI_NAME
from metarr_pipeline.errors import ProbeError
from metarr_pipeline.scan.probe import main_title_file

VIDEO_EXTENSIONS = frozenset({
    "mkv", "mp4", "m4v", "avi", "mov", "wmv", "ts", "m2ts", "mts", "webm", "mpg", "mpeg", "iso", "divx",
    "flv", "ogm", "ogv", "vob", "3gp", "rmvb",
})
TEMP_PREFIX = ".metarr-tmp-"
# Longest artwork suffix the publish stage writes; used to warn about names the filesystem would refuse.
_LONGEST_SUFFIX = f"-{LONGEST_KODI_NAME}10.png"
_NAME_MAX = 255

# Kodi's default video exclusions (advancedsettings), applied to the path below the root.
_KODI_EXCLUDES = re.compile(
    r"-trailer|[-._ /]sample[-._ /]|/(proof|subs)/|/\._|\.ds_store", re.IGNORECASE
)
# Extras and housekeeping folders (Plex/Jellyfin/Synology/Windows conventions), compared lower-cased.
_IGNORED_FOLDERS = frozenset({
    "extras", "extra", "featurettes", "behind the scenes", "deleted scenes", "interviews", "scenes",
    "shorts", "trailers", "trailer", "other", "others", "sample", "samples", "subs", "subtitles", "proof",
    "extrafanart", "extrathumbs", "@eadir", "#recycle", "$recycle.bin", "lost+found", "system volume information",
})
# Jellyfin/Plex extras suffixes on file names: "Movie-featurette.mkv", "Movie - Behind the Scenes-behindthescenes.mkv".
_EXTRA_FILE = re.compile(
    r"[-._ ](trailer|sample|featurette|behindthescenes|deleted|deletedscene|interview|scene|short|other|extra)"
    r"(\d+)?$",
    re.IGNORECASE,
)
# Kodi's stacking rule: name + cd/dvd/part/pt/disc/disk + number.
_STACK = re.compile(r"^(?P<head>.*?)(?P<sep>[ _.-]*)(?:cd|dvd|p(?:ar)?t|dis[ck])[ _.-]*(?P<n>\d+)(?P<tail>.*)$",
                    re.IGNORECASE)


@dataclass(frozen=True)
class FoundMovie:
    """A candidate movie folder as discovery sees it (no file content read yet)."""

    root: str
    folder: str  # display-safe absolute path (non-UTF-8 bytes backslash-escaped)
    kind: str  # file | dvd | dvd_flat | bluray | invalid
    video_file: str | None = None  # relative to folder
    basename: str = ""
    size: int | None = None
    mtime_ns: int | None = None
    listing: tuple[str, ...] = ()  # names in the folder, for NFO and sidecar lookups
    problem: str = ""  # set for kind == "invalid"
    warnings: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return Path(self.folder)

    @property
    def signature(self) -> tuple[int, int] | None:
        """(size, mtime) of the main video: how a moved folder is recognised."""
        if self.size is None or self.mtime_ns is None:
            return None
        return (self.size, self.mtime_ns)


@dataclass(frozen=True)
class Discovery:
    movies: tuple[FoundMovie, ...]
    skipped: tuple[tuple[str, str], ...]  # (path, why) for things deliberately not treated as movies
    unreadable_roots: tuple[str, ...]  # roots that could not be listed: their movies are NOT marked gone


def safe_text(path: str | os.PathLike[str]) -> str:
    """A path as text that can be stored and printed: undecodable bytes become backslash escapes."""
    raw = os.fsencode(path)
    return raw.decode("utf-8", errors="backslashreplace")


def is_ignored(relative: str, extra: Sequence[re.Pattern[str]] = ()) -> bool:
    """Kodi's exclusions plus the user's own patterns, on a '/'-separated path below the root."""
    probe = "/" + relative.strip("/") + "/"
    return bool(_KODI_EXCLUDES.search(probe)) or any(p.search(probe) for p in extra)


def discover(roots: Iterable[Path], ignore_patterns: Sequence[str] = ()) -> Discovery:
    extra = [re.compile(p, re.IGNORECASE) for p in ignore_patterns]
    movies: list[FoundMovie] = []
    skipped: list[tuple[str, str]] = []
    unreadable: list[str] = []
    for root in roots:
        root = Path(root)
        try:
            root_stat = root.stat()
            if not stat.S_ISDIR(root_stat.st_mode):
                raise NotADirectoryError(str(root))
            next(os.scandir(root), None)
        except OSError as exc:
            unreadable.append(str(root))
            skipped.append((str(root), f"library root cannot be read: {exc.strerror or exc}"))
            continue
        _walk(root, root, extra, movies, skipped, visited={(root_stat.st_dev, root_stat.st_ino)})
    movies.sort(key=lambda m: m.folder)
    return Discovery(tuple(movies), tuple(skipped), tuple(unreadable))


def _walk(
    root: Path,
    folder: Path,
    extra: Sequence[re.Pattern[str]],
    movies: list[FoundMovie],
    skipped: list[tuple[str, str]],
    visited: set[tuple[int, int]],
) -> None:
    # Iterative depth-first walk: deep trees must not hit the recursion limit.
    stack = [folder]
    while stack:
        current = stack.pop()
        rel = os.path.relpath(current, root).replace(os.sep, "/")
        rel = "" if rel == "." else rel
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            movies.append(_invalid(root, current, f"cannot read folder: {exc.strerror or exc}"))
            continue
        found = _classify(root, current, rel, entries, extra, skipped)
        if found is not None:
            movies.append(found)
            continue
        subdirs = []
        for entry in entries:
            if not _is_dir(entry) or _skip_folder(entry.name):
                continue
            sub_rel = f"{rel}/{entry.name}" if rel else entry.name
            if is_ignored(sub_rel + "/", extra):
                skipped.append((safe_text(entry.path), "ignored folder (Kodi exclusion or ignore pattern)"))
                continue
            try:
                st = os.stat(entry.path)
            except OSError as exc:
                movies.append(_invalid(root, Path(entry.path), f"cannot read folder: {exc.strerror or exc}"))
                continue
            ident = (st.st_dev, st.st_ino)
            if ident in visited:
                skipped.append((safe_text(entry.path), "symlink loop: folder already scanned under another path"))
                continue
            visited.add(ident)
            subdirs.append(Path(entry.path))
        if not subdirs and rel and not any(_is_file(e) for e in entries if not e.name.startswith(".")):
            movies.append(_invalid(root, current, "empty folder: no video file"))
        elif not subdirs and rel:
            names = [e.name for e in entries if _is_file(e) and not e.name.startswith(".")]
            movies.append(_invalid(root, current, "no video file in folder (found: "
                                   + ", ".join(safe_text(n) for n in names[:5]) + ")"))
        stack.extend(reversed(subdirs))


def _classify(
    root: Path,
    folder: Path,
    rel: str,
    entries: list[os.DirEntry[str]],
    extra: Sequence[re.Pattern[str]],
    skipped: list[tuple[str, str]],
) -> FoundMovie | None:
    names = {e.name for e in entries}
    listing = tuple(sorted(names))
    lower = {n.lower(): n for n in names}

    disc_kind = None
    if "video_ts" in lower and os.path.isfile(folder / lower["video_ts"] / "VIDEO_TS.IFO"):
        disc_kind = "dvd"
    elif "bdmv" in lower and os.path.isfile(folder / lower["bdmv"] / "index.bdmv"):
        disc_kind = "bluray"
    elif "video_ts.ifo" in lower:
        disc_kind = "dvd_flat"
    if disc_kind:
        if not _utf8(folder):
            return _invalid(root, folder, _not_utf8(folder))
        try:
            main = main_title_file(folder, disc_kind)
            st = main.stat()
        except (ProbeError, OSError) as exc:
            return _invalid(root, folder, f"disc structure without a playable title: {exc}")
        return FoundMovie(root=str(root), folder=safe_text(folder), kind=disc_kind,
                          video_file=main.relative_to(folder).as_posix(), basename="", size=st.st_size,
                          mtime_ns=st.st_mtime_ns, listing=listing)

    videos: list[os.DirEntry[str]] = []
    for entry in entries:
        if not _is_file(entry) or entry.name.startswith("."):
            continue
        stem, dot, ext = entry.name.rpartition(".")
        if not dot or ext.lower() not in VIDEO_EXTENSIONS:
            continue
        file_rel = f"{rel}/{entry.name}" if rel else entry.name
        if is_ignored(file_rel, extra) or _EXTRA_FILE.search(stem):
            skipped.append((safe_text(entry.path), "ignored video (trailer, sample or extra)"))
            continue
        videos.append(entry)
    if not videos:
        return None
    if not rel:
        names_shown = ", ".join(safe_text(v.name) for v in videos[:3])
        skipped.append((safe_text(folder), f"video files directly in the library root ({names_shown}): "
                        "put each movie in its own folder"))
        return None
    if not _utf8(folder):
        return _invalid(root, folder, _not_utf8(folder))
    main, problem = _main_video(videos)
    if problem:
        return _invalid(root, folder, problem, listing)
    assert main is not None
    if not _utf8(main.name):
        return _invalid(root, folder, _not_utf8(Path(main.path)), listing)
    try:
        st = main.stat()
    except OSError as exc:
        return _invalid(root, folder, f"cannot read video file '{main.name}': {exc.strerror or exc}", listing)
    basename = _stacked_title(main.name) if len(videos) > 1 else main.name.rpartition(".")[0]
    warnings = []
    if len((basename + _LONGEST_SUFFIX).encode()) > _NAME_MAX:
        warnings.append(f"file name is {len(basename.encode())} bytes long: artwork names such as "
                        f"'{basename[:20]}…{_LONGEST_SUFFIX}' would exceed the {_NAME_MAX}-byte limit")
    return FoundMovie(root=str(root), folder=safe_text(folder), kind="file", video_file=main.name,
                      basename=basename, size=st.st_size, mtime_ns=st.st_mtime_ns, listing=listing,
                      warnings=tuple(warnings))


def _stacked_title(name: str) -> str:
    """The name Kodi gives a stack (``CStackDirectory::GetStackedTitlePath``: the part marker removed), without
    the extension: Kodi looks for a stack's artwork under it (``Movie-poster.jpg`` for ``Movie-cd1.avi``), and
    for its NFO first beside the first part, then under it, so one basename serves both."""
    m = _STACK.match(name)
    if not m:
        return name.rpartition(".")[0]
    return (m["head"] + m["tail"]).rpartition(".")[0] or name.rpartition(".")[0]


def _main_video(videos: list[os.DirEntry[str]]) -> tuple[os.DirEntry[str] | None, str]:
    """One video, or the first part of one stack; anything else is a problem to report."""
    if len(videos) == 1:
        return videos[0], ""
    stacks: dict[tuple[str, str], list[tuple[int, os.DirEntry[str]]]] = {}
    for v in videos:
        m = _STACK.match(v.name)
        if not m:
            stacks.setdefault((v.name, ""), []).append((0, v))
            continue
        stacks.setdefault((m["head"].lower(), m["tail"].lower()), []).append((int(m["n"]), v))
    if len(stacks) == 1:
        parts = sorted(next(iter(stacks.values())), key=lambda p: p[0])
        return parts[0][1], ""
    shown = ", ".join(safe_text(v.name) for v in videos[:4]) + (" …" if len(videos) > 4 else "")
    return None, (f"{len(videos)} videos in one folder ({shown}): put each movie in its own folder, "
                  "or name the extras '-trailer', '-sample' or move them into 'Extras/'")


def _invalid(root: Path, folder: Path, problem: str, listing: tuple[str, ...] = ()) -> FoundMovie:
    return FoundMovie(root=str(root), folder=safe_text(folder), kind="invalid",
                      listing=tuple(safe_text(n) for n in listing), problem=problem)


def _skip_folder(name: str) -> bool:
    return name.startswith(".") or name.lower() in _IGNORED_FOLDERS


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows symlinks: loops are caught by the visited set
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _utf8(path: Path | str) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_utf8(path: Path) -> str:
    return (f"name is not valid UTF-8 ({safe_text(path.name)}): players and NFO files need UTF-8 names; "
            "rename the folder or file")
