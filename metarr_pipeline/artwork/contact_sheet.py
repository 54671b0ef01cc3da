"""A small JPEG of labelled thumbnails, for Dagster's markdown metadata (embedded as a ``data:`` URL).

It is a picture of a decision (which art was chosen), shown next to a run: it must be small enough to
live in the event log (a few KB), identical for identical input (no churn in metadata diffs), and it
must never fail a run, so an unreadable tile becomes a red placeholder instead of an exception.

A tile's picture may be given as the full image or as :func:`tile_jpeg` made of it (what callers cache per
image: a sheet of already-reduced tiles costs a few small decodes, not a decode of every original). Sheets may
be drawn on several threads at once (Pillow's decoding, resizing and encoding release the GIL): each thread has
its own font, as a FreeType face must not be used by two threads at a time.
"""

from __future__ import annotations

import base64
import functools
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from metarr_pipeline.blobs.verify import open_image

TILE_HEIGHT = 120
MAX_TILE_WIDTH = 160  # wider art (backdrops, logos, banners) is scaled down: the sheet stays ~15 KB
COLUMNS = 4
_GAP = 6
_LABEL_HEIGHT = 14
_FONT_SIZE = 11
_QUALITY = 40  # thumbnails of 120 px: 40 still reads, and keeps 8 tiles near 15 KB

_BACKGROUND = (255, 255, 255)
_UNDER_ALPHA = (210, 210, 210)  # light grey behind transparent art: white and black logos both show
_NONE_FILL, _NONE_TEXT = (200, 200, 200), "none"
_BAD_FILL, _BAD_TEXT = (215, 50, 50), "unreadable"
_PLACEHOLDER_WIDTH = 80
_TILE_QUALITY = 90  # a cached tile is encoded once more into the sheet (at _QUALITY): keep it close to lossless
TILE_GEOMETRY = f"{TILE_HEIGHT}x{MAX_TILE_WIDTH}"  # what a cached tile was made for (part of its cache name)
_local = threading.local()  # per thread: the font and a drawing context that only measures text


@dataclass(frozen=True)
class Tile:
    label: str  # one line per part ("-poster1.jpg\n28fd5423"): a narrow poster tile holds each part whole
    image: bytes | None  # None: nothing chosen for this slot


def contact_sheet(tiles: Sequence[Tile]) -> bytes:
    """Tiles at most ``TILE_HEIGHT`` × ``MAX_TILE_WIDTH`` (aspect kept), ``COLUMNS`` a row, labelled underneath."""
    thumbs = [_thumbnail(tile.image) for tile in tiles]
    rows = [thumbs[i:i + COLUMNS] for i in range(0, len(thumbs), COLUMNS)] or [[]]
    label_lines = max((len(tile.label.split("\n")) for tile in tiles), default=1)
    cell_height = TILE_HEIGHT + _LABEL_HEIGHT * label_lines + _GAP
    width = max(_GAP + sum(t.width + _GAP for t in row) for row in rows)
    sheet = Image.new("RGB", (max(width, 2 * _GAP + 1), _GAP + cell_height * len(rows)), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for r, row in enumerate(rows):
        x, y = _GAP, _GAP + r * cell_height
        for c, thumb in enumerate(row):
            sheet.paste(thumb, (x, y + TILE_HEIGHT - thumb.height))  # bottom-aligned, on its label
            _label(draw, tiles[r * COLUMNS + c].label, x, y + TILE_HEIGHT + 1, thumb.width)
            x += thumb.width + _GAP
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=_QUALITY, optimize=True)
    return out.getvalue()


def tile_jpeg(data: bytes, image: Image.Image | None = None) -> bytes | None:
    """The image as the sheet's tile (reduced, transparency on light grey) in a small JPEG; None when unreadable.
    ``image``: the same bytes already decoded (verifying a PNG decodes it), so they are not decoded again."""
    tile = _reduced(data, image)
    if tile is None:
        return None
    out = io.BytesIO()
    tile.save(out, "JPEG", quality=_TILE_QUALITY)
    return out.getvalue()


def data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _thumbnail(data: bytes | None) -> Image.Image:
    if data is None:
        return _placeholder(_NONE_FILL, _NONE_TEXT)
    tile = _reduced(data)
    return _placeholder(_BAD_FILL, _BAD_TEXT) if tile is None else tile


def _reduced(data: bytes, decoded: Image.Image | None = None) -> Image.Image | None:
    """At most ``TILE_HEIGHT`` × ``MAX_TILE_WIDTH``, on light grey where transparent; None when unreadable (a
    tile already that size is decoded and kept as it is: Pillow does not resample to the same size)."""
    try:
        if decoded is not None:
            fmt, image = "", decoded
        else:
            fmt, image = open_image(data, min_side=1)  # sniffed and size-limited: a bomb is just unreadable
        scale = min(TILE_HEIGHT / image.height, MAX_TILE_WIDTH / image.width)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        if decoded is None and fmt == "jpeg":
            image.draft("RGB", size)  # DCT scaling to the smallest size at least the tile's (≤ 1/8)
        image.load()
        # reducing_gap: a box reduction to about twice the tile first, then Lanczos: a 1000 px PNG (no draft
        # decoding for PNG) resizes in a fraction of the time, and the tile looks the same.
        if image.mode in ("RGB", "L") and "transparency" not in image.info:  # opaque (every JPEG): no alpha to
            return image.convert("RGB").resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)  # lay on grey
        rgba = image.convert("RGBA").resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        tile = Image.new("RGB", size, _UNDER_ALPHA)
        tile.paste(rgba, (0, 0), rgba)
        return tile
    except Exception:  # a contact sheet must never fail a run: anything unreadable gets the red tile
        return None


def _placeholder(fill: tuple[int, int, int], text: str) -> Image.Image:
    tile = Image.new("RGB", (_PLACEHOLDER_WIDTH, TILE_HEIGHT), fill)
    draw = ImageDraw.Draw(tile)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=_font())
    position = ((_PLACEHOLDER_WIDTH - right - left) / 2, (TILE_HEIGHT - bottom - top) / 2)
    draw.text(position, text, font=_font(), fill=(255, 255, 255))
    return tile


def label_lines(label: str, width: int) -> list[str]:
    """The label's lines as drawn under a tile ``width`` wide: each shortened with "..." to the tile's width (never
    less than a placeholder's)."""
    font = _font()
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow's bitmap fallback (no FreeType) is Latin-1 only
        label = label.encode("latin-1", "replace").decode("latin-1")
    room = max(width, _PLACEHOLDER_WIDTH)
    return [_fitted(line, room) for line in label.split("\n")]


@functools.lru_cache(maxsize=4096)
def _fitted(line: str, room: int) -> str:
    """The line, or its longest start that fits with "..." after it. Kept: a library's sheets repeat the same
    file names (``-poster1.jpg``) on every movie, and measuring text is a third of drawing a sheet."""
    def fits(text: str) -> bool:
        return _measure().textlength(text, font=_font()) <= room

    if fits(line):
        return line
    low, high = 0, len(line) - 1  # the longest start that fits: binary search, not one measure a character
    while low < high:
        mid = (low + high + 1) // 2
        if fits(line[:mid] + "..."):
            low = mid
        else:
            high = mid - 1
    return line[:low] + "..." if low else "..."


def _label(draw: ImageDraw.ImageDraw, label: str, x: int, y: int, width: int) -> None:
    for n, line in enumerate(label_lines(label, width)):
        draw.text((x, y + n * _LABEL_HEIGHT), line, font=_font(), fill=(0, 0, 0))


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    font = getattr(_local, "font", None)
    if font is None:
        font = _local.font = ImageFont.load_default(size=_FONT_SIZE)
    return font


def _measure() -> ImageDraw.ImageDraw:
    draw = getattr(_local, "draw", None)
    if draw is None:
        draw = _local.draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))  # measures text; draws nothing
    return draw
