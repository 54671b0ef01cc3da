"""The review screen: why each image won, as markdown for the Dagster UI and text for the CLI."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from metarr_pipeline.artwork.contact_sheet import Tile, contact_sheet, data_url
from metarr_pipeline.artwork.enrich import MovieEnrichment
from metarr_pipeline.artwork.scoring import PARTS
from metarr_pipeline.blobs import BlobStore


def top_table(movie: MovieEnrichment) -> str:
    """Top candidates per type with every score part, the gate that stopped them and whether they won."""
    header = ["type", "rank", "candidate", "provider", "lang", "size", "score", *PARTS, "selected", "gate"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in movie.top:
        cells = [row["type"], row["rank"], row["candidate_id"], row["provider"], row["language"] or "textless",
                 size_cell(row), f"{row['score']:.1f}",
                 *(f"{row[f's_{p}']:.2f}" for p in PARTS),
                 row["selected_rank"] if row["selected_rank"] is not None else "",
                 (row["gate"] or "").replace("|", "/")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def size_cell(row: dict) -> str:
    """The size scored on; when a provider declared another (its original turned out smaller), both."""
    real = f"{row['width']}x{row['height']}"
    declared = f"{row.get('declared_width')}x{row.get('declared_height')}"
    if row.get("declared_width") is None or declared == real:
        return real
    return f"{real} (declared {declared})"


def _thumbnail(path: Path) -> bytes | None:
    """A small JPEG of a cached original, decoded at reduced scale (JPEG draft) to keep review cheap."""
    try:
        with Image.open(path) as img:
            img.draft("RGB", (240, 240))
            img.thumbnail((240, 240))
            if img.mode not in ("RGB", "L"):
                background = Image.new("RGB", img.size, (255, 255, 255))
                background.paste(img.convert("RGBA"), mask=img.convert("RGBA").split()[-1])
                img = background
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except (OSError, ValueError):
        return None


def contact_sheet_for(movie: MovieEnrichment, cache_dir: Path) -> str:
    """Markdown image (a data URL of a few KB) of the chosen art, one tile per type and rank."""
    if not movie.chosen:
        return ""
    blobs = BlobStore(cache_dir)
    tiles = []
    for c in movie.chosen:
        image = _thumbnail(blobs.path_for(c.blob_sha, c.ext)) if c.blob_sha else None
        tiles.append(Tile(f"{c.type}{c.rank if c.rank > 1 else ''} {c.score:.0f}", image))
    return f"![chosen artwork]({data_url(contact_sheet(tiles))})"
