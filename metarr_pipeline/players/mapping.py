"""Path mapping: the same folder as metarr sees it and as a player sees it.

metarr may see the library at ``/mnt/media/movies`` while Kodi reads it as ``smb://nas/movies/`` and Jellyfin
in its container as ``/data/movies``. Each player has a table of ``library prefix → player prefix``:

- the **longest** library prefix that contains the path wins, compared **by whole path components**
  (``/mnt/movies`` does not cover ``/mnt/movies2``);
- ``\\`` and ``/`` are the same separator, and trailing separators do not matter, on both sides;
- Windows-looking prefixes (``D:\\Movies``, ``\\\\nas\\movies``) compare case-insensitively;
- the rest of the path is joined with the player's own separator (``\\`` when its prefix uses one);
- an empty table means the player sees the library at the same paths; a path no entry covers is an
  :class:`UnmappedPathError` for that movie (never a guess).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from metarr_pipeline.players.errors import UnmappedPathError

_DRIVE = re.compile(r"^[A-Za-z]:(?:/|$)")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class _Parsed:
    anchor: str  # "/", "//" (UNC), "D:/" (drive, upper-cased), "smb://host/" style, or "" (relative)
    parts: tuple[str, ...]
    windows: bool


def parse(path: str) -> _Parsed:
    """Split a path (posix, Windows, UNC or URL) into an anchor and its components."""
    text = path.replace("\\", "/")
    url = _URL.match(text)
    if url:
        anchor, rest, windows = url.group(0), text[url.end():], False
    elif text.startswith("//"):
        anchor, rest, windows = "//", text[2:], True
    elif _DRIVE.match(text):
        anchor, rest, windows = text[:2].upper() + "/", text[2:], True
    elif text.startswith("/"):
        anchor, rest, windows = "/", text[1:], False
    else:
        anchor, rest, windows = "", text, False
    parts = tuple(p for p in rest.split("/") if p and p != ".")
    return _Parsed(anchor, parts, windows)


def contains(prefix: str, path: str) -> bool:
    """Whether ``path`` is ``prefix`` or inside it, by whole components (separators normalised)."""
    return _covers(parse(prefix), parse(path))


def separator(path: str) -> str:
    """The separator a player path uses: a backslash for Windows-style paths, else a slash."""
    return "\\" if "\\" in path or (_DRIVE.match(path) and not _URL.match(path)) else "/"


def as_folder(path: str) -> str:
    """The folder with one trailing separator, the way Kodi stores paths (``smb://nas/movies/Heat/``)."""
    sep = separator(path)
    return path if path.endswith(sep) else path + sep


def join(folder: str, name: str) -> str:
    """A file inside a player folder, with the folder's separator (``name`` may contain ``/``)."""
    sep = separator(folder)
    return as_folder(folder) + name.replace("/", sep).replace("\\", sep).lstrip(sep)


class PathMapper:
    """Maps library paths to one player's paths."""

    def __init__(self, mappings: Mapping[str, str], player: str = "player") -> None:
        self.player = player
        self._rules = sorted(((parse(src), dst) for src, dst in mappings.items()),
                             key=lambda rule: len(rule[0].parts), reverse=True)

    def __call__(self, library_path: str) -> str:
        return self.map(library_path)

    def map(self, library_path: str) -> str:
        path = parse(library_path)
        if not self._rules:
            return _render(path, "\\" if path.windows and "\\" in library_path else "/")
        for source, target in self._rules:
            if _covers(source, path):
                rest = path.parts[len(source.parts):]
                sep = separator(target)
                base = target.rstrip("/\\") if not _URL.fullmatch(target) else target
                if not rest:
                    return base or target
                return (base if base.endswith(sep) else base + sep) + sep.join(rest)
        raise UnmappedPathError(
            f"{self.player}: no path mapping covers '{library_path}' "
            f"(mapped: {', '.join(repr(src) for src in self.sources()) or 'nothing'}); "
            "add it to this player's path_mappings")

    def sources(self) -> list[str]:
        return ["".join((r.anchor, "/".join(r.parts))) for r, _ in self._rules]


def _covers(prefix: _Parsed, path: _Parsed) -> bool:
    n = len(prefix.parts)
    if len(path.parts) < n:
        return False
    fold = prefix.windows or path.windows
    left = (prefix.anchor, *prefix.parts)
    right = (path.anchor, *path.parts[:n])
    if fold:
        left = tuple(x.casefold() for x in left)
        right = tuple(x.casefold() for x in right)
    return left == right


def _render(path: _Parsed, sep: str) -> str:
    anchor = path.anchor.replace("/", sep) if path.windows else path.anchor
    return anchor + sep.join(path.parts) if path.parts else (anchor or ".")
