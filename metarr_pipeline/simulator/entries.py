"""What the catalog holds: frozen values, one per thing a provider can be asked about.

They carry everything both the HTTP layer (to answer in TMDB/fanart.tv shape) and the tests (to know
what the answer should be) need, including the facts a real provider would never tell: which picture
an image depicts (``picture_id``) and whether it is a planted copy of another (``variant``).
"""

from __future__ import annotations

from dataclasses import dataclass

# How each image type is drawn: full-frame opaque pictures, or shapes on transparency.
OPAQUE_STYLES = frozenset({"poster", "backdrop", "banner", "profile"})
ALPHA_STYLES = frozenset({"logo", "clearart", "disc"})


@dataclass(frozen=True)
class ImageEntry:
    provider: str  # "tmdb" | "fanart"
    kind: str  # tmdb: poster | backdrop | logo | profile | collection; fanart: its type (movieposter ...)
    style: str  # how it is drawn: poster | backdrop | banner | profile | logo | clearart | disc
    path: str  # tmdb: the JSON's file_path ("/Ab3...xyz.jpg"); fanart: the URL's path ("/fanart/movies/...")
    width: int  # declared (and served "original") size
    height: int
    language: str | None  # ISO 639-1; None = textless
    vote_average: float  # tmdb only
    vote_count: int  # tmdb: votes; fanart: likes
    picture_id: str  # what it depicts: equal ids are the same picture
    variant: str  # original | reencode | resize | crossprovider
    quality: int  # JPEG quality every rendition of this file is encoded at (PNG ignores it)
    caption: str = ""  # text drawn on it (pictures with a language); "" for textless ones
    picture_aspect: float = 0.0  # the picture's own aspect (a copy's original's); 0 → width / height
    fanart_id: str = ""
    fanart_lang: str = ""  # as fanart.tv writes it: "en", "00" or "" (both textless)
    disc: str = ""
    disc_type: str = ""
    served_format: str = ""  # "PNG"/"JPEG" when the bytes are not what the extension says ("" → by extension)
    served_size: tuple[int, int] | None = None  # the real size when it is not the declared one

    @property
    def fmt(self) -> str:
        if self.served_format:
            return self.served_format
        return "PNG" if self.path.endswith(".png") else "JPEG"

    @property
    def real_size(self) -> tuple[int, int]:
        """What the original really is (a provider's declared size can be wrong)."""
        return self.served_size or (self.width, self.height)

    @property
    def content_type(self) -> str:
        return "image/png" if self.path.endswith(".png") else "image/jpeg"

    @property
    def aspect_ratio(self) -> float:
        return self.width / self.height

    @property
    def drawing_aspect(self) -> float:
        """The aspect the picture is drawn at; a copy at another aspect is the same drawing, stretched."""
        return self.picture_aspect or round(self.width / self.height, 3)

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Genre:
    id: int
    name: str


@dataclass(frozen=True)
class Company:
    id: int
    name: str
    origin_country: str
    logo_path: str | None = None  # the simulator serves no company logos


@dataclass(frozen=True)
class Translation:
    language: str  # ISO 639-1
    title: str
    overview: str  # "" → the English overview is used


@dataclass(frozen=True)
class ReleaseDate:
    country: str  # ISO 3166-1
    certification: str
    type: int  # 1 premiere, 2 limited, 3 theatrical, 4 digital, 5 physical, 6 TV
    release_date: str  # "1999-03-30T00:00:00.000Z"
    note: str = ""


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    gender: int  # 0 unknown, 1 female, 2 male, 3 non-binary
    known_for_department: str
    popularity: float
    profile: ImageEntry | None  # None → profile_path null

    @property
    def profile_path(self) -> str | None:
        return self.profile.path if self.profile else None


@dataclass(frozen=True)
class CastCredit:
    person: Person
    character: str
    order: int
    cast_id: int
    credit_id: str


@dataclass(frozen=True)
class CrewCredit:
    person: Person
    job: str
    department: str
    credit_id: str


@dataclass(frozen=True)
class MovieEntry:
    id: int
    imdb_id: str | None
    title: str  # English
    original_title: str
    original_language: str
    overview: str  # English
    tagline: str
    runtime: int
    release_date: str  # YYYY-MM-DD
    status: str
    vote_average: float
    vote_count: int
    popularity: float
    genres: tuple[Genre, ...]
    production_companies: tuple[Company, ...]
    production_countries: tuple[str, ...]  # ISO 3166-1
    spoken_languages: tuple[str, ...]  # ISO 639-1
    collection_id: int | None
    translations: tuple[Translation, ...]  # besides English
    cast: tuple[CastCredit, ...]
    crew: tuple[CrewCredit, ...]
    release_dates: tuple[ReleaseDate, ...]
    keywords: tuple[tuple[int, str], ...]
    wikidata_id: str | None
    facebook_id: str | None
    instagram_id: str | None
    twitter_id: str | None
    images: tuple[ImageEntry, ...]  # TMDB posters, backdrops and logos, in TMDB's order (best voted first)
    fanart: tuple[ImageEntry, ...] | None  # None: fanart.tv has no entry for the film (404)
    traits: frozenset[str]  # the planted variety, see ``variety``
    handwritten: bool
    alternative_titles: tuple[tuple[str, str], ...] = ()  # (ISO 3166-1 country, title)

    @property
    def year(self) -> int:
        return int(self.release_date[:4])

    def text(self, language: str) -> Translation:
        """Title and overview in ``language``; English when the catalog has no translation."""
        for translation in self.translations:
            if translation.language == language:
                return Translation(language, translation.title or self.title, translation.overview or self.overview)
        return Translation("en", self.title, self.overview)

    def tmdb_images(self, kind: str) -> tuple[ImageEntry, ...]:
        return tuple(image for image in self.images if image.kind == kind)


@dataclass(frozen=True)
class CollectionEntry:
    id: int
    name: str
    overview: str
    parts: tuple[int, ...]  # movie ids
    images: tuple[ImageEntry, ...]  # TMDB posters and backdrops, best voted first within a kind
    fanart: tuple[ImageEntry, ...]  # fanart.tv's art for the collection (its ``/movies/{collection id}``)
    translations: tuple[Translation, ...] = ()

    @property
    def poster(self) -> ImageEntry:
        """The main poster (``poster_path``): the best voted one."""
        return next(i for i in self.images if i.kind == "poster")

    @property
    def backdrop(self) -> ImageEntry:
        return next(i for i in self.images if i.kind == "backdrop")

    def text(self, language: str) -> Translation:
        for translation in self.translations:
            if translation.language == language:
                return Translation(language, translation.title or self.name, translation.overview or self.overview)
        return Translation("en", self.name, self.overview)
