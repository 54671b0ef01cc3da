"""What an image really is, read from its bytes, and the check every original passes before it is stored.

Providers' declared sizes, file names and Content-Types are hints (a PNG named ``.jpg``, an HTML error
page served as ``image/jpeg``), so every downloaded original is verified here before it enters the blob
store, and the artwork analysis (``artwork.imaging``) opens every candidate's rendition through the same
:func:`open_image`. Anything that does not decode is an :class:`ImageError`: a failed candidate, never a
selected one, never a published one.

Hardening, none of which touches process-wide state (other code may share this Pillow):
  * the format is sniffed from the magic bytes and only that decoder is run;
  * the size limits are checked on the header, before a single pixel is allocated (decompression bombs);
  * truncated files raise, because Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` is left False.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import GifImagePlugin, Image, ImageFile, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

from metarr_pipeline.errors import MetarrError

MIN_RENDITION_SIDE = 16  # a preview smaller than this carries no picture (fanart.tv banner previews are 37 px)
MIN_ORIGINAL_SIDE = 32
MAX_SIDE = 20_000
MAX_PIXELS = 120_000_000

_OPENERS: dict[str, type[ImageFile.ImageFile]] = {
    "jpeg": JpegImagePlugin.JpegImageFile,
    "png": PngImagePlugin.PngImageFile,
    "gif": GifImagePlugin.GifImageFile,  # first frame only, like every player shows it
    "webp": WebPImagePlugin.WebPImageFile,
}
_EXTENSIONS = {"jpeg": "jpg"}
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


class ImageError(MetarrError):
    """The bytes are not a usable image (not an image, truncated, corrupt, absurdly small or large).

    ``transient`` says whether a retry could change the verdict: an HTML error page, an empty or JSON body,
    a truncated or corrupt file are what a proxy hiccup or a cut transfer look like; a decoded header that
    says "too small", "too large" or SVG, or bytes of a format we do not read, are facts about the image.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class ImageFacts:
    format: str  # sniffed: "jpeg" | "png" | "gif" | "webp"
    width: int  # real pixels of the bytes analysed (the rendition's, for analyse_rendition)
    height: int
    phash: int  # 64-bit unsigned; 0 when not computed
    has_alpha: bool

    @property
    def extension(self) -> str:
        """File extension for the sniffed format, so a PNG served as ``.jpg`` is stored as ``.png``."""
        return _EXTENSIONS.get(self.format, self.format)


def sniff(data: bytes) -> str:
    """The image format the bytes start with; ImageError naming what they look like otherwise."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    what = _describe(data)
    raise ImageError(f"not an image: {what}", transient=what in ("empty", "looks like HTML", "looks like JSON"))


def _describe(data: bytes) -> str:
    if not data:
        return "empty"
    text = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml")) and b"<svg" in text:
        return "looks like SVG (vector images are not supported)"
    if text.startswith(b"<"):
        return "looks like HTML"
    if text.startswith((b"{", b"[")):
        return "looks like JSON"
    return f"unknown format (starts with {data[:8].hex(' ')})"


def open_image(data: bytes, *, min_side: int = MIN_RENDITION_SIDE) -> tuple[str, ImageFile.ImageFile]:
    """Sniffed format and the image with only its header read, so the caller can ``draft`` before the
    pixels are decoded. Sizes outside the limits are refused here, before anything is allocated."""
    fmt = sniff(data)
    try:
        image = _OPENERS[fmt](io.BytesIO(data))
    except Exception as exc:  # Pillow raises many types on bad headers; every one means "does not decode"
        raise ImageError(f"truncated or corrupt {fmt.upper()}: {exc}", transient=True) from exc
    width, height = image.size
    if width < min_side or height < min_side:
        raise ImageError(f"image too small: {width}x{height}")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageError(f"image too large: {width}x{height} (limits: {MAX_SIDE} px a side, "
                         f"{MAX_PIXELS // 1_000_000} MP)")
    return fmt, image


def has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or "transparency" in image.info


def load_pixels(image: ImageFile.ImageFile, fmt: str) -> None:
    """Decode the pixels; every way Pillow reports a bad file becomes an :class:`ImageError`."""
    try:
        image.load()
    except Exception as exc:  # OSError for truncation, SyntaxError/ValueError/zlib.error for corruption ...
        raise ImageError(f"truncated or corrupt {fmt.upper()}: {exc}", transient=True) from exc


def verify_original(data: bytes) -> ImageFacts:
    """Facts of a downloaded original, verified complete: what gets published must open in a player.

    PNG and WebP are decoded fully (zlib and VP8 errors only show while decoding). A JPEG is checked
    structurally instead: its header parses within the size limits, and its last scan is followed by the
    end-of-image marker. That is what a cut download breaks; decoding the scan adds nothing, because libjpeg
    only warns about damaged entropy data (Pillow then decodes grey blocks without an error), and it cost
    ~50 ms per 2000×3000 poster, a sixth of a cold run's CPU.
    """
    return verified_original(data)[0]


def verified_original(data: bytes) -> tuple[ImageFacts, Image.Image | None]:
    """:func:`verify_original`, with the image as verifying decoded it (PNG, WebP, GIF; None for a JPEG,
    checked without decoding): a caller that needs the pixels too (a contact-sheet tile) does not decode twice."""
    fmt, image = open_image(data, min_side=MIN_ORIGINAL_SIDE)
    if fmt == "jpeg":
        last_scan = data.rfind(b"\xff\xda")  # 0xFF inside scan data is stuffed (FF 00): markers are unambiguous
        if last_scan < 0 or data.find(b"\xff\xd9", last_scan) < 0:
            raise ImageError("truncated or corrupt JPEG: no end-of-image marker after the last scan", transient=True)
        return ImageFacts(fmt, image.width, image.height, 0, has_alpha(image)), None
    load_pixels(image, fmt)
    return ImageFacts(fmt, image.width, image.height, 0, has_alpha(image)), image
