"""The review screen: why each image won, as markdown for the Dagster UI and text for the CLI."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from metarr_pipeline.art_types import file_stem
from metarr_pipeline.artwork.contact_sheet import Tile, contact_sheet, data_url
from metarr_pipeline.artwork.enrich import ChosenArt, MovieEnrichment
from metarr_pipeline.artwork.scoring import PARTS
from metarr_pipeline.artwork.tiles import tile_for, write_atomically

Names = Mapping[tuple[str, int], str]
"""(type, rank) → the name the chosen image is published as, after the movie's base name (``-poster1.jpg``; a
disc folder's ``poster1.jpg``): the publish stage's naming, handed in by the caller (this stage never imports it)."""


def file_name(c: ChosenArt, names: Names | None = None) -> str:
    """The (end of the) file name the chosen image is published as; Kodi's rank names (rank 2 is ``poster1``)."""
    if names and (c.type, c.rank) in names:
        return names[(c.type, c.rank)]
    return f"-{file_stem(c.type, c.rank)}.{c.ext or 'jpg'}"


def chosen_table(movie: MovieEnrichment, names: Names | None = None) -> str:
    """The chosen art with its score and every weighted part, one row per file: the movie's review, small (every
    candidate, duplicate and gate is on the review page)."""
    declared = {row["candidate_id"]: row for row in movie.top}
    header = ["type", "file", "candidate", "provider", "lang", "size", "score", *PARTS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for c in movie.chosen:
        size = size_cell({"width": c.width, "height": c.height, **{
            k: v for k, v in declared.get(c.candidate_id, {}).items() if k.startswith("declared_")}})
        cells = [c.type, file_name(c, names), c.candidate_id, c.provider, c.language or "textless", size,
                 f"{c.score:.1f}", *(f"{c.parts.get(p, 0.0):.2f}" for p in PARTS)]
        lines.append("| " + " | ".join(str(cell).replace("|", "/") for cell in cells) + " |")
    return "\n".join(lines)


def size_cell(row: dict) -> str:
    """The size scored on; when a provider declared another (its original turned out smaller), both."""
    real = f"{row['width']}x{row['height']}"
    declared = f"{row.get('declared_width')}x{row.get('declared_height')}"
    if row.get("declared_width") is None or declared == real:
        return real
    return f"{real} (declared {declared})"


def sheet_label(name: str, candidate_id: str) -> str:
    """The tile's label: the file name it is published as and the candidate id to pick or reject it by
    (shortened: the sheet's tiles are narrow), one line each so a poster tile shows both whole."""
    return f"{name}\n{candidate_id[:8]}"


def contact_sheet_for(movie: MovieEnrichment, cache_dir: Path, names: Names | None = None) -> str:
    """Markdown image (a data URL of a few KB) of the chosen art, one tile per file, labelled with the file name and
    candidate id (also the image's alt text, so the labels read without the picture).

    The sheet is kept as ``<cache>/review/sheets/<movie>/<what it shows>.jpg``, so a movie whose chosen art did not
    change costs one small file read: every movie of a library-wide run gets its sheet. One folder per movie: the
    movie's older sheet is found by listing its own folder (a flat folder of 1,000 movies' sheets was listed once per
    movie, 10,000 movies would have read 10⁸ names). Its tiles are kept
    per image (:mod:`.tiles`: the enrichment makes each when it stores the original), so a sheet is composed from
    small tiles, decoding no original, on the first run as on a re-score that only reorders the chosen art.
    """
    if not movie.chosen:
        return ""
    labels = [sheet_label(file_name(c, names), c.candidate_id) for c in movie.chosen]
    alt = "chosen artwork: " + ", ".join(label.replace("\n", " ") for label in labels)
    digest = hashlib.sha256(repr([(label, c.blob_sha) for label, c in zip(labels, movie.chosen, strict=True)])
                            .encode()).hexdigest()[:16]
    folder = cache_dir / "review" / "sheets" / _SAFE.sub("_", movie.partition_key)[:120]
    path = folder / f"{digest}.jpg"
    try:
        return f"![{alt}]({data_url(path.read_bytes())})"
    except OSError:
        pass
    tiles = [Tile(label, tile_for(cache_dir, c.blob_sha, c.ext) if c.blob_sha else None)
             for label, c in zip(labels, movie.chosen, strict=True)]
    sheet = contact_sheet(tiles)
    _keep(folder, path, sheet)
    return f"![{alt}]({data_url(sheet)})"


def contact_sheets_for(movies: Sequence[tuple[MovieEnrichment, Names | None]], cache_dir: Path,
                       workers: int | None = None) -> list[str]:
    """:func:`contact_sheet_for` of each movie, in order, on one thread per core: decoding, resizing and encoding
    in Pillow release the GIL, so a library-wide run's sheets use every core instead of one."""
    workers = min(workers or os.cpu_count() or 1, len(movies))
    if workers <= 1:
        return [contact_sheet_for(movie, cache_dir, names) for movie, names in movies]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sheet") as pool:
        return list(pool.map(lambda pair: contact_sheet_for(pair[0], cache_dir, pair[1]), movies))


_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def _keep(folder: Path, path: Path, sheet: bytes) -> None:
    """Write the sheet and drop the movie's older ones; a cache, so a failure here is only a miss."""
    if not write_atomically(path, sheet):
        return
    try:
        for old in folder.glob("*.jpg"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
