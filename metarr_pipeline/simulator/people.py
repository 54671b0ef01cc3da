"""People: the hand-written cast and crew, a pool of generated actors shared by all generated films (so
the same actor turns up in several movies, as the actor store expects), and a handful of people whose
names are hostile to anyone who turns names into file names or markup.
"""

from __future__ import annotations

import random
from functools import lru_cache

from metarr_pipeline.simulator.artwork import profile_image
from metarr_pipeline.simulator.entries import Person
from metarr_pipeline.simulator.known import KNOWN_MOVIES, KNOWN_PEOPLE
from metarr_pipeline.simulator.variety import person_has_profile

POOL_FIRST, POOL_SIZE = 1_000_000, 200_000  # generated people: ids POOL_FIRST .. POOL_FIRST + POOL_SIZE - 1

# Names that break naive code: path traversal, markup, separators, quotes, reserved device names,
# non-Latin scripts, surrounding whitespace. The odd ids have a profile picture, the even ones not.
HOSTILE_PEOPLE: dict[int, str] = {
    2_000_001: "../../x", 2_000_002: "<b>Bold</b>", 2_000_003: "A/B", 2_000_004: "Zoë Kravitz",
    2_000_005: 'Jean "Jojo" O\'Brien', 2_000_006: "CON", 2_000_007: "Back\\slash", 2_000_008: "Trailing Dot.",
    2_000_009: "李小龍", 2_000_010: "  Spaced  Out  ", 2_000_011: "Semi;colon & Ampersand", 2_000_012: "*?:|",
}
_NO_PROFILE_KNOWN = frozenset({"Rufus", "Wang Hui-ling", "Karen Young"})

_FIRST = (
    "Anna", "James", "Mira", "Felix", "Zoë", "Oskar", "Lucía", "Hana", "Tomasz", "Amara", "Chloé", "Björn", "Inès",
    "Mateo", "Yusuf", "Aiko", "Ruth", "Niamh", "Otis", "Leila", "Sven", "Priya", "Kwame", "Elena", "Marcus", "Jun",
    "Sofia", "Dmitri", "Grace", "Rafael", "Nadia", "Liam", "Yuki", "Omar", "Freya", "Hugo", "Ingrid", "Tariq",
)
_LAST = (
    "Okafor", "Lindqvist", "García", "Nakamura", "Dubois", "Kowalski", "Brennan", "Haddad", "Petrov", "Moreau",
    "Schäfer", "Silva", "Kim", "O'Neill", "Rossi", "Johansson", "Mensah", "Fischer", "Novak", "Castillo",
    "Yamamoto", "Clarke", "Ferreira", "Larsen", "Müller", "Laurent", "Park", "Adeyemi", "Whitfield", "Ødegaard",
)
_DEPARTMENTS = ("Acting",) * 8 + ("Directing", "Writing", "Production", "Camera", "Sound", "Editing")
_KNOWN_BY_ID = {pid: (name, gender) for name, (pid, gender) in KNOWN_PEOPLE.items()}
_ACTORS = frozenset(name for m in KNOWN_MOVIES for name, _ in m.cast)
_DIRECTORS = frozenset(name for m in KNOWN_MOVIES for name in m.directors)


def known_person_id(name: str) -> int:
    return KNOWN_PEOPLE[name][0]


@lru_cache(maxsize=65536)
def person(seed: int, person_id: int) -> Person | None:
    """The person with this id, or None. Cached: the same few thousand actors fill most casts."""
    rng = random.Random(seed * 10_000_019 + person_id)
    if person_id in _KNOWN_BY_ID:
        name, gender = _KNOWN_BY_ID[person_id]
        profile = None if name in _NO_PROFILE_KNOWN else profile_image(seed, person_id, rng)
        department = "Acting" if name in _ACTORS else "Directing" if name in _DIRECTORS else "Writing"
        return Person(person_id, name, gender, department, round(rng.uniform(5, 60), 3), profile)
    if person_id in HOSTILE_PEOPLE:
        profile = profile_image(seed, person_id, rng) if person_id % 2 else None
        return Person(person_id, HOSTILE_PEOPLE[person_id], rng.choice((0, 1, 2, 3)), "Acting",
                      round(rng.uniform(0.5, 5), 3), profile)
    if POOL_FIRST <= person_id < POOL_FIRST + POOL_SIZE:
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        profile = profile_image(seed, person_id, rng) if person_has_profile(person_id) else None
        return Person(person_id, name, rng.choice((0, 1, 1, 2, 2, 3)), rng.choice(_DEPARTMENTS),
                      round(rng.uniform(0.6, 30), 3), profile)
    return None


def pool_person(seed: int, rng: random.Random) -> Person:
    found = person(seed, POOL_FIRST + rng.randrange(POOL_SIZE))
    assert found is not None
    return found


def known(seed: int, name: str) -> Person:
    found = person(seed, known_person_id(name))
    assert found is not None
    return found
