"""The image candidates of a movie, and the file names that let the image hosts find them again.

TMDB file paths look like TMDB's (27 base-62 characters) but encode where they belong, so the image host
can serve any image of any of the 10 million movies without an index (and after a restart):
``{namespace}{number: 8 base-62}{18 seed-bound check characters}``, namespace ``m`` = movie image
(number = movie id × 4096 + index), ``p`` = person profile, ``c`` = collection image. A name whose check
characters do not match is unknown (404), so guessed names do not resolve.

Planted near-duplicates (the dedup stage is tested against them): each movie with images gets, besides
its distinct pictures,
  * ``reencode``: a TMDB poster/backdrop again at the same size, encoded at a much lower JPEG quality;
  * ``resize``: a TMDB poster/backdrop/logo again at another declared size (e.g. 2000×3000 and 1000×1500);
  * ``crossprovider``: a fanart.tv movieposter / moviebackground / hdmovielogo that is a TMDB poster /
    backdrop / logo at fanart.tv's size (posters stretched by up to 0.6 %, i.e. aspect within 1 %).
A duplicate shares its original's ``picture_id``; the original has variant ``original``. Every picture
with a language carries a caption (title and language code), and each language version is its own
picture.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace

from metarr_pipeline.simulator.entries import ImageEntry

MOVIE_NS, PERSON_NS, COLLECTION_NS = "m", "p", "c"
IMAGES_PER_MOVIE = 4096

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_B62_INDEX = {c: i for i, c in enumerate(_B62)}
_NUMBER_WIDTH, _CHECK_WIDTH = 8, 18


@dataclass(frozen=True)
class FanartType:
    width: int  # fanart.tv's nominal size for the type
    height: int
    ext: str
    style: str


FANART_TYPES: dict[str, FanartType] = {
    "hdmovielogo": FanartType(800, 310, "png", "logo"),
    "movielogo": FanartType(400, 155, "png", "logo"),
    "hdmovieclearart": FanartType(1000, 562, "png", "clearart"),
    "movieclearart": FanartType(500, 281, "png", "clearart"),
    "movieart": FanartType(1000, 562, "png", "clearart"),
    "movieposter": FanartType(1000, 1426, "jpg", "poster"),
    "moviebackground": FanartType(1920, 1080, "jpg", "backdrop"),
    "moviebanner": FanartType(1000, 185, "jpg", "banner"),
    "moviethumb": FanartType(1000, 562, "jpg", "backdrop"),
    "moviedisc": FanartType(1000, 1000, "png", "disc"),
}

_POSTER_SIZES = ((2000, 3000), (1000, 1500), (680, 1000))
_BACKDROP_SIZES = ((3840, 2160), (1920, 1080), (1280, 720))
_LOGO_SIZES = ((800, 310), (1000, 388), (600, 233), (1200, 300), (1500, 580), (500, 200))
_PROFILE_SIZES = ((1365, 2048), (800, 1200), (421, 632), (500, 750))
_OTHER_LANGUAGES = ("fr", "de", "ja", "es", "it", "pt", "ko", "ru")
_QUALITIES = (85, 88, 90, 92, 95)


def _b62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(_B62[rest])
    return "".join(reversed(digits))


def file_token(seed: int, namespace: str, number: int) -> str:
    """A TMDB-looking 27-character file name stem that the catalog can decode (see the module doc)."""
    head = namespace + _b62(number, _NUMBER_WIDTH)
    digest = hashlib.blake2b(f"{seed}:{head}".encode(), digest_size=16).digest()
    return head + _b62(int.from_bytes(digest, "big"), _CHECK_WIDTH)


def parse_token(stem: str) -> tuple[str, int] | None:
    """``(namespace, number)`` of a file name stem, or None when it cannot be one of ours."""
    if len(stem) != 1 + _NUMBER_WIDTH + _CHECK_WIDTH:
        return None
    number = 0
    for char in stem[1:1 + _NUMBER_WIDTH]:
        value = _B62_INDEX.get(char)
        if value is None:
            return None
        number = number * 62 + value
    return stem[0], number


def ascii_caption(text: str) -> str:
    """Pillow's bundled font covers Latin only: captions are drawn in ASCII capitals."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", folded).strip().upper()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", ascii_caption(text).lower()).strip("-") or "movie"


def plant_quirks(images: tuple[ImageEntry, ...], traits: frozenset[str]) -> tuple[ImageEntry, ...]:
    """The planted image quirks (hand-written films' ``traits``, and ``variety``'s rules for generated ones),
    on the best-voted poster (the one that would win):

    * ``misdeclared_size``: declared 2000×3000 but served 1000×1500 (the small rendition has the right
      aspect, only the original tells the real size), and the community's favourite, so it wins on paper;
    * ``misnamed_png``: PNG bytes under a ``.jpg`` file name (and an ``image/jpeg`` label).
    """
    poster = next((i for i in images if i.kind == "poster"), None)
    if poster is None or not traits & {"misdeclared_size", "misnamed_png"}:
        return images
    quirky = poster
    if "misdeclared_size" in traits:
        quirky = replace(quirky, width=2000, height=3000, served_size=(1000, 1500), picture_aspect=0.667,
                         language="en", vote_average=10.0, vote_count=50)
    if "misnamed_png" in traits:
        quirky = replace(quirky, served_format="PNG")
    return tuple(quirky if image is poster else image for image in images)


def profile_image(seed: int, person_id: int, rng: random.Random) -> ImageEntry:
    width, height = rng.choice(_PROFILE_SIZES)
    return ImageEntry(
        provider="tmdb", kind="profile", style="profile",
        path=f"/{file_token(seed, PERSON_NS, person_id)}.jpg", width=width, height=height, language=None,
        vote_average=0.0, vote_count=0, picture_id=f"s{seed}.p{person_id}", variant="original", quality=90,
    )


COLLECTION_SLOTS = 8  # TMDB images per collection: file numbers collection id × 8 + slot

# A collection's TMDB images (kind, style, size, language, votes), best voted first within a kind: slot 0 is the
# collection's main poster (``poster_path``) and slot 3 its main backdrop (``backdrop_path``), both textless.
_COLLECTION_TMDB = (
    ("poster", "poster", (2000, 3000), None, 12), ("poster", "poster", (1000, 1500), "en", 8),
    ("poster", "poster", (2000, 3000), "fr", 3),
    ("backdrop", "backdrop", (1920, 1080), None, 9), ("backdrop", "backdrop", (3840, 2160), "en", 4),
)
# fanart.tv's types for a collection, as many of each as listed; every type the set folder can hold is there.
COLLECTION_FANART_COUNTS = {"hdmovielogo": 2, "hdmovieclearart": 1, "movieposter": 2, "moviebackground": 2,
                            "moviebanner": 1, "moviethumb": 1, "moviedisc": 1}


def collection_images(seed: int, collection_id: int, name: str) -> tuple[ImageEntry, ...]:
    """A collection's TMDB posters and backdrops (``/collection/{id}/images``): own pictures, the main ones
    textless, the others captioned in their language."""
    caption_title = ascii_caption(name) or f"COLLECTION {collection_id}"
    images = []
    for slot, (kind, style, size, language, votes) in enumerate(_COLLECTION_TMDB):
        images.append(ImageEntry(
            provider="tmdb", kind=kind, style=style,
            path=f"/{file_token(seed, COLLECTION_NS, collection_id * COLLECTION_SLOTS + slot)}.jpg", width=size[0],
            height=size[1], language=language, vote_average=5.0 + votes / 10 if votes else 0.0, vote_count=votes,
            picture_id=f"s{seed}.c{collection_id}.{kind}{slot}", variant="original", quality=90,
            caption=f"{caption_title} [{language.upper()}]" if language else "",
        ))
    return tuple(images)


def collection_fanart(seed: int, collection_id: int, name: str, tmdb: tuple[ImageEntry, ...]) -> tuple[ImageEntry, ...]:
    """fanart.tv's art for a collection (served at ``/v3/movies/{collection id}``, as fanart.tv does), with one
    cross-provider copy of the TMDB backdrop planted, like a movie's."""
    builder = ArtworkBuilder(seed, collection_id, name, "en", random.Random(f"{seed}:collection:{collection_id}"),
                             namespace="c")
    return builder.fanart(tmdb, counts=COLLECTION_FANART_COUNTS, copies=("moviebackground",))


class ArtworkBuilder:
    """Builds one movie's TMDB and fanart.tv candidates with the planted duplicates (module doc)."""

    def __init__(self, seed: int, movie_id: int, title: str, original_language: str, rng: random.Random,
                 namespace: str = MOVIE_NS) -> None:
        self.seed, self.movie_id, self.rng = seed, movie_id, rng
        self.namespace = namespace  # "c": a collection's pictures, distinct from the movie with the same number
        self.title = title
        self.caption_title = ascii_caption(title) or f"MOVIE {movie_id}"
        self.original_language = original_language
        self._tmdb: list[ImageEntry] = []
        self._pictures = 0
        self._fanart_count = 0

    # -- TMDB ---------------------------------------------------------------------------------------------
    def tmdb(self) -> tuple[ImageEntry, ...]:
        """Posters, backdrops and logos, each kind best-voted first like TMDB."""
        self._kind("poster", "poster", self.rng.randint(6, 15), _POSTER_SIZES, (6, 3, 1.5),
                   self._poster_language, reencodes=self.rng.randint(1, 2), resizes=self.rng.randint(1, 2))
        self._kind("backdrop", "backdrop", self.rng.randint(8, 20), _BACKDROP_SIZES, (3, 5.5, 1.5),
                   self._backdrop_language, reencodes=1, resizes=self.rng.randint(1, 2))
        self._kind("logo", "logo", self.rng.randint(3, 7), _LOGO_SIZES, (4, 2, 2, 1, 1, 1),
                   self._logo_language, reencodes=0, resizes=self.rng.randint(0, 1))
        order = {"poster": 0, "backdrop": 1, "logo": 2}
        return tuple(sorted(self._tmdb, key=lambda i: (order[i.kind], -i.vote_average, -i.vote_count, i.path)))

    def _kind(self, kind: str, style: str, distinct: int, sizes: tuple[tuple[int, int], ...],
              weights: tuple[float, ...], language: Callable[[int], str | None], *, reencodes: int,
              resizes: int) -> None:
        """``distinct`` pictures, then copies of some of them: ``reencodes`` at a lower JPEG quality and
        ``resizes`` at another declared size."""
        originals = []
        for n in range(distinct):
            lang = language(n)
            size = self.rng.choices(sizes, weights)[0]
            originals.append(self._add_tmdb(kind, style, size, lang, self._picture(kind, lang), "original",
                                            self.rng.choice(_QUALITIES)))
        chosen = self.rng.sample(originals, min(len(originals), reencodes + resizes))
        for k, source in enumerate(chosen):
            if k < reencodes:
                self._add_tmdb(kind, style, (source.width, source.height), source.language, source.picture_id,
                               "reencode", source.quality - self.rng.randint(25, 35), source)
            else:
                factor = 0.5 if source.width >= 1500 else 1.5 if source.width < 1000 else 2.0
                size = (round(source.width * factor), round(source.height * factor))
                self._add_tmdb(kind, style, size, source.language, source.picture_id, "resize",
                               self.rng.choice(_QUALITIES), source)

    def _add_tmdb(self, kind: str, style: str, size: tuple[int, int], language: str | None, picture_id: str,
                  variant: str, quality: int, source: ImageEntry | None = None) -> ImageEntry:
        index = len(self._tmdb)
        ext = "png" if style == "logo" else "jpg"
        token = file_token(self.seed, MOVIE_NS, self.movie_id * IMAGES_PER_MOVIE + index)
        if self.rng.random() < 0.25:
            votes, average = 0, 0.0
        else:
            votes, average = self.rng.randint(1, 50), round(min(10.0, max(0.0, self.rng.gauss(5.5, 1.4))), 3)
        image = ImageEntry(
            provider="tmdb", kind=kind, style=style, path=f"/{token}.{ext}", width=size[0], height=size[1],
            language=language, vote_average=average, vote_count=votes, picture_id=picture_id, variant=variant,
            quality=quality, caption=source.caption if source else self._caption(language),
            picture_aspect=source.drawing_aspect if source else 0.0,
        )
        self._tmdb.append(image)
        return image

    def _picture(self, kind: str, language: str | None) -> str:
        self._pictures += 1
        return f"s{self.seed}.{self.namespace}{self.movie_id}.{kind}{self._pictures}"

    def _caption(self, language: str | None) -> str:
        return "" if language is None else f"{self.caption_title} [{language.upper()}]"

    def _poster_language(self, n: int) -> str | None:
        """At least one English, one textless and one foreign poster, then a realistic mix."""
        other = self.original_language if self.original_language != "en" else "fr"
        if n < 3:
            return ("en", None, other)[n]
        pool = ("en", None, self.original_language, *_OTHER_LANGUAGES)
        return self.rng.choices(pool, (35, 20, 10, *([35 / len(_OTHER_LANGUAGES)] * len(_OTHER_LANGUAGES))))[0]

    def _backdrop_language(self, n: int) -> str | None:
        if n < 2:
            return (None, "en")[n]
        return self.rng.choices((None, "en", self.original_language, "fr", "de"), (70, 18, 6, 3, 3))[0]

    def _logo_language(self, n: int) -> str | None:
        if n == 0:
            return "en"
        return self.rng.choices(("en", self.original_language, None, "fr", "de"), (55, 15, 10, 10, 10))[0]

    # -- fanart.tv ----------------------------------------------------------------------------------------
    def fanart(self, tmdb: tuple[ImageEntry, ...], counts: dict[str, int] | None = None,
               copies: tuple[str, ...] = ("movieposter", "moviebackground", "hdmovielogo")) -> tuple[ImageEntry, ...]:
        """fanart.tv's types, each best-liked first; cross-provider copies of TMDB pictures planted (``copies``).
        ``counts`` fixes how many of each type (a movie's are drawn at random)."""
        rng = self.rng
        counts = counts or {
            "hdmovielogo": rng.randint(1, 4), "movielogo": rng.randint(0, 2), "hdmovieclearart": rng.randint(0, 3),
            "movieclearart": rng.randint(0, 2), "movieart": 1 if rng.random() < 0.3 else 0,
            "movieposter": rng.randint(2, 6), "moviebackground": rng.randint(2, 8), "moviebanner": rng.randint(0, 2),
            "moviethumb": rng.randint(0, 3), "moviedisc": rng.randint(0, 2),
        }
        items: list[ImageEntry] = []
        for kind, count in counts.items():
            for _ in range(count):
                language = self._fanart_language(kind)
                spec = FANART_TYPES[kind]
                items.append(self._add_fanart(kind, (spec.width, spec.height), language,
                                              self._picture(kind, language), "original", rng.choice(_QUALITIES)))
        for kind, tmdb_kind in (("movieposter", "poster"), ("moviebackground", "backdrop"), ("hdmovielogo", "logo")):
            if kind not in copies:
                continue
            sources = [i for i in tmdb if i.kind == tmdb_kind and i.variant == "original"]
            if not sources:
                continue
            if tmdb_kind == "backdrop":
                sources = [i for i in sources if i.language is None] or sources
            source = rng.choice(sources)
            if tmdb_kind == "poster":
                size = (1000, round(1000 / source.aspect_ratio * rng.uniform(0.994, 1.006)))
            elif tmdb_kind == "backdrop":
                size = (1920, 1080)
            else:
                size = (800, round(800 / source.aspect_ratio))
            items.append(self._add_fanart(kind, size, source.language, source.picture_id, "crossprovider",
                                          rng.choice(_QUALITIES), source))
        order = list(FANART_TYPES)
        return tuple(sorted(items, key=lambda i: (order.index(i.kind), -i.vote_count, i.fanart_id)))

    def _fanart_language(self, kind: str) -> str | None:
        """Backgrounds are nearly all textless; logos, banners and thumbs nearly all carry the title."""
        if kind == "moviebackground":
            return self.rng.choices((None, "en"), (90, 10))[0]
        if FANART_TYPES[kind].style in ("logo", "banner") or kind == "moviethumb":
            return self.rng.choices(("en", self.original_language, None), (70, 15, 15))[0]
        return self.rng.choices(("en", None, "fr", "de"), (55, 30, 8, 7))[0]

    def _add_fanart(self, kind: str, size: tuple[int, int], language: str | None, picture_id: str, variant: str,
                    quality: int, source: ImageEntry | None = None) -> ImageEntry:
        spec = FANART_TYPES[kind]
        self._fanart_count += 1
        number = self.movie_id * 64 + self._fanart_count  # fanart.tv ids are global numbers
        digest = hashlib.blake2b(f"{self.seed}:{number}".encode(), digest_size=8).hexdigest()
        name = f"{slug(self.title)}-{digest[:13]}.{spec.ext}"
        disc, disc_type = ("", "")
        if kind == "moviedisc":
            disc, disc_type = str(self.rng.choice((1, 1, 2))), self.rng.choice(("bluray", "dvd", "3d"))
        raw_lang = language or ("" if self.rng.random() < 0.2 else "00")
        return ImageEntry(
            provider="fanart", kind=kind, style=spec.style, path=f"/fanart/movies/{self.movie_id}/{kind}/{name}",
            width=size[0], height=size[1], language=language, vote_average=0.0, vote_count=self.rng.randint(0, 30),
            picture_id=picture_id, variant=variant, quality=quality,
            caption=source.caption if source else self._caption(language),
            picture_aspect=source.drawing_aspect if source else 0.0, fanart_id=str(number), fanart_lang=raw_lang,
            disc=disc, disc_type=disc_type,
        )

