"""Deterministic generation of catalog entries from (seed, id).

Two levels, because search needs titles of tens of thousands of films but only a page of full entries:
``brief`` (title, year, language, popularity; a few microseconds, from one hash) and ``movie`` (the
whole entry with credits, release dates and artwork, from seeded RNGs, one per part so that changing
how one part is generated leaves the others as they were).
"""

from __future__ import annotations

import hashlib
import random
import struct
from dataclasses import dataclass
from functools import lru_cache

from metarr_pipeline.simulator.artwork import ArtworkBuilder, plant_quirks
from metarr_pipeline.simulator.entries import (
    CastCredit,
    Company,
    CrewCredit,
    MovieEntry,
    Person,
    ReleaseDate,
    Translation,
)
from metarr_pipeline.simulator.known import KnownMovie
from metarr_pipeline.simulator.people import HOSTILE_PEOPLE, known, person, pool_person
from metarr_pipeline.simulator.reference import CERTIFICATIONS, GENRES, LANGUAGE_COUNTRY
from metarr_pipeline.simulator.variety import collection_of, generated_traits

# Title words. None of them is a word of a hand-written title (so searching "Heat" or "The Matrix" finds
# only the real ones) or of "Untitled Home Video" (which must find nothing).
_ADJECTIVES = (
    "Silent", "Crimson", "Hollow", "Broken", "Golden", "Distant", "Frozen", "Burning", "Last", "Quiet", "Wild",
    "Lonely", "Electric", "Bitter", "Velvet", "Iron", "Paper", "Glass", "Midnight", "Scarlet", "Northern",
    "Secret", "Endless", "Savage", "Gentle", "Restless", "Fading", "Wandering", "Sleeping", "Painted", "Stolen",
    "Shattered", "Lucky", "Dark", "Bright", "Little", "Final", "Forgotten", "Sudden", "Strange",
)
_NOUNS = (
    "Harbor", "River", "Summer", "Winter", "Garden", "Promise", "Station", "Shadow", "Kingdom", "Orchard",
    "Lantern", "Frontier", "Highway", "Mirror", "Letter", "Island", "Machine", "Circus", "Orchestra",
    "Lighthouse", "Voyage", "Witness", "Stranger", "Signal", "Engine", "Canyon", "Tide", "Empire", "Season",
    "Ballad", "Detective", "Hunter", "Dancer", "Pilgrim", "Mountain", "Desert", "Forest", "Storm", "Echo",
    "Horizon", "Compass", "Carnival", "Bridge", "Border", "Country", "Alibi", "Asylum", "Paradise", "Ransom",
    "Orbit",
)
_PLACES = (
    "Berlin", "Marseille", "Lagos", "Kyoto", "Montréal", "São Paulo", "Reykjavík", "Tangier", "Valparaíso",
    "Kraków", "Oslo", "Naples", "Havana", "Dakar", "Istanbul", "Seoul", "Bombay", "Lima", "Nairobi", "Tbilisi",
    "Zürich", "Ghent", "Bilbao", "Tromsø",
)
_NAMES = ("Anna", "Joe", "Mira", "Felix", "Zoë", "Oskar", "Lucía", "Hana", "Tomasz", "Amara", "Chloé", "Björn",
          "Inès", "Mateo", "Yusuf", "Aiko", "Ruth", "Niamh", "Otis", "Leila")
_FOREIGN_WORDS = {
    "fr": ("Nuit", "Rivière", "Silence", "Été", "Mémoire", "Forêt", "Lumière", "Cœur", "Frontière", "Tempête"),
    "de": ("Nacht", "Schatten", "Fluss", "Sommer", "Stille", "Grenze", "Brücke", "Spiegel"),
    "ja": ("夜", "川", "影", "夏", "記憶", "森", "光", "嵐"),
    "ko": ("밤", "강", "그림자", "여름", "기억", "숲"),
    "es": ("Noche", "Río", "Sombra", "Verano", "Memoria", "Tormenta", "Frontera"),
}
# Alternative titles (``alt_title``): romanised-looking words of these syllables, which no English or foreign
# title word above is, so a folder named by one is found by it alone (as "Kimi no Na wa" finds "Your Name.").
_SYLLABLES = ("ka", "ki", "ko", "sa", "shi", "so", "ta", "to", "na", "ni", "ha", "hi", "mi", "mo", "yo", "ra",
              "ri", "ru", "wa", "ze")
_FOREIGN_PATTERNS = {"fr": "{a} de {place}", "de": "{a} über {place}", "ja": "{a}の{b}", "ko": "{a}의 {b}",
                     "es": "{a} en {place}"}

_ROLES = ("A retired detective", "Two estranged sisters", "A young cartographer", "A washed-up boxer",
          "An idealistic lawyer", "A lighthouse keeper", "A runaway bride", "A disgraced surgeon",
          "Three old friends", "A stubborn farmer", "A travelling magician", "A night-shift nurse")
_GOALS = ("must find a stolen map", "must protect a family secret", "must escape a town that forgets",
          "must uncover the truth about a fire", "cannot forget an old promise", "will risk everything for a "
          "hidden fortune", "must catch the last train home", "must return a letter thirty years late")
_SETTINGS = ("in {place}", "before winter ends", "during one long night", "across three decades",
             "on a remote island", "somewhere between {place} and home")
_TAGLINES = ("Some secrets never stay buried.", "Every ending is a beginning.", "Nothing is what it seems.",
             "One night. One chance.", "The truth has a price.", "Home is further than it looks.")
_CHARACTERS = ("Detective {last}", "{first}", "Dr. {first} {last}", "Young {first}", "Himself", "Narrator (voice)",
               "Officer {last}", "{first}'s Mother", "Bartender", "Guard #2", "{first} {last}", "Mrs. {last}")
_COMPANIES = (
    Company(90001, "Northwind Pictures", "US"), Company(90002, "Lumière Noire", "FR"),
    Company(90003, "Kestrel Films", "GB"), Company(90004, "Studio Hanami", "JP"), Company(90005, "Rheinfilm", "DE"),
    Company(90006, "Blue Harbor Entertainment", "US"), Company(90007, "Solano Cine", "ES"),
    Company(90008, "Hanbit Pictures", "KR"), Company(90009, "Maple Leaf Features", "CA"),
    Company(90010, "Aurora Media", "US"),
)
_KEYWORDS = (
    (818, "based on novel or book"), (4565, "dystopia"), (10349, "survival"), (9663, "sequel"),
    (6054, "friendship"), (10183, "independent film"), (9748, "revenge"), (12190, "cyberpunk"),
    (1568, "undercover"), (5565, "biography"), (9882, "space"), (10084, "rescue"), (14819, "violence"),
    (15060, "heist"), (3799, "small town"), (2020, "road trip"), (1299, "coming of age"), (7312, "betrayal"),
)
_CREW_JOBS = (("Producer", "Production"), ("Original Music Composer", "Sound"),
              ("Director of Photography", "Camera"), ("Editor", "Editing"), ("Casting", "Production"))
IMDB_BASE = 90_000_000
_EIGHT_INTS = struct.Struct(">8I")
_LANGUAGE_SHARES = (("en", 70), ("fr", 8), ("de", 6), ("ja", 6), ("ko", 4), ("es", 6))


@dataclass(frozen=True)
class Brief:
    """What search needs of a film; cheap enough to compute for the whole search corpus."""

    id: int
    title: str
    original_title: str
    original_language: str
    release_date: str
    popularity: float
    vote_average: float
    vote_count: int

    @property
    def year(self) -> int:
        return int(self.release_date[:4])


def _ints(seed: int, purpose: str, number: int) -> tuple[int, ...]:
    """Eight 32-bit numbers from one hash: all a brief needs, without the cost of seeding an RNG."""
    return _EIGHT_INTS.unpack(hashlib.blake2b(f"{seed}:{purpose}:{number}".encode(), digest_size=32).digest())


def _rng(seed: int, movie_id: int, part: str) -> random.Random:
    n = _ints(seed, part, movie_id)
    return random.Random(n[0] << 32 | n[1])


def _title(seed: int, movie_id: int) -> tuple[str, str, str]:
    """(title, original title, original language) of a generated film."""
    n = _ints(seed, "title", movie_id)
    adj, noun, noun2 = _ADJECTIVES[n[1] % 40], _NOUNS[n[2] % 50], _NOUNS[(n[2] + 1 + n[2] // 50 % 49) % 50]
    place, name = _PLACES[n[3] % len(_PLACES)], _NAMES[n[3] // 100 % len(_NAMES)]
    article = "An" if noun[0] in "AEIOU" else "A"
    title = (
        f"The {adj} {noun}", f"{adj} {noun}", f"{noun} of the {noun2}", f"The {noun} of {place}",
        f"{adj} {noun} in {place}", f"{name}'s {noun}", f"{article} {noun} for {name}", f"The {adj} {noun} II",
    )[n[0] % 8]
    language = _language(n[4] % 100)
    if language == "en":
        return title, title, "en"
    words = _FOREIGN_WORDS[language]
    first = n[5] % len(words)
    second = (first + 1 + n[6] % (len(words) - 1)) % len(words)  # never the same word twice
    original = _FOREIGN_PATTERNS[language].format(a=words[first], b=words[second], place=place)
    return title, original, language


def _language(share: int) -> str:
    for language, weight in _LANGUAGE_SHARES:
        if share < weight:
            return language
        share -= weight
    return "en"


@lru_cache(maxsize=131072)
def brief(seed: int, movie_id: int) -> Brief:
    """Title, date and popularity of a generated film. A ``title_twin`` takes its title (and language) from
    ``id - 42`` and is moved to another year when the two would coincide."""
    twin = "title_twin" in generated_traits(movie_id)
    title, original, language = _title(seed, movie_id - 42 if twin else movie_id)
    n = _ints(seed, "brief", movie_id)
    year = 1950 + n[0] % 76
    if twin and year == brief(seed, movie_id - 42).year:
        year = 1950 + (year - 1950 + 7) % 76
    popularity = round(0.6 + ((n[3] % 10_000) / 10_000) ** 3 * 40, 3)
    return Brief(movie_id, title, original, language, f"{year}-{1 + n[1] % 12:02d}-{1 + n[2] % 28:02d}",
                 popularity, round(4 + (n[4] % 500) / 100, 3), n[5] % 3000)


def alternative_titles(seed: int, movie_id: int) -> tuple[tuple[str, str], ...]:
    """(country, title) of a generated film's alternative titles: one for an ``alt_title`` film, e.g.
    "Kasomi no Taru", two or three syllables a word; none otherwise. Cheap: the search index asks for every id."""
    if "alt_title" not in generated_traits(movie_id):
        return ()
    n = _ints(seed, "alt_title", movie_id)

    def word(a: int, b: int) -> str:
        return "".join(_SYLLABLES[(a >> (5 * i)) % len(_SYLLABLES)] for i in range(2 + b % 2))

    country = LANGUAGE_COUNTRY[brief(seed, movie_id).original_language]
    return ((country, f"{word(n[0], n[1]).capitalize()} no {word(n[2], n[3]).capitalize()}"),)


def generated_imdb_id(movie_id: int) -> str:
    """``tt9`` + 7 digits: eight-digit IMDb ids starting with 9 do not exist yet, so they never collide."""
    return f"tt{IMDB_BASE + movie_id}"


def generated_movie(seed: int, movie_id: int) -> MovieEntry:
    b = brief(seed, movie_id)
    traits = generated_traits(movie_id)
    rng = _rng(seed, movie_id, "text")
    place = rng.choice(_PLACES)
    overview = f"{rng.choice(_ROLES)} {rng.choice(_GOALS)} {rng.choice(_SETTINGS).format(place=place)}."
    tagline = rng.choice(_TAGLINES) if rng.random() < 0.6 else ""
    genres = tuple(rng.sample(sorted(GENRES.values(), key=lambda g: g.id), rng.randint(1, 3)))
    translations = (Translation(b.original_language, b.original_title, ""),) if b.original_language != "en" else ()
    countries = (LANGUAGE_COUNTRY[b.original_language],)
    if rng.random() < 0.3:
        countries += (rng.choice([c for c in ("US", "GB", "FR", "DE", "CA") if c not in countries]),)
    spoken = (b.original_language,) if b.original_language == "en" else (b.original_language, "en")
    certification = rng.choice(CERTIFICATIONS["US"])
    cast, crew = _credits(seed, movie_id, traits, (), (), ())
    return _assemble(
        seed, movie_id, rng,
        imdb_id=None if "no_imdb" in traits else generated_imdb_id(movie_id),
        title=b.title, original_title=b.original_title, original_language=b.original_language, overview=overview,
        tagline=tagline, runtime=rng.randint(78, 178), release_date=b.release_date, vote_average=b.vote_average,
        vote_count=b.vote_count, popularity=b.popularity, genres=genres, countries=countries, spoken_languages=spoken,
        collection_id=collection_of(movie_id) if "collection" in traits else None, translations=translations,
        cast=cast, crew=crew, release_dates=_release_dates(rng, b.release_date, certification, countries),
        wikidata_id=f"Q{rng.randint(100_000, 99_999_999)}" if rng.random() < 0.5 else None,
        traits=traits, handwritten=False, alternative_titles=alternative_titles(seed, movie_id),
    )


def known_movie(seed: int, spec: KnownMovie) -> MovieEntry:
    rng = _rng(seed, spec.id, "text")
    traits = frozenset(spec.traits) | ({"collection"} if spec.collection else set())
    cast, crew = _credits(seed, spec.id, traits, spec.cast, spec.directors, spec.writers)
    spoken = (spec.original_language,) if spec.original_language == "en" else (spec.original_language, "en")
    return _assemble(
        seed, spec.id, rng, imdb_id=spec.imdb_id, title=spec.title, original_title=spec.original_title,
        original_language=spec.original_language, overview=spec.overview, tagline=spec.tagline,
        runtime=spec.runtime, release_date=spec.release_date, vote_average=spec.vote_average,
        vote_count=spec.vote_count, popularity=spec.popularity, genres=tuple(GENRES[g] for g in spec.genres),
        countries=spec.countries, spoken_languages=spoken, collection_id=spec.collection,
        translations=tuple(Translation(lang, title, overview) for lang, title, overview in spec.translations),
        cast=cast, crew=crew,
        release_dates=_release_dates(rng, spec.release_date, spec.certification, spec.countries, premiere=True,
                                     fixed=dict(spec.certifications)),
        wikidata_id=spec.wikidata_id, traits=traits, handwritten=True, alternative_titles=spec.alternative_titles,
    )


def _assemble(seed: int, movie_id: int, rng: random.Random, *, title: str, original_language: str,
              traits: frozenset[str], countries: tuple[str, ...], **fields) -> MovieEntry:
    """The parts every entry generates the same way: companies, keywords, social ids and artwork."""
    art = ArtworkBuilder(seed, movie_id, title, original_language, _rng(seed, movie_id, "art"))
    images = plant_quirks(art.tmdb(), traits)
    if "no_images" in traits:
        images = ()
    fanart = None if "no_fanart" in traits else art.fanart(images)
    social = slug_of(title)
    return MovieEntry(
        id=movie_id, title=title, original_language=original_language, status="Released",
        production_companies=tuple(rng.sample(_COMPANIES, rng.randint(1, 3))), production_countries=countries,
        keywords=tuple(sorted(rng.sample(_KEYWORDS, rng.randint(0, 6)))),
        facebook_id=social if rng.random() < 0.3 else None, instagram_id=social if rng.random() < 0.3 else None,
        twitter_id=social if rng.random() < 0.3 else None, images=images, fanart=fanart, traits=traits, **fields,
    )


def slug_of(title: str) -> str:
    return "".join(ch for ch in title.title() if ch.isascii() and ch.isalnum()) + "Movie"


def _credit_id(seed: int, movie_id: int, n: int) -> str:
    return hashlib.blake2b(f"{seed}:credit:{movie_id}:{n}".encode(), digest_size=12).hexdigest()


def _character(rng: random.Random) -> str:
    template = rng.choice(_CHARACTERS)
    return template.format(first=rng.choice(_NAMES), last=rng.choice(("Hale", "Moreno", "Sato", "Brandt", "Okoye")))


def _credits(seed: int, movie_id: int, traits: frozenset[str], top_cast: tuple[tuple[str, str], ...],
             directors: tuple[str, ...], writers: tuple[tuple[str, str], ...],
             ) -> tuple[tuple[CastCredit, ...], tuple[CrewCredit, ...]]:
    """Real top billing (hand-written films) followed by generated supporting players and crew.

    A ``large_cast`` has 60-90 people, every hostile name among them, and one actor credited twice in two
    roles (TMDB does this for dual roles: two credits, same person id)."""
    if "no_credits" in traits:
        return (), ()
    rng = _rng(seed, movie_id, "credits")
    people: list[tuple[Person, str]] = [(known(seed, name), character) for name, character in top_cast]
    large = "large_cast" in traits
    target = rng.randint(60, 90) if large else len(people) + rng.randint(5, 20)
    seen = {p.id for p, _ in people}
    while len(people) < target:
        candidate = pool_person(seed, rng)
        if candidate.id not in seen:
            seen.add(candidate.id)
            people.append((candidate, _character(rng)))
    if large:
        for person_id in HOSTILE_PEOPLE:
            hostile = person(seed, person_id)
            assert hostile is not None
            people.insert(rng.randint(len(top_cast), len(people)), (hostile, _character(rng)))
        twice, _ = people[min(2, len(people) - 1)]
        people.insert(len(people) // 2, (twice, f"{_character(rng)} (second role)"))
    cast = tuple(CastCredit(p, character, order, order + 1, _credit_id(seed, movie_id, order))
                 for order, (p, character) in enumerate(people))
    crew_people: list[tuple[Person, str, str]] = [(known(seed, n), "Director", "Directing") for n in directors]
    crew_people += [(known(seed, n), job, "Writing") for n, job in writers]
    if not directors:
        for _ in range(2 if rng.random() < 0.1 else 1):
            crew_people.append((pool_person(seed, rng), "Director", "Directing"))
        for _ in range(rng.randint(1, 2)):
            crew_people.append((pool_person(seed, rng), rng.choice(("Screenplay", "Writer")), "Writing"))
        if rng.random() < 0.2:
            crew_people.append((pool_person(seed, rng), "Novel", "Writing"))
    for job, department in _CREW_JOBS:
        for _ in range(rng.randint(1, 3) if job == "Producer" else 1):
            crew_people.append((pool_person(seed, rng), job, department))
    crew = tuple(CrewCredit(p, job, department, _credit_id(seed, movie_id, 1000 + n))
                 for n, (p, job, department) in enumerate(crew_people))
    return cast, crew


def _release_dates(rng: random.Random, release_date: str, certification: str, countries: tuple[str, ...],
                   *, premiere: bool = False, fixed: dict[str, str] | None = None) -> tuple[ReleaseDate, ...]:
    """Cases a certification picker must handle: a US premiere without certification before the
    theatrical release, a digital release with or without one, and (10 % of generated films) no US entry.
    ``fixed`` (hand-written films) sets countries' certifications without changing what is drawn."""
    fixed = fixed or {}
    stamp = f"{release_date}T00:00:00.000Z"
    dates: list[ReleaseDate] = []
    if premiere or rng.random() < 0.9:
        if premiere or rng.random() < 0.3:
            dates.append(ReleaseDate("US", "", 1, stamp, "Premiere"))
        dates.append(ReleaseDate("US", certification, 3, stamp))
        if rng.random() < 0.5:
            digital = f"{int(release_date[:4]) + 1}{release_date[4:]}T00:00:00.000Z"
            dates.append(ReleaseDate("US", rng.choice((certification, "")), 4, digital))
    for country in countries:
        if country != "US":
            drawn = rng.choice(CERTIFICATIONS.get(country, ("",)))
            dates.append(ReleaseDate(country, fixed.get(country, drawn), 3, stamp))
    for country, value in sorted(fixed.items()):
        if country not in countries:
            dates.append(ReleaseDate(country, value, 3, stamp))
    return tuple(dates)
