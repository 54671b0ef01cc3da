"""Which generated movies carry which quirk: fixed rules on the id, so a test can pick a case by number.

Every rule applies to generated ids only (hand-written films declare their own ``traits``). Rules on
``id % m`` with different moduli keep the quirks roughly independent of each other.

=============  ==========================================  =========
trait          rule                                         share
=============  ==========================================  =========
removed        ``id % 997 == 0`` or in ``REMOVED_IDS``      ~0.1 %    (404, like an unknown id)
redirected     a key of ``REDIRECTS`` (old id → new id)      explicit  (301 to the new id)
no_fanart      ``id % 20 in (3, 7, 13)``                    15 %      (fanart.tv answers 404)
no_images      ``id % 33 == 5``                             ~3 %      (TMDB images lists are empty)
no_credits     ``id % 31 == 7``                             ~3.2 %    (empty cast and crew)
large_cast     ``id % 19 == 4`` (unless no_credits)         ~5.3 %    (60-90 cast: hostile names, one
                                                                       actor credited in two roles)
collection     ``id % 5 == 2``                              20 %      (collection ``10_000_000 + id // 15``)
no_imdb        ``id % 41 == 9``                             ~2.4 %    (imdb_id null; /find cannot see it)
title_twin     ``id % 100 == 42``                           1 %       (same title as ``id - 42``, other year)
alt_title      ``id % 50 == 11``                            2 %       (an alternative title in romanised words
                                                                       no other title has: only it finds the film)
misdeclared_   ``id % 50 == 23``                            2 %       (best poster declared 2000×3000, served
size                                                                   1000×1500: ``artwork.plant_quirks``)
misnamed_png   ``id % 50 == 37``                            2 %       (best poster: PNG bytes named ``.jpg``)
=============  ==========================================  =========

People: a generated person (ids 1,000,000-1,199,999) has no profile picture when ``id % 5 == 0``.
"""

from __future__ import annotations

MAX_MOVIE_ID = 10_000_000  # every id in 1 .. MAX_MOVIE_ID - 1 is a movie unless removed/redirected
COLLECTION_BASE = 10_000_000  # generated collection ids: COLLECTION_BASE + movie_id // COLLECTION_BLOCK
COLLECTION_BLOCK = 15

REMOVED_IDS = frozenset({9_999_999, 9_000_100, 4_040_404, 777_777})
# Merged entries: TMDB answers 301 to the surviving id. Targets must exist.
REDIRECTS: dict[int, int] = {9_000_001: 603, 9_000_002: 27205, 9_000_003: 949, 9_000_004: 12_345}

GENERATED_TRAITS = ("no_fanart", "no_images", "no_credits", "large_cast", "collection", "no_imdb", "title_twin",
                    "alt_title", "misdeclared_size", "misnamed_png")
# The hostile cases of the hand-written films, planted on generated ids too (so a generated library, like the
# benchmark's, meets them): residues of ``id % 50``.
_HOSTILE_BY_RESIDUE = {11: "alt_title", 23: "misdeclared_size", 37: "misnamed_png"}


def is_removed(movie_id: int) -> bool:
    return movie_id in REMOVED_IDS or movie_id % 997 == 0


def generated_traits(movie_id: int) -> frozenset[str]:
    """The quirks of a generated movie, by the table above."""
    traits = set()
    if movie_id % 20 in (3, 7, 13):
        traits.add("no_fanart")
    if movie_id % 33 == 5:
        traits.add("no_images")
    if movie_id % 31 == 7:
        traits.add("no_credits")
    elif movie_id % 19 == 4:
        traits.add("large_cast")
    if movie_id % 5 == 2:
        traits.add("collection")
    if movie_id % 41 == 9:
        traits.add("no_imdb")
    if movie_id % 100 == 42 and movie_id > 100:
        traits.add("title_twin")
    hostile = _HOSTILE_BY_RESIDUE.get(movie_id % 50)
    if hostile:
        traits.add(hostile)
    return frozenset(traits)


def collection_of(movie_id: int) -> int:
    """The generated collection a ``collection`` movie belongs to."""
    return COLLECTION_BASE + movie_id // COLLECTION_BLOCK


def collection_candidates(collection_id: int) -> range:
    """Ids that may belong to a generated collection (the caller drops removed and hand-written ones)."""
    block = collection_id - COLLECTION_BASE
    return range(max(1, block * COLLECTION_BLOCK), (block + 1) * COLLECTION_BLOCK)


def person_has_profile(person_id: int) -> bool:
    return person_id % 5 != 0
