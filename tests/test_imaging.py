"""Image analysis (sniffing, limits, perceptual hash) and the contact sheet.

The threshold test is the acceptance criterion for ``HASH_NAME`` and ``DUPLICATE_THRESHOLD``: on the
simulator's catalog, every planted near-duplicate (TMDB re-encode, TMDB resize, fanart.tv copy of a
TMDB picture) must fall within the threshold and every pair of distinct pictures of the same artwork
family beyond it, both hashed from the small renditions the pipeline really fetches.

Observed when the threshold was chosen (these ids, and 120 more generated movies): planted duplicates
0-4 bits, home-made re-encodes/resizes/1 % crops/PNG copies 0-8, distinct pictures 12 and up (one pair
in 68,000; the next at 14). pHash distances here are even (the hash has as many ones as zeros), so the
threshold 10 sits in the middle of the gap. dHash and aHash overlapped on the same data.
"""

from __future__ import annotations

import base64
import io
import itertools
import resource
import struct
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from metarr_pipeline.artwork.contact_sheet import Tile, contact_sheet, data_url, tile_jpeg
from metarr_pipeline.artwork.enrich import ChosenArt, MovieEnrichment
from metarr_pipeline.artwork.imaging import HASH_NAME, analyse_rendition, hamming
from metarr_pipeline.artwork.review import contact_sheet_for, contact_sheets_for, file_name, sheet_label
from metarr_pipeline.blobs import BlobStore
from metarr_pipeline.blobs.verify import ImageError, ImageFacts, verified_original, verify_original
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.fingerprints import DUPLICATE_THRESHOLD
from metarr_pipeline.simulator import Catalog
from metarr_pipeline.simulator.assets import PREVIEW_WIDTH, rendition_size
from metarr_pipeline.simulator.entries import ImageEntry
from metarr_pipeline.simulator.images import render

KNOWN_IDS = (603, 194, 101, 335984, 949, 27205, 146, 424, 807, 680, 129)
# The first 20 generated ids from 1000 that have both TMDB images and a fanart.tv entry.
GENERATED_IDS = (1000, 1001, 1002, 1004, 1005, 1006, 1008, 1009, 1010, 1011, 1012, 1014, 1015, 1016, 1017,
                 1018, 1019, 1020, 1021, 1022)
# Artwork families a dedup compares within: (provider, kind) → family.
FAMILY = {
    ("tmdb", "poster"): "poster", ("fanart", "movieposter"): "poster",
    ("tmdb", "backdrop"): "backdrop", ("fanart", "moviebackground"): "backdrop",
    ("tmdb", "logo"): "logo", ("fanart", "hdmovielogo"): "logo", ("fanart", "movielogo"): "logo",
}

CATALOG = Catalog(seed=0)


def small_rendition(image: ImageEntry) -> bytes:
    """The bytes the image hosts serve for analysis: TMDB ``w300``, or the fanart.tv preview (at most
    ``PREVIEW_WIDTH`` wide, as ``simulator.assets.FanartAssets`` sizes it)."""
    if image.provider == "tmdb":
        width, height = rendition_size(image, "w300")
    else:
        width, height = image.width, image.height
        if width > PREVIEW_WIDTH:
            width, height = PREVIEW_WIDTH, max(1, round(height * PREVIEW_WIDTH / width))
    return render(image.picture_id, image.style, width, height, image.fmt, image.quality, image.caption,
                  image.drawing_aspect)


def original(image: ImageEntry) -> bytes:
    return render(image.picture_id, image.style, image.width, image.height, image.fmt, image.quality,
                  image.caption, image.drawing_aspect)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


# -- the threshold -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hashed:
    movie_id: int
    images: dict[str, ImageEntry]  # name (path) → entry, in the families above
    hashes: dict[str, int]
    planted: list[tuple[str, str, str]]


@pytest.fixture(scope="module")
def hashed() -> list[Hashed]:
    """Every candidate of the test movies, hashed from its small rendition (about 1,600 images, ~5 s)."""
    movies = []
    for movie_id in (*KNOWN_IDS, *GENERATED_IDS):
        movie = CATALOG.movie(movie_id)
        assert movie is not None and movie.images and movie.fanart, f"movie {movie_id} lost its artwork"
        images = {i.path: i for i in (*movie.images, *movie.fanart) if (i.provider, i.kind) in FAMILY}
        hashes = {path: analyse_rendition(small_rendition(image)).phash for path, image in images.items()}
        movies.append(Hashed(movie_id, images, hashes, CATALOG.planted_duplicates(movie_id)))
    return movies


def _planted_distances(movies: list[Hashed]) -> list[tuple[int, int, str, str, str]]:
    """(distance, movie, duplicate, original, variant) for every planted pair."""
    rows = []
    for m in movies:
        for duplicate, source, variant in m.planted:
            assert duplicate in m.hashes and source in m.hashes, f"{m.movie_id}: planted pair outside the families"
            rows.append((hamming(m.hashes[duplicate], m.hashes[source]), m.movie_id, duplicate, source, variant))
    return rows


def _distinct_distances(movies: list[Hashed]) -> list[tuple[int, int, str, str, str]]:
    """(distance, movie, a, b, family) for every pair of different pictures within a family."""
    rows = []
    for m in movies:
        for (pa, a), (pb, b) in itertools.combinations(m.images.items(), 2):
            family = FAMILY[(a.provider, a.kind)]
            if family == FAMILY[(b.provider, b.kind)] and a.picture_id != b.picture_id:
                rows.append((hamming(m.hashes[pa], m.hashes[pb]), m.movie_id, pa, pb, family))
    return rows


def _summary(movies: list[Hashed]) -> str:
    worst_dup: dict[str, int] = defaultdict(int)
    for distance, *_, variant in _planted_distances(movies):
        worst_dup[variant] = max(worst_dup[variant], distance)
    closest: dict[str, int] = defaultdict(lambda: 64)
    for distance, *_, family in _distinct_distances(movies):
        closest[family] = min(closest[family], distance)
    return (f"{HASH_NAME}, threshold {DUPLICATE_THRESHOLD}: max planted-duplicate distance {dict(worst_dup)}, "
            f"min distinct distance {dict(closest)}")


def test_planted_duplicates_are_within_the_threshold(hashed: list[Hashed]) -> None:
    rows = _planted_distances(hashed)
    assert {variant for *_, variant in rows} == {"reencode", "resize", "crossprovider"}
    assert len(rows) > 200
    failing = [row for row in rows if row[0] > DUPLICATE_THRESHOLD]
    assert not failing, f"planted duplicates beyond the threshold {failing}; {_summary(hashed)}"


def test_distinct_pictures_are_beyond_the_threshold(hashed: list[Hashed]) -> None:
    rows = _distinct_distances(hashed)
    assert {family for *_, family in rows} == {"poster", "backdrop", "logo"}
    assert len(rows) > 10_000
    failing = sorted(row for row in rows if row[0] <= DUPLICATE_THRESHOLD)
    assert not failing, f"distinct pictures within the threshold {failing[:10]}; {_summary(hashed)}"


def test_the_threshold_sits_between_the_two_distributions(hashed: list[Hashed]) -> None:
    """Not only separated, but with room on both sides: a drift in drawing or decoding shows here first."""
    worst_duplicate = max(row[0] for row in _planted_distances(hashed))
    closest_distinct = min(row[0] for row in _distinct_distances(hashed))
    assert worst_duplicate + 4 <= DUPLICATE_THRESHOLD < closest_distinct, _summary(hashed)


def _poster_backdrop_and_logo() -> list[ImageEntry]:
    images = []
    for movie_id in (603, 27205, 1004):
        movie = CATALOG.movie(movie_id)
        assert movie is not None
        images += [movie.tmdb_images(kind)[0] for kind in ("poster", "backdrop", "logo")]
    return images


def _variants(data: bytes) -> dict[str, bytes]:
    """Real-world near-duplicates of one rendition: what another site or an old upload would serve."""
    image = Image.open(io.BytesIO(data))
    image.load()
    fmt = image.format or "PNG"
    width, height = image.size
    dx, dy = max(1, width // 100), max(1, height // 100)
    variants = {
        "half size": encode(image.resize((width // 2, height // 2), Image.Resampling.LANCZOS), fmt),
        "1% borders cropped": encode(image.crop((dx, dy, width - dx, height - dy)), fmt),
        "PNG": encode(image, "PNG"),
    }
    if fmt == "JPEG":
        variants["JPEG quality 60"] = encode(image, "JPEG", quality=60)
    else:
        variants["WebP"] = encode(image, "WEBP", lossless=True)
    return variants


@pytest.mark.parametrize("image", _poster_backdrop_and_logo(), ids=lambda i: f"{i.kind}-{i.picture_id}")
def test_home_made_near_duplicates_are_within_the_threshold(image: ImageEntry) -> None:
    data = small_rendition(image)
    reference = analyse_rendition(data).phash
    distances = {name: hamming(reference, analyse_rendition(copy).phash) for name, copy in _variants(data).items()}
    assert max(distances.values()) <= DUPLICATE_THRESHOLD, distances


def test_hamming() -> None:
    assert hamming(0, 0) == 0
    assert hamming(0, 2**64 - 1) == 64
    assert hamming(0b1011, 0b0001) == 2


# -- facts from bytes ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def poster() -> ImageEntry:
    movie = CATALOG.movie(603)
    assert movie is not None
    return movie.tmdb_images("poster")[0]


@pytest.fixture(scope="module")
def poster_w300(poster: ImageEntry) -> bytes:
    return small_rendition(poster)


def test_a_w300_poster_is_measured_from_its_bytes(poster: ImageEntry, poster_w300: bytes) -> None:
    facts = analyse_rendition(poster_w300)
    assert facts == ImageFacts("jpeg", 300, round(300 * poster.height / poster.width), facts.phash, False)
    assert facts.extension == "jpg"
    assert 0 < facts.phash < 2**64
    assert analyse_rendition(poster_w300) == facts  # deterministic


def test_a_logo_keeps_its_alpha() -> None:
    movie = CATALOG.movie(603)
    assert movie is not None
    facts = analyse_rendition(small_rendition(movie.tmdb_images("logo")[0]))
    assert (facts.format, facts.extension, facts.has_alpha) == ("png", "png", True)


def test_a_png_named_jpg_is_a_png(poster_w300: bytes) -> None:
    """Names and Content-Types are hints: only the bytes decide (the caller stores it as .png)."""
    png = encode(Image.open(io.BytesIO(poster_w300)), "PNG")
    facts = analyse_rendition(png)
    assert (facts.format, facts.extension) == ("png", "png")
    assert hamming(facts.phash, analyse_rendition(poster_w300).phash) <= DUPLICATE_THRESHOLD


def test_a_gif_is_read_from_its_first_frame(poster_w300: bytes) -> None:
    """Chosen behaviour: GIFs are accepted (first frame), since players show them; palette and all,
    they hash like the JPEG they were made from."""
    gif = encode(Image.open(io.BytesIO(poster_w300)).convert("P", palette=Image.Palette.ADAPTIVE), "GIF")
    facts = analyse_rendition(gif)
    assert (facts.format, facts.extension, facts.width) == ("gif", "gif", 300)
    assert hamming(facts.phash, analyse_rendition(poster_w300).phash) <= DUPLICATE_THRESHOLD


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width``×``height`` and whose data is a few bytes: a decompression bomb
    as far as a decoder that trusted the header is concerned."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


BAD_INPUTS = {
    "html": (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>", "not an image: looks like HTML"),
    "html with leading blank": (b"\n  <html><body>502 Bad Gateway</body></html>", "not an image: looks like HTML"),
    "json": (b'{"status_code": 34, "status_message": "not found"}', "not an image: looks like JSON"),
    "empty": (b"", "not an image: empty"),
    "unknown": (b"BM\x00\x01 something else entirely", "not an image: unknown format"),
    "jpeg magic only": (b"\xff\xd8\xff\xe0", "truncated or corrupt JPEG"),
    "bomb": (_png_header(50_000, 50_000), "image too large: 50000x50000"),
    "bomb within the side limit": (_png_header(15_000, 15_000), "image too large: 15000x15000"),
}


@pytest.mark.parametrize("function", [analyse_rendition, verify_original])
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_bytes_are_an_image_error(function: Callable[[bytes], ImageFacts], case: str) -> None:
    data, message = BAD_INPUTS[case]
    with pytest.raises(ImageError, match=message.replace(".", r"\.")) as raised:
        function(data)
    assert isinstance(raised.value, MetarrError)


def test_a_truncated_rendition_is_an_error(poster_w300: bytes) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # nobody in the process switched truncation off
    for cut in (len(poster_w300) // 2, len(poster_w300) - 2):  # first half; everything but the end marker
        with pytest.raises(ImageError, match="truncated or corrupt JPEG"):
            analyse_rendition(poster_w300[:cut])


def test_a_truncated_png_is_an_error() -> None:
    movie = CATALOG.movie(603)
    assert movie is not None
    data = small_rendition(movie.tmdb_images("logo")[0])
    with pytest.raises(ImageError, match="truncated or corrupt PNG"):
        analyse_rendition(data[: len(data) // 2])


@pytest.mark.parametrize("function", [analyse_rendition, verify_original])
def test_a_one_pixel_image_is_too_small(function: Callable[[bytes], ImageFacts]) -> None:
    with pytest.raises(ImageError, match="image too small: 1x1"):
        function(encode(Image.new("RGB", (1, 1)), "PNG"))


@pytest.mark.filterwarnings("error")  # no DecompressionBombWarning either: the header check comes first
def test_a_bomb_is_refused_before_any_pixel_is_allocated() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.perf_counter()
    for _ in range(20):
        for function in (analyse_rendition, verify_original):
            with pytest.raises(ImageError, match="image too large"):
                function(_png_header(50_000, 50_000))
    assert time.perf_counter() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # 7.5 GB if decoded


def test_an_original_is_verified_at_its_declared_size(poster: ImageEntry) -> None:
    data = original(poster)
    facts = verify_original(data)
    assert facts == ImageFacts("jpeg", poster.width, poster.height, 0, False)
    for cut in (len(data) // 2, len(data) - 2, 4096):  # half; all but the end marker; inside the header
        with pytest.raises(ImageError, match="truncated or corrupt JPEG"):
            verify_original(data[:cut])
    assert verify_original(data + b"\0" * 64).width == poster.width  # padding after the end marker is harmless


def test_a_progressive_original_is_verified_complete_only_with_every_scan() -> None:
    image = Image.radial_gradient("L").resize((600, 900)).convert("RGB")
    data = encode(image, "JPEG", progressive=True)
    assert verify_original(data).height == 900
    scans = [i for i in range(len(data)) if data[i:i + 2] == b"\xff\xda"]
    assert len(scans) > 1
    with pytest.raises(ImageError, match="truncated or corrupt JPEG"):
        verify_original(data[:scans[-1] - 1])  # every scan but the last


def test_an_original_logo_is_a_png_with_alpha() -> None:
    movie = CATALOG.movie(603)
    assert movie is not None
    logo = movie.tmdb_images("logo")[0]
    facts = verify_original(original(logo))
    assert facts == ImageFacts("png", logo.width, logo.height, 0, True)


def test_an_original_must_be_at_least_32_pixels_a_side() -> None:
    assert verify_original(encode(Image.new("RGB", (32, 32)), "PNG")).width == 32
    with pytest.raises(ImageError, match="image too small: 31x200"):
        verify_original(encode(Image.new("RGB", (31, 200)), "PNG"))


# -- contact sheet -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eight_tiles() -> list[Tile]:
    movie = CATALOG.movie(27205)
    assert movie is not None
    images = [*movie.tmdb_images("poster")[:3], *movie.tmdb_images("backdrop")[:3], *movie.tmdb_images("logo")[:2]]
    return [Tile(f"{image.kind} {n + 1}", small_rendition(image)) for n, image in enumerate(images)]


def test_the_contact_sheet_is_a_small_deterministic_jpeg(eight_tiles: list[Tile]) -> None:
    sheet = contact_sheet(eight_tiles)
    assert sheet[:3] == b"\xff\xd8\xff"
    assert len(sheet) < 20_000, len(sheet)
    image = Image.open(io.BytesIO(sheet))
    assert image.format == "JPEG" and image.height < 2 * 160 and image.width < 1000  # two rows of four
    assert contact_sheet(list(eight_tiles)) == sheet


def test_the_contact_sheet_survives_missing_and_unreadable_tiles(eight_tiles: list[Tile],
                                                                  poster_w300: bytes) -> None:
    missing = [*eight_tiles[:6], Tile("none", None), Tile("bad", b"<html>oops</html>")]
    sheet = contact_sheet(missing)
    assert Image.open(io.BytesIO(sheet)).format == "JPEG"
    # Garbage, truncated bytes and a bomb each get the red "unreadable" tile, distinct from "none".
    for bad in (b"garbage", poster_w300[: len(poster_w300) // 2], _png_header(50_000, 50_000)):
        assert contact_sheet([*missing[:7], Tile("bad", bad)]) == sheet
    assert contact_sheet([*missing[:7], Tile("bad", None)]) != sheet
    assert contact_sheet([])[:3] == b"\xff\xd8\xff"


def _pixels(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.float64)


def test_a_sheet_of_cached_tiles_looks_like_one_of_the_originals(eight_tiles: list[Tile]) -> None:
    """A tile made once (reduced, transparency flattened) and cached stands in for its original in any later sheet."""
    originals = [Tile(t.label, render(f"t{n}", "poster", 2000, 3000) if n == 0 else t.image)
                 for n, t in enumerate(eight_tiles)]
    tiles = [Tile(t.label, tile_jpeg(t.image or b"")) for t in originals]
    assert all(t.image and len(t.image) < 12_000 for t in tiles)  # a 2000×3000 poster's tile is a few KB
    direct, cached = contact_sheet(originals), contact_sheet(tiles)
    a, b = _pixels(direct), _pixels(cached)
    assert a.shape == b.shape  # the same layout: every tile came out at its original's tile size
    mean = float(np.abs(a - b).mean())
    assert mean < 2.0, mean  # and the same picture, but for JPEG noise
    assert tile_jpeg(b"<html>oops</html>") is None


def test_an_originals_tile_from_its_verified_pixels_equals_one_from_its_bytes() -> None:
    """Verifying a PNG original decodes it; its tile is made of those pixels (not decoded again), and is the
    same tile the bytes give. A JPEG is verified without decoding: there are no pixels to hand on."""
    logo = Image.new("RGBA", (800, 310), (0, 0, 0, 0))
    logo.paste((240, 30, 30, 255), (100, 50, 700, 260))
    png = encode(logo, "PNG")
    facts, pixels = verified_original(png)
    assert facts.format == "png" and facts.has_alpha and pixels is not None and pixels.size == (800, 310)
    assert tile_jpeg(png, pixels) == tile_jpeg(png) is not None
    jpeg = render("t", "poster", 2000, 3000)
    assert verified_original(jpeg)[1] is None
    assert Image.open(io.BytesIO(tile_jpeg(jpeg) or b"")).size == (80, 120)  # decoded at 1/8 straight to the tile


def _movie(key: str, blobs: list[tuple[str, str]], prefix: str = "") -> MovieEnrichment:
    chosen = tuple(ChosenArt("poster", rank, f"{prefix}cand{rank:04d}", "tmdb", "en", 2000, 3000, 9.0, {}, sha, ext)
                   for rank, (sha, ext) in enumerate(blobs, start=1))
    return MovieEnrichment(key, 1, "enriched", chosen=chosen)


def test_a_rescored_movies_sheet_is_composed_from_tiles_without_its_originals(
        tmp_path: Path, eight_tiles: list[Tile]) -> None:
    """The first sheet keeps a tile per image; a re-score that reorders the chosen art (new labels, a new sheet)
    draws from those tiles: the originals are not read again (here they are gone)."""
    store = BlobStore(tmp_path)
    blobs = [(b.sha256, b.ext) for b in (store.put(t.image or b"", "jpg") for t in eight_tiles[:4])]
    first = contact_sheet_for(_movie("m", blobs), tmp_path)
    assert len(list((tmp_path / "review" / "tiles").rglob("*.jpg"))) == 4
    for sha, ext in blobs:
        store.path_for(sha, ext).unlink()
    reordered = contact_sheet_for(_movie("m", blobs[::-1]), tmp_path)
    assert reordered != first
    assert len(list((tmp_path / "review" / "sheets").rglob("*.jpg"))) == 1  # the movie's older sheet is dropped
    labels = [sheet_label(file_name(c), c.candidate_id) for c in _movie("m", blobs).chosen]
    jpeg = _sheet_bytes(reordered)
    assert jpeg != contact_sheet([Tile(label, None) for label in labels])  # not "none" tiles
    assert jpeg != contact_sheet([Tile(label, b"bad") for label in labels])  # nor "unreadable" ones
    # the control: without the tiles (another cache) the same movie's originals are missed, "none" tiles
    assert _sheet_bytes(contact_sheet_for(_movie("m", blobs), tmp_path / "elsewhere")) == contact_sheet(
        [Tile(label, None) for label in labels])


def _sheet_bytes(markdown: str) -> bytes:
    return base64.b64decode(markdown.split("base64,", 1)[1].rstrip(")"))


def test_sheets_drawn_on_threads_equal_those_drawn_one_by_one(tmp_path: Path, eight_tiles: list[Tile]) -> None:
    store = BlobStore(tmp_path / "one")
    blobs = [(b.sha256, b.ext) for b in (store.put(t.image or b"", "jpg") for t in eight_tiles)]
    for t in eight_tiles:
        BlobStore(tmp_path / "many").put(t.image or b"", "jpg")
    movies = [(_movie(f"m{i}", blobs[i % 8:] + blobs[:i % 8]), None) for i in range(12)]
    one_by_one = contact_sheets_for(movies, tmp_path / "one", workers=1)
    threaded = contact_sheets_for(movies, tmp_path / "many", workers=4)
    assert threaded == one_by_one and len(set(threaded)) == 8


def test_data_url_embeds_the_jpeg(eight_tiles: list[Tile]) -> None:
    sheet = contact_sheet(eight_tiles[:2])
    url = data_url(sheet)
    assert url.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == sheet


def test_a_label_line_too_wide_keeps_its_longest_start_that_fits_with_an_ellipsis() -> None:
    from PIL import ImageDraw as Draw

    from metarr_pipeline.artwork.contact_sheet import _font, label_lines

    def width(text: str) -> float:
        return Draw.Draw(Image.new("RGB", (1, 1))).textlength(text, font=_font())

    long = "Der Herr der Ringe - Die Gefährten-clearlogo.png"
    for room in (80, 120, 200):
        (line,) = label_lines(long, room)
        start = line.removesuffix("...")
        assert line.endswith("...") and long.startswith(start) and width(line) <= room
        assert width(long[:len(start) + 1] + "...") > room  # one more character would not fit
    assert label_lines("-poster1.jpg\nshort", 80) == ["-poster1.jpg", "short"]  # what fits stays whole
    (narrow,) = label_lines("W" * 40, 1)  # never narrower than a placeholder tile
    assert narrow.endswith("...") and width(narrow) <= 80 < width(narrow.replace("...", "W..."))
