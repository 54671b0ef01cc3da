"""Lenient reading of users' NFOs: ids, user state, locks and foreign tags survive."""

from __future__ import annotations

from pathlib import Path

from metarr_pipeline.scan.nfo import candidate_nfo_names, parse_nfo, read_nfo

KODI_NFO = """<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<movie>
    <title>Amélie</title>
    <uniqueid type="tmdb" default="true">194</uniqueid>
    <uniqueid type="imdb">tt0211915</uniqueid>
    <premiered>2001-04-25</premiered>
    <playcount>3</playcount>
    <lastplayed>2024-12-24 21:03:00</lastplayed>
    <dateadded>2019-05-01 10:00:00</dateadded>
    <userrating>9</userrating>
    <watched>true</watched>
    <resume><position>1234.0</position><total>7320.0</total></resume>
    <mycollection>Favourites</mycollection>
    <!-- a comment -->
    <lockedfields>Name|Overview</lockedfields>
</movie>
"""


def test_reads_ids_user_state_locks_and_foreign_tags() -> None:
    nfo = parse_nfo(KODI_NFO.encode(), "a.nfo")
    assert nfo.problem == "" and not nfo.recovered
    assert nfo.uniqueids == {"tmdb": "194", "imdb": "tt0211915"}
    assert (nfo.title, nfo.year) == ("Amélie", 2001)
    s = nfo.user_state
    assert (s.playcount, s.lastplayed, s.dateadded, s.userrating, s.watched) == (
        3, "2024-12-24 21:03:00", "2019-05-01 10:00:00", 9.0, True)
    assert (s.resume_position, s.resume_total) == (1234.0, 7320.0)
    assert nfo.foreign_tags == ("<mycollection>Favourites</mycollection>",)
    assert nfo.locked_fields == ("Name", "Overview")  # Jellyfin's names as written, case kept
    assert nfo.lockdata is False


def test_malformed_nfo_is_recovered_and_keeps_user_state() -> None:
    broken = KODI_NFO.replace("<title>Amélie</title>", "<title>Amélie & Nino</titel>").replace("</movie>", "")
    nfo = parse_nfo(broken.encode(), "a.nfo")
    assert nfo.recovered and "recovery mode" in nfo.problem
    assert nfo.uniqueids["tmdb"] == "194"
    assert nfo.user_state.playcount == 3 and nfo.user_state.resume_position == 1234.0


def test_latin1_nfo_without_declaration_is_read() -> None:
    raw = "<movie><title>Amélie</title><uniqueid type='tmdb'>194</uniqueid><playcount>1</playcount></movie>"
    nfo = parse_nfo(raw.encode("latin-1"), "a.nfo")
    assert nfo.uniqueids == {"tmdb": "194"} and nfo.user_state.playcount == 1


def test_url_only_nfo_gives_its_ids() -> None:
    nfo = parse_nfo(b"https://www.themoviedb.org/movie/603-the-matrix\n", "m.nfo")
    assert nfo.uniqueids == {"tmdb": "603"} and nfo.problem == ""
    nfo = parse_nfo(b"http://www.imdb.com/title/tt0133093/\n", "m.nfo")
    assert nfo.uniqueids == {"imdb": "tt0133093"}


def test_xml_followed_by_url_line() -> None:
    raw = KODI_NFO.replace('<uniqueid type="tmdb" default="true">194</uniqueid>', "") + "\nhttps://www.themoviedb.org/movie/194\n"
    nfo = parse_nfo(raw.encode(), "a.nfo")
    assert nfo.uniqueids["tmdb"] == "194" and nfo.user_state.playcount == 3


def test_legacy_id_tags_and_garbage() -> None:
    nfo = parse_nfo(b"<movie><id>tt0133093</id><tmdbid>603</tmdbid></movie>", "x")
    assert nfo.uniqueids == {"tmdb": "603", "imdb": "tt0133093"}
    assert parse_nfo(b"\x00\x01 binary junk", "x").problem
    assert parse_nfo(b"<movie><uniqueid type='tmdb'>abc</uniqueid></movie>", "x").uniqueids == {}


def test_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    raw = (f'<?xml version="1.0"?><!DOCTYPE movie [<!ENTITY x SYSTEM "file://{secret}">]>'
           "<movie><title>&x;</title><uniqueid type='tmdb'>1</uniqueid></movie>").encode()
    nfo = parse_nfo(raw, "x")
    assert "TOPSECRET" not in nfo.title


def test_unreadable_nfo_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    d = tmp_path / "dir.nfo"
    d.mkdir()
    assert read_nfo(d).problem.startswith("cannot read NFO")


def test_nfo_names_follow_kodi() -> None:
    assert candidate_nfo_names("file", "The Matrix (1999)") == ("The Matrix (1999).nfo", "movie.nfo")
    assert candidate_nfo_names("dvd", "")[0] == "VIDEO_TS/VIDEO_TS.nfo"
    assert candidate_nfo_names("bluray", "")[0] == "BDMV/index.nfo"
