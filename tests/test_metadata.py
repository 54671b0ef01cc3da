"""Provider data → our fields, and the merge rules ("fill gaps, don't erase"), one test per rule."""

from __future__ import annotations

import pytest

from metarr_pipeline.errors import DisallowedHostError
from metarr_pipeline.metadata.fields import FIELDS, from_tmdb, sort_title, us_certification
from metarr_pipeline.metadata.merge import ALL_FIELDS, locked_fields, merge
from metarr_pipeline.providers.http import check_allowed, retry_after
from metarr_pipeline.providers.keys import ProviderKeys, redact
from metarr_pipeline.providers.tmdb import pick_search_result

TMDB = {
    "id": 603, "imdb_id": "tt0133093", "title": "The Matrix", "original_title": "The Matrix",
    "overview": "A hacker learns the truth.", "tagline": "Welcome to the Real World.", "runtime": 136,
    "release_date": "1999-03-30", "vote_average": 8.217, "vote_count": 24000,
    "genres": [{"id": 28, "name": "Action"}, {"id": 878, "name": "Science Fiction"}, {"id": 28, "name": "Action"}],
    "production_companies": [{"id": 79, "name": "Village Roadshow Pictures"}, {"id": 174, "name": "Warner Bros. Pictures"}],
    "production_countries": [{"iso_3166_1": "US", "name": "United States of America"}],
    "belongs_to_collection": {"id": 2344, "name": "The Matrix Collection"},
    "credits": {"crew": [
        {"name": "Lana Wachowski", "job": "Director", "department": "Directing"},
        {"name": "Lilly Wachowski", "job": "Director", "department": "Directing"},
        {"name": "Lana Wachowski", "job": "Writer", "department": "Writing"},
        {"name": "Bill Pope", "job": "Director of Photography", "department": "Camera"},
    ]},
    "release_dates": {"results": [
        {"iso_3166_1": "DE", "release_dates": [{"certification": "16", "type": 3}]},
        {"iso_3166_1": "US", "release_dates": [
            {"certification": "", "type": 1, "release_date": "1999-03-24"},
            {"certification": "NR", "type": 4, "release_date": "2001-01-01"},
            {"certification": "R", "type": 3, "release_date": "1999-03-30"},
        ]},
    ]},
    "keywords": {"keywords": [{"name": "dystopia"}, {"name": "artificial intelligence"}]},
}


def test_tmdb_response_maps_to_every_field() -> None:
    f = from_tmdb(TMDB, {"overview": "The saga of Neo."})
    assert set(f) == set(FIELDS)
    assert (f["title"], f["sorttitle"], f["year"], f["premiered"], f["runtime"]) == (
        "The Matrix", "Matrix, The", 1999, "1999-03-30", 136)
    assert f["mpaa"] == "R"  # US, theatrical first, empty certifications skipped
    assert f["genres"] == ["Action", "Science Fiction"]  # de-duplicated, in order
    assert f["directors"] == ["Lana Wachowski", "Lilly Wachowski"] and f["writers"] == ["Lana Wachowski"]
    assert f["ratings"] == {"themoviedb": {"value": 8.2, "votes": 24000, "max": 10}}
    assert (f["set_name"], f["set_overview"], f["collection_id"]) == ("The Matrix Collection", "The saga of Neo.", 2344)
    assert (f["tmdb_id"], f["imdb_id"]) == (603, "tt0133093")
    assert f["tags"] == ["dystopia", "artificial intelligence"]


@pytest.mark.parametrize(("title", "sort"), [("The Matrix", "Matrix, The"), ("A Bug's Life", "Bug's Life, A"),
                                             ("Heat", "Heat"), ("Les Misérables", "Misérables, Les"), ("The", "The")])
def test_sort_title(title: str, sort: str) -> None:
    assert sort_title(title) == sort


def test_certification_falls_back_through_release_types() -> None:
    assert us_certification({"results": [{"iso_3166_1": "US", "release_dates": [
        {"certification": "PG-13", "type": 4}, {"certification": "PG", "type": 5}]}]}) == "PG-13"
    assert us_certification({"results": [{"iso_3166_1": "GB", "release_dates": [{"certification": "15", "type": 3}]}]}) == ""
    assert us_certification(None) == ""


# --- merge: one test per rule -------------------------------------------------------------------


def test_rule_empty_field_is_set() -> None:
    r = merge({}, {"title": "The Matrix"})
    assert r.fields["title"] == "The Matrix" and r.decisions["title"] == "set"


def test_rule_provider_empty_keeps_old_value() -> None:
    r = merge({"tagline": "Free your mind", "genres": ["Action"]}, {"tagline": "", "genres": []})
    assert r.fields["tagline"] == "Free your mind" and r.decisions["tagline"] == "kept"
    assert r.fields["genres"] == ["Action"] and r.decisions["genres"] == "kept"


def test_rule_different_value_is_updated() -> None:
    r = merge({"plot": "old plot", "runtime": 130}, {"plot": "new plot", "runtime": 136})
    assert (r.fields["plot"], r.fields["runtime"]) == ("new plot", 136)
    assert r.decisions["plot"] == r.decisions["runtime"] == "updated"
    assert r.changed == ["plot", "runtime"]


def test_rule_locked_field_is_untouched_even_when_empty() -> None:
    r = merge({"title": "My Title", "plot": ""}, {"title": "The Matrix", "plot": "A hacker..."},
              locked=locked_fields(False, ["Name", "Overview"]))
    assert r.fields["title"] == "My Title" and r.decisions["title"] == "locked"
    assert r.fields["plot"] == "" and r.decisions["plot"] == "locked"
    assert r.fields["sorttitle"] == "My Title"  # follows the locked title, not the provider's


def test_rule_lockdata_locks_everything() -> None:
    assert locked_fields(True) == ALL_FIELDS
    r = merge({"title": "Mine"}, from_tmdb(TMDB), locked=locked_fields(True))
    assert r.fields["title"] == "Mine" and set(r.decisions.values()) == {"locked"}


def test_rule_same_value_is_unchanged_and_ratings_merge_per_source() -> None:
    old = {"title": "The Matrix", "ratings": {"imdb": {"value": 8.7, "votes": 2000000, "max": 10}}}
    r = merge(old, {"title": "The Matrix", "ratings": {"themoviedb": {"value": 8.2, "votes": 24000, "max": 10}}})
    assert r.decisions["title"] == "unchanged"
    assert set(r.fields["ratings"]) == {"imdb", "themoviedb"} and r.decisions["ratings"] == "updated"
    assert merge(r.fields, from_tmdb(TMDB) | {"title": "The Matrix"}).decisions["ratings"] == "unchanged"


def test_merge_is_idempotent() -> None:
    first = merge({}, from_tmdb(TMDB)).fields
    again = merge(first, from_tmdb(TMDB))
    assert again.fields == first and again.changed == []


# --- search picking, secrets, allowlist ------------------------------------------------------------


HEATS = [{"id": 949, "title": "Heat", "release_date": "1995-12-15"},
         {"id": 11379, "title": "Heat", "release_date": "1986-03-14"},
         {"id": 5, "title": "Heat Wave", "release_date": "1995-01-01"}]


def test_search_needs_a_unique_confident_match() -> None:
    assert pick_search_result("Heat", 1995, HEATS).tmdb_id == 949
    assert pick_search_result("Heat", 1996, HEATS).tmdb_id == 949  # ±1 year for regional release dates
    ambiguous = pick_search_result("Heat", None, HEATS)
    assert ambiguous.tmdb_id is None and "2 movies" in ambiguous.reason and "Heat (1986) tmdb-11379" in ambiguous.candidates
    assert pick_search_result("Amelie", 2001, [{"id": 194, "title": "Amélie", "release_date": "2001-04-25"}]).tmdb_id == 194
    assert pick_search_result("Nothing", None, []).reason == "TMDB search found no movie"


def test_redact_removes_keys_from_urls_and_known_values() -> None:
    keys = ProviderKeys(tmdb_api_key="abcd1234secret", fanart_api_key="fan-key-999")
    text = "GET http://x/3/movie/1?api_key=abcd1234secret&language=en failed; key fan-key-999"
    out = redact(text, keys.secrets())
    assert "abcd1234secret" not in out and "fan-key-999" not in out and "language=en" in out
    assert "abcd" not in repr(keys)


def test_image_host_allowlist() -> None:
    check_allowed("https://image.tmdb.org/t/p/w300/a.jpg", ("image.tmdb.org",))
    check_allowed("http://127.0.0.1:8123/x.png", ("127.0.0.1:8123",))
    for bad in ("https://evil.example/a.jpg", "http://127.0.0.1:9999/x.png", "file:///etc/passwd"):
        with pytest.raises(DisallowedHostError):
            check_allowed(bad, ("image.tmdb.org", "127.0.0.1:8123"))


@pytest.mark.parametrize(("header", "seconds"), [("3", 3.0), ("0", 0.0), ("1000", 120.0), ("soon", None), (None, None)])
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert retry_after(header) == seconds
