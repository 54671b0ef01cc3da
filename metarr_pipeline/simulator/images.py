"""Drawing the catalog's pictures: deterministic, visually distinct, cheap.

A picture (``picture_id``) is drawn once at a small base resolution, in coordinates relative to the
frame, and every rendition is that base resized to the exact size asked for. So renditions of one
picture (any size, any JPEG quality, a slightly different aspect) hash alike, while two pictures differ
in their large structure: a gradient in a random direction and colour pair, and several big random
ellipses, polygons and bars with independent colours and luminances. That structure is what perceptual
hashes see (their 8×8 low frequencies), so distinct pictures land far apart (pHash: ~32 bits on average,
rarely under 16) rather than differing by a hue shift a hash would miss.

Pictures with a language carry a caption (title and language code) in a title band, as posters do.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Base area (pixels) per drawing style: large enough for the text to read, small enough to draw in a few ms.
_BASE_AREA = {"poster": 400 * 600, "backdrop": 640 * 360, "banner": 800 * 148, "profile": 240 * 360,
              "logo": 400 * 155, "clearart": 500 * 281, "disc": 400 * 400}
_ALPHA_STYLES = frozenset({"logo", "clearart", "disc"})
_NEAREST_ABOVE_PIXELS = 1_500_000


def render(picture_id: str, kind: str, width: int, height: int, fmt: str = "JPEG", quality: int = 90,
           caption: str = "", aspect: float | None = None) -> bytes:
    """The encoded picture at exactly ``width``×``height``. ``kind`` is the drawing style (poster,
    backdrop, banner, profile, logo, clearart, disc); ``fmt`` JPEG or PNG (PNG keeps the alpha).

    ``aspect`` is the picture's own aspect (default: width / height, to 3 decimals). Every rendition of
    a picture passes the same one, so all are resized from one drawing, and a copy served at a slightly
    different aspect (cross-provider) is that drawing stretched, as a real re-upload would be."""
    if width < 1 or height < 1:
        raise ValueError(f"cannot render {width}×{height}")
    base = _base(picture_id, kind, aspect or round(width / height, 3), caption)
    image = base
    if base.size != (width, height):
        image = base.resize((width, height), _resampling(base.size, width, height),
                            reducing_gap=2.0 if width < base.width else None)
    buffer = io.BytesIO()
    if fmt == "PNG":
        image.save(buffer, "PNG", compress_level=3)
    else:
        (image if image.mode == "RGB" else image.convert("RGB")).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _resampling(base: tuple[int, int], width: int, height: int) -> Image.Resampling:
    """Bilinear, except for big upscales (originals of 2000×3000 and more), where bilinear alone would
    cost 30-50 ms and nearest-neighbour 5: the pictures are flat shapes, so the steps barely show."""
    if width > base[0] and width * height > _NEAREST_ABOVE_PIXELS:
        return Image.Resampling.NEAREST
    return Image.Resampling.BILINEAR


@lru_cache(maxsize=128)
def _base(picture_id: str, kind: str, aspect: float, caption: str) -> Image.Image:
    area = _BASE_AREA.get(kind, _BASE_AREA["poster"])
    width = max(8, round(math.sqrt(area * aspect)))
    height = max(8, round(width / aspect))
    rng = random.Random(hashlib.blake2b(picture_id.encode(), digest_size=8).digest())
    if kind in _ALPHA_STYLES:
        image = _alpha_picture(rng, kind, width, height)
    else:
        image = _opaque_picture(rng, kind, width, height)
    if caption:
        _draw_caption(image, rng, caption, band=kind not in _ALPHA_STYLES)
    return image


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def _gradient(rng: random.Random, width: int, height: int) -> Image.Image:
    """A two-colour linear gradient at a random angle, computed small and scaled up (it is smooth)."""
    small_w, small_h = max(2, width // 8), max(2, height // 8)
    angle = rng.uniform(0, 2 * math.pi)
    ys, xs = np.mgrid[0:small_h, 0:small_w]
    t = xs / small_w * math.cos(angle) + ys / small_h * math.sin(angle)
    t = (t - t.min()) / max(1e-9, float(t.max() - t.min()))
    start, end = np.array(_colour(rng), dtype=float), np.array(_colour(rng), dtype=float)
    pixels = start * (1 - t[..., None]) + end * t[..., None]
    return Image.fromarray(pixels.astype(np.uint8), "RGB").resize((width, height), Image.Resampling.BILINEAR)


def _shape(draw: ImageDraw.ImageDraw, rng: random.Random, width: int, height: int,
           fill: tuple[int, ...], scale: tuple[float, float] = (0.15, 0.45)) -> None:
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    rx, ry = rng.uniform(*scale) * width, rng.uniform(*scale) * height
    choice = rng.random()
    if choice < 0.4:
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=fill)
    elif choice < 0.8:
        points = [(cx + rng.uniform(-1.5, 1.5) * rx, cy + rng.uniform(-1.5, 1.5) * ry)
                  for _ in range(rng.randint(3, 6))]
        draw.polygon(points, fill=fill)
    else:  # a bar across the frame
        if rng.random() < 0.5:
            draw.rectangle((0, cy - ry / 3, width, cy + ry / 3), fill=fill)
        else:
            draw.rectangle((cx - rx / 3, 0, cx + rx / 3, height), fill=fill)


def _opaque_picture(rng: random.Random, kind: str, width: int, height: int) -> Image.Image:
    image = _gradient(rng, width, height)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(4, 7) if kind != "profile" else rng.randint(2, 3)):
        _shape(draw, rng, width, height, _colour(rng))
    if kind == "profile":  # a head and shoulders, so headshots look like headshots
        skin, clothes = _colour(rng), _colour(rng)
        cx = width * rng.uniform(0.4, 0.6)
        draw.ellipse((cx - width * 0.55, height * 0.7, cx + width * 0.55, height * 1.3), fill=clothes)
        draw.ellipse((cx - width * 0.22, height * 0.2, cx + width * 0.22, height * 0.62), fill=skin)
    return image


def _alpha_picture(rng: random.Random, kind: str, width: int, height: int) -> Image.Image:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 6)):
        _shape(draw, rng, width, height, (*_colour(rng), 255), scale=(0.15, 0.45))
    if kind == "disc":  # keep a disc: a circle with a hole in the middle
        mask = Image.new("L", (width, height), 0)
        mask_draw = ImageDraw.Draw(mask)
        mask_draw.ellipse((0, 0, width - 1, height - 1), fill=255)
        mask_draw.ellipse((width * 0.42, height * 0.42, width * 0.58, height * 0.58), fill=0)
        backdrop = _gradient(rng, width, height).convert("RGBA")
        backdrop.alpha_composite(image)
        image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        image.paste(backdrop, (0, 0), mask)
    return image


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _draw_caption(image: Image.Image, rng: random.Random, caption: str, *, band: bool) -> None:
    """A title band (posters, backdrops) or free-standing lettering (logos, clearart)."""
    width, height = image.size
    draw = ImageDraw.Draw(image)
    band_height = max(12, round(height * (0.14 if band else 0.4)))
    top = rng.choice((round(height * 0.04), height - band_height - round(height * 0.04)))
    if not band:
        top = rng.randint(0, max(0, height - band_height))
    dark = rng.random() < 0.5
    if band:
        draw.rectangle((0, top, width, top + band_height), fill=(20, 20, 24) if dark else (235, 232, 225))
    ink = (245, 245, 240, 255) if dark else (15, 15, 20, 255)
    if not band:
        ink = (*_colour(rng), 255)
    size = max(6, round(band_height * 0.5))
    font = _font(size)
    while size > 6 and draw.textlength(caption, font=font) > width * 0.92:
        size = max(6, round(size * 0.85))
        font = _font(size)
    text_width = draw.textlength(caption, font=font)
    # Bold strokes on free-standing lettering: thin strokes alias differently at every rendition size.
    stroke = 0 if band else max(1, size // 8)
    draw.text(((width - text_width) / 2, top + (band_height - size) / 2), caption, font=font, fill=ink,
              stroke_width=stroke, stroke_fill=ink)
