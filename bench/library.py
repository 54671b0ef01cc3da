"""The synthetic library: N movie folders with real (tiny) videos, and snapshots that show what a stage wrote.

The plan is deterministic and a prefix for a smaller N, so runs of the same size compare; the five templates
are made once (``LIBRARY_VERSION`` remakes them) and copied, so the scan probes N real files.

The library meets the catalog's hostile cases, each listed in a plan entry's ``cases``:

* ``search``: one folder in twenty has no id tag and is identified by a TMDB search of its title;
* ``alt_title``: a film with an alternative title (the catalog's ``alt_title`` trait, 2 % of ids) is filed under
  it, untagged, as anime collections are: only the alternative-title rung of identification finds it;
* ``locked_cast``: one folder in twenty-five holds the user's NFO with Jellyfin's ``<lockedfields>Cast`` and
  their own two actors, which enrichment and publishing must keep;
* ``misdeclared_size`` / ``misnamed_png``: the film's best poster is declared 2000×3000 but served at 1000×1500,
  or is a PNG named ``.jpg`` (the catalog's traits of the same names, 2 % of ids each).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

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


CASES = ("search", "alt_title", "locked_cast", "misdeclared_size", "misnamed_png")
USER_CAST = (("Jane Nobody", "Herself"), ("Otis Brandt", "The Neighbour"))  # a locked cast: not TMDB's


def library_plan(n: int) -> list[dict[str, Any]]:
    """The N movies: TMDB id, folder and file name, template, the user's NFO ("" for none) and the hostile
    ``cases`` the movie carries (see the module doc). Deterministic, and a prefix for smaller N."""
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
        cases = [trait for trait in ("misdeclared_size", "misnamed_png") if _planted(movie, trait)]
        alternative = next((_safe(alt) for _, alt in movie.alternative_titles
                            if catalog.search(_safe(alt), year) == [tmdb_id]), None)
        if alternative:
            title, cases = alternative, ["alt_title", *cases]  # filed under it, found by it alone
        elif len(plan) % 20 == 7 and catalog.search(title, year) == [tmdb_id]:
            cases = ["search", *cases]  # identified by a TMDB search, as an untagged library would be
        tagged = not {"alt_title", "search"} & set(cases)
        nfo = ""
        if len(plan) % 25 == 13 and tagged:  # an NFO's title would be searched instead of the folder's
            nfo, cases = _locked_cast_nfo(movie.title, year), [*cases, "locked_cast"]
        folder = f"{title} ({year})" + (f" {{tmdb-{tmdb_id}}}" if tagged else "")
        if folder in seen_folders:
            continue
        seen_folders.add(folder)
        template = len(plan) % len(TEMPLATES)
        plan.append({"tmdb_id": tmdb_id, "folder": folder, "file": f"{title} ({year}).{TEMPLATES[template][0]}",
                     "template": template, "tagged": tagged, "nfo": nfo, "cases": cases})
    return plan


def _planted(movie: Any, trait: str) -> bool:
    """Whether the trait's quirk is really on a poster (a film without images has the trait but no poster)."""
    if trait not in movie.traits:
        return False
    if trait == "misdeclared_size":
        return any(i.kind == "poster" and i.served_size for i in movie.images)
    return any(i.kind == "poster" and i.served_format == "PNG" for i in movie.images)


def _locked_cast_nfo(title: str, year: int) -> str:
    """The user's NFO as Jellyfin writes it when the cast is locked: their actors, ``Cast`` in lockedfields."""
    actors = "".join(f"    <actor><name>{name}</name><role>{role}</role><order>{order}</order></actor>\n"
                     for order, (name, role) in enumerate(USER_CAST))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>\n<movie>\n    <title>{escape(title)}</title>\n'
            f"    <year>{year}</year>\n    <lockedfields>Cast</lockedfields>\n{actors}</movie>\n")


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
        if movie.get("nfo"):
            (folder / f"{Path(movie['file']).stem}.nfo").write_text(movie["nfo"], encoding="utf-8")


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
