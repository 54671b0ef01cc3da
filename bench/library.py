"""The synthetic library: N movie folders with real (tiny) videos, and snapshots that show what a stage wrote.

The plan is deterministic and a prefix for a smaller N, so runs of the same size compare; the five templates
are made once (``LIBRARY_VERSION`` remakes them) and copied, so the scan probes N real files.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

LIBRARY_VERSION = "1"

# Five templates, copied round-robin: the probes see different codecs, containers and stream layouts.
TEMPLATES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("mkv", {"seconds": 2.0, "width": 320, "height": 134, "audio": (("ac3", 6, "eng"), ("aac", 2, "eng")),
             "subtitles": (("eng", False), ("fre", False))}),
    ("mkv", {"seconds": 2.0, "video_codec": "hevc", "audio": (("aac", 2, "fre"), ("aac", 2, "eng"))}),
    ("mp4", {"seconds": 2.0, "width": 320, "height": 136, "audio": (("aac", 2, "eng"),)}),
    ("avi", {"seconds": 2.0, "video_codec": "mpeg4", "audio": (("mp2", 2, ""),)}),
    ("mkv", {"seconds": 2.0, "video_codec": "hevc", "hdr10": True, "width": 320, "height": 134,
             "audio": (("eac3", 6, "eng"), ("ac3", 6, "ger"))}),
)


def _safe(title: str) -> str:
    """A folder-safe title that still searches the same (words survive; tags and separators do not)."""
    text = re.sub(r'[/\\:*?"<>|{}\[\]()]', " ", title)
    return re.sub(r"\s+", " ", text).strip().rstrip(".") or "Untitled"


def library_plan(n: int) -> list[dict[str, Any]]:
    """The N movies: TMDB id, folder and file name, template. Deterministic, and a prefix for smaller N."""
    from metarr_pipeline.simulator import Catalog
    from metarr_pipeline.simulator.variety import REDIRECTS, is_removed

    catalog = Catalog(seed=0)
    known = set(Catalog.known_ids())
    plan: list[dict[str, Any]] = []
    seen_folders: set[str] = set()
    candidate = 101
    while len(plan) < n:
        tmdb_id, candidate = candidate, candidate + 37
        if tmdb_id in known or tmdb_id in REDIRECTS or is_removed(tmdb_id):
            continue
        movie = catalog.movie(tmdb_id)
        if movie is None or not movie.release_date[:4].isdigit():
            continue
        title, year = _safe(movie.title), int(movie.release_date[:4])
        tagged = True
        if len(plan) % 20 == 7 and catalog.search(title, year) == [tmdb_id]:
            tagged = False  # identified by a TMDB search, as an untagged library would be
        folder = f"{title} ({year})" + (f" {{tmdb-{tmdb_id}}}" if tagged else "")
        if folder in seen_folders:
            continue
        seen_folders.add(folder)
        template = len(plan) % len(TEMPLATES)
        plan.append({"tmdb_id": tmdb_id, "folder": folder, "file": f"{title} ({year}).{TEMPLATES[template][0]}",
                     "template": template, "tagged": tagged})
    return plan


def make_templates(folder: Path) -> list[Path]:
    from metarr_pipeline.demo.media import write_video

    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"version-{LIBRARY_VERSION}"
    paths = [folder / f"template{i}.{ext}" for i, (ext, _) in enumerate(TEMPLATES)]
    if not marker.exists() or not all(p.exists() for p in paths):
        for path, (_, spec) in zip(paths, TEMPLATES, strict=True):
            write_video(path, **spec)
        marker.touch()
    return paths


def make_library(root: Path, plan: list[dict[str, Any]], templates: list[Path]) -> None:
    """A pristine library (anything published by an earlier run is gone). Copies get their own mtime."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for movie in plan:
        folder = root / movie["folder"]
        folder.mkdir()
        shutil.copyfile(templates[movie["template"]], folder / movie["file"])


def library_snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """path → (size, mtime_ns, inode): a write, even of identical bytes, changes it."""
    out: dict[str, tuple[int, int, int]] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            st = os.stat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return out


def snapshot_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    return {"created": sum(1 for p in after if p not in before),
            "removed": sum(1 for p in before if p not in after),
            "modified": sum(1 for p, v in after.items() if p in before and before[p] != v)}
