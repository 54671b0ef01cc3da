"""Every write stays inside its movie folder: symlinks are never followed out of it, nor replaced.

Publishing resolves each target before it writes: the movie folder must resolve inside its library root
(a folder that is a symlink to elsewhere is refused), and every file we write or remove, under the folder,
``.actors/``, ``VIDEO_TS/``, ``BDMV/`` or ``extrafanart/``, must resolve inside the resolved folder (a
subfolder that is a symlink leading out of it is refused). A refusal fails that movie with the reason, before
anything is written. A symlink at one of our file names is the user's file, wherever it points: kept,
reported, never replaced nor removed (``os.replace`` would replace the link itself with a regular file).

This is as close as a path-based file system API allows: a folder swapped for a symlink between this check
and the write is not caught, which would take ``openat``-relative writes throughout.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from metarr_pipeline.publish.report import PublishError


def confined_folder(folder: Path, library_root: str | None) -> Path:
    """The movie folder, resolved; refused when it resolves outside its (resolved) library root."""
    real = folder.resolve()
    if library_root:
        root = Path(library_root).resolve()
        if real != root and not real.is_relative_to(root):
            raise PublishError(f"folder '{folder}' is a symlink (or under one) leading outside the library root "
                               f"'{library_root}', to '{real}': refusing to write there")
    return real


def check_confined(folder: Path, real_folder: Path, paths: Iterable[str]) -> None:
    """Every relative path's parent must resolve inside the resolved movie folder (no symlinked way out)."""
    for rel in sorted(set(paths)):
        parent = (folder / rel).parent
        real_parent = parent.resolve()
        if real_parent != real_folder and not real_parent.is_relative_to(real_folder):
            leaving = _first_symlink(folder, Path(rel).parent)
            raise PublishError(f"'{leaving or rel}' is a symlink leading outside the movie folder, to "
                               f"'{real_parent}': refusing to write '{rel}' there")


def is_symlink(path: Path) -> bool:
    try:
        return path.is_symlink()
    except OSError:
        return False


def _first_symlink(folder: Path, rel_parent: Path) -> str:
    current = folder
    for part in rel_parent.parts:
        current = current / part
        if os.path.islink(current):
            return current.relative_to(folder).as_posix()
    return ""
