"""The perceptual hash of a candidate's small rendition: what makes two candidates "the same picture".

Reading the bytes safely (sniffing, size limits, truncation) is ``blobs.verify``'s job, shared with the
verification of originals; this module adds what only the artwork analysis needs.

The hash is a 64-bit pHash (the low 8×8 DCT coefficients of a 32×32 grey image, against their median),
computed on the small rendition (TMDB ``w300``, fanart.tv preview) so analysis costs little bandwidth
and about 0.3 ms of CPU. ``tests/test_imaging.py`` chose it and ``DUPLICATE_THRESHOLD`` on the
simulator's planted near-duplicates, distinct pictures and home-made re-encodes, resizes and crops:
dHash and aHash put some distinct pictures closer than some duplicates; pHash separates them. The
threshold lives in ``metarr_pipeline.fingerprints`` because changing it changes every enrichment result.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops

from metarr_pipeline.blobs.verify import MIN_RENDITION_SIDE, ImageError, ImageFacts, has_alpha, load_pixels, open_image

HASH_NAME = "phash-8x8-v1"  # stored next to every hash: a different recipe makes old hashes incomparable

# pHash geometry. JPEGs are decoded by libjpeg's DCT scaling (draft) to at least _WORK_SIDE pixels and
# other formats box-reduced to about the same, so a picture hashes alike whatever format or size it came
# in; decoding straight to 1/8 (≥ 32 px) was 20 % faster but doubled the distance of duplicates.
_HASH_BITS_SIDE = 8
_DCT_SIDE = 32
_WORK_SIDE = 64


def _dct_rows(n: int, keep: int) -> np.ndarray:
    """The first ``keep`` rows of the (unnormalised) DCT-II matrix: only the low frequencies are hashed."""
    k = np.arange(keep)[:, None]
    x = np.arange(n)[None, :]
    return np.cos(np.pi * k * (2 * x + 1) / (2 * n))


_DCT = _dct_rows(_DCT_SIDE, _HASH_BITS_SIDE)
_DCT_T = np.ascontiguousarray(_DCT.T)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def analyse_rendition(data: bytes) -> ImageFacts:
    """Facts and pHash of a candidate's small rendition, decoding no more pixels than the hash needs."""
    fmt, image = open_image(data, min_side=MIN_RENDITION_SIDE)
    width, height = image.size
    alpha = has_alpha(image)
    if fmt == "jpeg":
        image.draft("L", (_WORK_SIDE, _WORK_SIDE))  # DCT-domain 1/2, 1/4 or 1/8 and luma only
    load_pixels(image, fmt)
    try:
        phash = _phash(image, alpha)
    except Exception as exc:  # an exotic mode Pillow cannot convert is as useless as a corrupt file
        raise ImageError(f"cannot read {fmt.upper()} pixels ({image.mode}): {exc}") from exc
    return ImageFacts(fmt, width, height, phash, alpha)


def _grey(image: Image.Image, has_alpha: bool) -> Image.Image:
    """Luma, with transparent parts black (alpha premultiplied): the colour hidden under alpha 0 is
    arbitrary and differs between re-encodes, the silhouette is what the eye sees."""
    if not has_alpha:
        return image if image.mode == "L" else image.convert("L")
    if image.mode not in ("RGBA", "LA"):
        image = image.convert("RGBA")
    luma, alpha = image.convert("LA").split()
    return ImageChops.multiply(luma, alpha)


def _phash(image: Image.Image, has_alpha: bool) -> int:
    grey = _grey(image, has_alpha)
    factor = min(grey.width, grey.height) // _WORK_SIDE
    if factor > 1:  # cheap box reduction to the size a JPEG draft would have given
        grey = grey.reduce(factor)
    pixels = np.asarray(grey.resize((_DCT_SIDE, _DCT_SIDE), Image.Resampling.LANCZOS), dtype=np.float64)
    low = _DCT @ pixels @ _DCT_T
    bits = (low > np.median(low)).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")  # row-major, first bit high, like imagehash
