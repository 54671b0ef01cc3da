"""Identification ladder, name parsing and partition keys."""

from __future__ import annotations

import pytest

from metarr_pipeline.models import ExistingNfo
from metarr_pipeline.scan.identify import SearchOutcome, identify, parse_name, partition_key, slug


@pytest.mark.parametrize(
    ("name", "title", "year", "tmdb", "imdb"),
    [
        ("The Matrix (1999)", "The Matrix", 1999, None, None),
        ("The Matrix (1999) {tmdb-603}", "The Matrix", 1999, 603, None),
        ("Léon - The Professional (1994) [tmdbid-101]", "Léon - The Professional", 1994, 101, None),
        ("Crouching Tiger, Hidden Dragon (2000) {imdb-tt0190332}", "Crouching Tiger, Hidden Dragon", 2000, None,
         "tt0190332"),
        ("Movie [imdbid-tt0133093]", "Movie", None, None, "tt0133093"),
        ("The.Matrix.1999.1080p.BluRay.x264-GRP", "The Matrix", 1999, None, None),
        ("2012 (2009)", "2012", 2009, None, None),
        ("1917.2019.2160p.UHD", "1917", 2019, None, None),
        ("Blade Runner 2049 (2017)", "Blade Runner 2049", 2017, None, None),
        ("千と千尋の神隠し (2001) {tmdb-129}", "千と千尋の神隠し", 2001, 129, None),
        ("Untitled Home Video", "Untitled Home Video", None, None, None),
    ],
)
def test_parse_name(name: str, title: str, year: int | None, tmdb: int | None, imdb: str | None) -> None:
    parsed = parse_name(name)
    assert (parsed.title, parsed.year, parsed.tmdb_id, parsed.imdb_id) == (title, year, tmdb, imdb)


class FakeTmdb:
    """A resolver double recording what the ladder asked (the real one lands with the provider issue)."""

    def __init__(self, imdb: dict[str, int] | None = None, search: dict[tuple[str, int | None], SearchOutcome] | None = None):
        self.imdb = imdb or {}
        self.results = search or {}
        self.calls: list[tuple[str, object]] = []

    def find_by_imdb(self, imdb_id: str) -> int | None:
        self.calls.append(("find", imdb_id))
        return self.imdb.get(imdb_id)

    def search(self, title: str, year: int | None) -> SearchOutcome:
        self.calls.append(("search", (title, year)))
        return self.results.get((title, year), SearchOutcome(None, reason="TMDB search found nothing"))


def test_nfo_tmdb_id_wins_over_name_tag_with_a_warning() -> None:
    nfo = ExistingNfo(path="x.nfo", uniqueids={"tmdb": "603", "imdb": "tt0133093"}, title="The Matrix", year=1999)
    resolver = FakeTmdb()
    ident = identify("The Matrix (1999) {tmdb-604}", "The Matrix (1999)", nfo, resolver)
    assert (ident.status, ident.tmdb_id, ident.imdb_id, ident.source) == ("identified", 603, "tt0133093", "nfo")
    assert "tmdb-604" in ident.warnings[0]
    assert resolver.calls == []  # no provider request needed


def test_nfo_imdb_only_uses_find() -> None:
    nfo = ExistingNfo(path="x.nfo", uniqueids={"imdb": "tt0133093"})
    resolver = FakeTmdb(imdb={"tt0133093": 603})
    ident = identify("The Matrix (1999)", "The Matrix (1999)", nfo, resolver)
    assert (ident.tmdb_id, ident.source) == (603, "nfo")
    assert resolver.calls == [("find", "tt0133093")]


def test_name_tag_identifies_without_provider() -> None:
    ident = identify("Heat (1995) {tmdb-949}", "", None, None)
    assert (ident.status, ident.tmdb_id, ident.source, ident.title, ident.year) == ("identified", 949, "name", "Heat", 1995)


def test_imdb_tag_without_provider_is_unidentified_with_reason() -> None:
    ident = identify("Crouching Tiger, Hidden Dragon (2000) {imdb-tt0190332}", "x", None, None)
    assert ident.status == "unidentified"
    assert "tt0190332" in ident.reason and "no provider" in ident.reason


def test_search_is_the_last_rung_and_needs_a_confident_match() -> None:
    resolver = FakeTmdb(search={("Heat", 1995): SearchOutcome(949)})
    assert identify("Heat (1995)", "Heat (1995)", None, resolver).tmdb_id == 949
    ambiguous = FakeTmdb(search={("Heat", None): SearchOutcome(None, ("Heat (1995) tmdb-949", "Heat (1986) tmdb-11379"),
                                                                 "2 movies match")})
    ident = identify("Heat", "Heat", None, ambiguous)
    assert ident.status == "unidentified"
    assert "Heat (1986) tmdb-11379" in ident.reason and "{tmdb-ID}" in ident.reason


def test_without_a_resolver_the_search_rung_says_so() -> None:
    ident = identify("Schindler's List (1993)", "Schindler's List (1993)", None, None)
    assert ident.status == "unidentified"
    assert "no TMDB search is configured" in ident.reason and "Schindler's List" in ident.reason


@pytest.mark.parametrize(
    ("title", "year", "tmdb", "key"),
    [
        ("The Matrix", 1999, 603, "the-matrix-1999-tmdb603"),
        ("Amélie", 2001, 194, "amelie-2001-tmdb194"),
        ("Léon - The Professional", 1994, 101, "leon-the-professional-1994-tmdb101"),
        ("千と千尋の神隠し", 2001, 129, "千と千尋の神隠し-2001-tmdb129"),
        ("What's Up, Doc?", None, 6949, "what-s-up-doc-tmdb6949"),
        ("...", 2000, 1, "2000-tmdb1"),
    ],
)
def test_partition_keys_are_readable_and_valid(title: str, year: int | None, tmdb: int, key: str) -> None:
    assert partition_key(title, year, tmdb) == key
    assert "..." not in key and not any(c in key for c in "\n\r\t")


def test_partition_key_suffixes_a_second_copy() -> None:
    assert partition_key("Heat", 1995, 949, {"heat-1995-tmdb949"}) == "heat-1995-tmdb949-2"
    assert slug("  Spaces   and__underscores ") == "spaces-and-underscores"
