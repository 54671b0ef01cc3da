"""Writing the NFO Kodi reads: golden files, round trips and each KODI.md rule asserted on its own.

The golden files in ``tests/golden/`` are the reviewed, byte-exact output for fixed inputs. After a
deliberate change to the writer, regenerate them with ``UPDATE_GOLDEN=1 .venv/bin/pytest
tests/test_nfo_write.py`` and review the diff against ``docs/KODI.md`` before keeping it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from metarr_pipeline.metadata.fields import empty
from metarr_pipeline.models import AudioStream, StreamDetails, SubtitleStream, UserState, VideoStream
from metarr_pipeline.publish.nfo import NfoActor, NfoInput, kodi_mpaa, nfo_streams, read_back, render_nfo
from metarr_pipeline.scan.nfo import parse_nfo

GOLDEN = Path(__file__).parent / "golden"
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)

MATRIX = NfoInput(
    fields={
        "title": "The Matrix", "originaltitle": "The Matrix", "sorttitle": "Matrix, The",
        "plot": "Set in the 22nd century, The Matrix tells the story of a computer hacker who joins a group of "
                "underground insurgents fighting the vast and powerful computers who now rule the earth.",
        "outline": "A hacker learns the truth about his reality.",
        "tagline": "Welcome to the Real World.", "runtime": 136, "premiered": "1999-03-31", "year": 1999,
        "mpaa": "R",
        "ratings": {"themoviedb": {"value": 8.2, "votes": 24000, "max": 10},
                    "imdb": {"value": 8.7, "votes": 2100000, "max": 10}},
        "genres": ["Action", "Science Fiction"], "studios": ["Warner Bros. Pictures", "Village Roadshow Pictures"],
        "countries": ["United States of America", "Australia"], "tags": ["artificial intelligence", "dystopia"],
        "directors": ["Lana Wachowski", "Lilly Wachowski"], "writers": ["Lilly Wachowski", "Lana Wachowski"],
        "set_name": "The Matrix Collection",
        "set_overview": "The Matrix franchise consists of action films created by the Wachowskis.",
        "tmdb_id": 603, "imdb_id": "tt0133093", "collection_id": 2344,
    },
    streams=StreamDetails(
        video=VideoStream(codec="h264", width=1920, height=800, aspect=2.4, duration_seconds=8160),
        audio=(AudioStream("ac3", 6, "eng"), AudioStream("aac", 2, "eng"), AudioStream("ac3", 6, "fre")),
        subtitles=(SubtitleStream("eng", codec="subrip"), SubtitleStream("fre", codec="subrip"),
                   SubtitleStream("fre", external=True, forced=True, codec="srt",
                                  path="The Matrix (1999) {tmdb-603}.fre.forced.srt")),
        container="matroska,webm",
    ),
    actors=(
        NfoActor("Keanu Reeves", "Neo", 0, "https://image.tmdb.org/t/p/original/4D0PpNI0kmP58hgrwGC3wCjxhnm.jpg"),
        NfoActor("Laurence Fishburne", "Morpheus", 1,
                 "https://image.tmdb.org/t/p/original/8suOhUmPbfKqDQ17jQ1Gy0mI3P4.jpg"),
        NfoActor("Carrie-Anne Moss", "Trinity", 2, ""),
    ),
    user_state=UserState(),
    foreign_tags=(),
    dateadded="2024-01-05 18:30:00",
)

AMELIE = NfoInput(
    fields={
        "title": "Amélie", "originaltitle": "Le Fabuleux Destin d'Amélie Poulain", "sorttitle": "Amélie",
        "plot": "At a tiny Parisian café, the adorable yet painfully shy Amélie accidentally discovers a gift for "
                "helping others.",
        "tagline": "One person can change your life forever.", "runtime": 122, "premiered": "2001-04-25",
        "year": 2001, "mpaa": "R", "ratings": {"themoviedb": {"value": 7.9, "votes": 11000, "max": 10}},
        "genres": ["Comedy", "Romance"], "studios": ["UGC"], "countries": ["France", "Germany"],
        "directors": ["Jean-Pierre Jeunet"], "writers": ["Guillaume Laurant", "Jean-Pierre Jeunet"],
        "tmdb_id": 194, "imdb_id": "tt0211915",
    },
    streams=StreamDetails(
        video=VideoStream(codec="hevc", width=1920, height=816, aspect=2.35, duration_seconds=7320),
        audio=(AudioStream("aac", 2, "fre"), AudioStream("aac", 2, "eng")),
    ),
    actors=(NfoActor("Audrey Tautou", "Amélie Poulain", 0,
                     "https://image.tmdb.org/t/p/original/9o3oG4rpVtbMDCNpY8xDTKJSjAt.jpg"),),
    user_state=UserState(playcount=3, lastplayed="2024-12-24 21:03:00", watched=True,
                         dateadded="2019-05-01 10:00:00", userrating=9.0, resume_position=1234.0,
                         resume_total=7320.0),
    foreign_tags=("<mycollection>Favourites</mycollection>",),
    locked_fields=("Name", "Overview"),
    dateadded="2025-02-01 09:00:00",  # the user's dateadded wins
)

BLADE_RUNNER = NfoInput(
    fields={
        "title": "Blade Runner 2049", "originaltitle": "Blade Runner 2049", "sorttitle": "Blade Runner 2049",
        "plot": "Thirty years after the events of the first film, a new blade runner unearths a secret.",
        "runtime": 164, "premiered": "2017-10-04", "year": 2017, "mpaa": "R",
        # imdb first: the default must still be TMDB's
        "ratings": {"imdb": {"value": 8.0, "votes": 690000, "max": 10},
                    "themoviedb": {"value": 7.5, "votes": 14000, "max": 10}},
        "genres": ["Science Fiction", "Drama"], "directors": ["Denis Villeneuve"],
        "writers": ["Hampton Fancher", "Michael Green"], "set_name": "Blade Runner Collection",
        "tmdb_id": 335984, "imdb_id": "tt1856101",
    },
    streams=StreamDetails(
        video=VideoStream(codec="hevc", width=3840, height=1600, aspect=2.4, duration_seconds=9840,
                          hdr_type="hdr10"),
        audio=(AudioStream("eac3", 6, "eng"), AudioStream("ac3", 6, "ger")),
        subtitles=(SubtitleStream("eng", codec="hdmv_pgs_subtitle"), SubtitleStream("", codec="subrip")),
    ),
    actors=(NfoActor("Ryan Gosling", "K", 0, "https://image.tmdb.org/t/p/original/lyUyVARQKhGxaxy0FbPJCQRpiaW.jpg"),),
    user_state=UserState(),
    foreign_tags=(),
    dateadded="2024-03-01 08:00:00",
)

HEAT_SPARSE = NfoInput(fields={"title": "Heat", "tmdb_id": 949}, streams=None, actors=(), user_state=UserState(),
                       foreign_tags=())

CASES = {"the_matrix": MATRIX, "amelie": AMELIE, "blade_runner_2049_hdr10": BLADE_RUNNER, "heat_sparse": HEAT_SPARSE}


def _root(data: NfoInput) -> etree._Element:
    return etree.fromstring(render_nfo(data), STRICT)


def _expected_fields(data: NfoInput) -> dict[str, object]:
    # collection_id has no NFO element: Kodi's <set> is by name.
    return {k: v for k, v in data.fields.items() if k != "collection_id" and not empty(v)}


def _expected_state(data: NfoInput) -> UserState:
    return replace(data.user_state, dateadded=data.user_state.dateadded or data.dateadded)


# --- golden files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    rendered = render_nfo(CASES[name])
    golden = GOLDEN / f"{name}.nfo"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(rendered)
    assert rendered == golden.read_bytes()


def test_output_is_deterministic_utf8_with_declaration_and_trailing_newline() -> None:
    first = render_nfo(AMELIE)
    assert first == render_nfo(AMELIE) == render_nfo(replace(AMELIE, fields=dict(AMELIE.fields)))
    assert first.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<movie>\n  <title>')
    assert first.endswith(b"</movie>\n") and not first.endswith(b"\n\n")
    assert "Amélie".encode() in first  # UTF-8 text, not character references


def test_sparse_nfo_has_no_empty_elements() -> None:
    root = _root(HEAT_SPARSE)
    assert [c.tag for c in root] == ["title", "uniqueid"]
    assert all((el.text or "").strip() or len(el) for el in _root(MATRIX).iter())


def test_element_order_follows_kodis_export() -> None:
    tags = list(dict.fromkeys(c.tag for c in _root(replace(AMELIE, lockdata=True))))
    assert tags == ["title", "originaltitle", "sorttitle", "ratings", "userrating", "plot", "tagline", "runtime",
                    "mpaa", "playcount", "lastplayed", "watched", "uniqueid", "genre", "country", "credits",
                    "director", "premiered", "year", "studio", "fileinfo", "actor", "resume", "dateadded",
                    "lockdata", "lockedfields", "mycollection"]


# --- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_read_back_gives_the_input(name: str) -> None:
    data = CASES[name]
    back = read_back(render_nfo(data))
    for key in ("actors", "streams", "user_state", "foreign_tags", "uniqueids", "lockdata", "locked_fields"):
        back_value = back.pop(key)
        if key == "actors":
            assert back_value == list(data.actors)
        elif key == "streams":
            assert back_value == nfo_streams(data.streams)
        elif key == "user_state":
            assert back_value == _expected_state(data)
        elif key == "foreign_tags":
            assert back_value == list(data.foreign_tags)
        elif key == "locked_fields":
            assert back_value == list(data.locked_fields)
        elif key == "lockdata":
            assert back_value is data.lockdata
    assert back == _expected_fields(data)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_scan_reader_keeps_ids_user_state_and_foreign_tags(name: str) -> None:
    data = CASES[name]
    nfo = parse_nfo(render_nfo(data), "x.nfo")
    assert nfo.problem == "" and not nfo.recovered
    ids = {"tmdb": str(data.fields["tmdb_id"])}
    if data.fields.get("imdb_id"):
        ids["imdb"] = data.fields["imdb_id"]
    assert nfo.uniqueids == ids
    assert nfo.user_state == _expected_state(data)
    assert nfo.foreign_tags == tuple(data.foreign_tags)
    assert nfo.locked_fields == tuple(data.locked_fields)  # round trip keeps Jellyfin's case
    assert nfo.fields["title"] == data.fields["title"]
    if "writers" in data.fields:
        assert nfo.fields["writers"] == data.fields["writers"]


def test_republishing_after_a_rescan_is_byte_identical() -> None:
    first = render_nfo(AMELIE)
    nfo = parse_nfo(first, "Amélie (2001).nfo")
    again = replace(AMELIE, user_state=nfo.user_state, foreign_tags=nfo.foreign_tags, lockdata=nfo.lockdata,
                    dateadded="2030-01-01 00:00:00")
    assert render_nfo(again) == first


# --- Kodi rules, one by one ------------------------------------------------------------------------


def test_exactly_one_default_rating_tmdb_first_choice() -> None:
    for data, default in ((MATRIX, "themoviedb"), (BLADE_RUNNER, "themoviedb"), (AMELIE, "themoviedb")):
        defaults = _root(data).findall("ratings/rating[@default='true']")
        assert [r.get("name") for r in defaults] == [default]
    imdb_only = replace(HEAT_SPARSE, fields={"title": "Heat", "ratings": {
        "imdb": {"value": 8.3, "votes": 700000, "max": 10}, "trakt": {"value": 8.1, "votes": 9000, "max": 10}}})
    assert [r.get("name") for r in _root(imdb_only).findall("ratings/rating[@default='true']")] == ["imdb"]
    rating = _root(MATRIX).find("ratings/rating[@name='themoviedb']")
    assert (rating.get("max"), rating.findtext("value"), rating.findtext("votes")) == ("10", "8.2", "24000")


def test_uniqueid_tmdb_is_the_default_and_there_is_no_id() -> None:
    root = _root(MATRIX)
    assert [(u.get("type"), u.get("default"), u.text) for u in root.findall("uniqueid")] == [
        ("tmdb", "true", "603"), ("imdb", None, "tt0133093")]
    assert root.find("id") is None
    imdb_only = _root(replace(HEAT_SPARSE, fields={"title": "Heat", "imdb_id": "tt0113277"}))
    assert [(u.get("type"), u.get("default")) for u in imdb_only.findall("uniqueid")] == [("imdb", "true")]


def test_writers_in_credits_one_element_per_value() -> None:
    root = _root(MATRIX)
    assert root.find("writer") is None
    assert [c.text for c in root.findall("credits")] == ["Lilly Wachowski", "Lana Wachowski"]
    assert [d.text for d in root.findall("director")] == ["Lana Wachowski", "Lilly Wachowski"]
    assert [g.text for g in root.findall("genre")] == ["Action", "Science Fiction"]
    assert [s.text for s in root.findall("studio")] == MATRIX.fields["studios"]
    assert [c.text for c in root.findall("country")] == MATRIX.fields["countries"]
    assert not any(" / " in (el.text or "") for el in root)


def test_set_dates_runtime_and_mpaa() -> None:
    root = _root(MATRIX)
    assert (root.findtext("set/name"), root.findtext("set/overview")) == (
        "The Matrix Collection", MATRIX.fields["set_overview"])
    assert _root(BLADE_RUNNER).find("set/overview") is None
    assert (root.findtext("premiered"), root.findtext("year"), root.findtext("runtime")) == ("1999-03-31", "1999",
                                                                                            "136")
    assert root.findtext("mpaa") == "Rated R"
    assert [kodi_mpaa(v) for v in ("PG-13", "Rated PG", "FR:12", "", " NC-17 ")] == [
        "Rated PG-13", "Rated PG", "FR:12", "", "Rated NC-17"]


def test_no_artwork_urls_outside_actors() -> None:
    for data in CASES.values():
        root = _root(data)
        assert root.xpath("//thumb[not(parent::actor)]") == [] and root.xpath("//fanart") == []
    hostile = replace(AMELIE, foreign_tags=("<fanart><thumb>http://x/f.jpg</thumb></fanart>",
                                            "<thumb aspect='poster'>http://x/p.jpg</thumb>", "<title>Other</title>",
                                            "<mycollection>Favourites</mycollection>"))
    root = _root(hostile)
    assert root.xpath("//thumb[not(parent::actor)]") == [] and root.xpath("//fanart") == []
    assert [t.text for t in root.findall("title")] == ["Amélie"]
    assert root.findtext("mycollection") == "Favourites"


def test_actors_with_thumb_url_or_none() -> None:
    actors = _root(MATRIX).findall("actor")
    assert [(a.findtext("name"), a.findtext("role"), a.findtext("order"), a.findtext("thumb")) for a in actors] == [
        ("Keanu Reeves", "Neo", "0", MATRIX.actors[0].thumb), ("Laurence Fishburne", "Morpheus", "1",
                                                              MATRIX.actors[1].thumb),
        ("Carrie-Anne Moss", "Trinity", "2", None)]


def test_fileinfo_uses_ffmpeg_names_and_probe_values() -> None:
    details = _root(MATRIX).find("fileinfo/streamdetails")
    video = details.find("video")
    assert video.findtext("codec") == "h264"
    assert float(video.findtext("aspect")) == MATRIX.streams.video.aspect and video.findtext("aspect") == "2.40"
    assert (video.findtext("width"), video.findtext("height"), video.findtext("durationinseconds")) == (
        "1920", "800", "8160")
    assert video.find("hdrtype") is None and video.find("stereomode") is None
    assert [(a.findtext("codec"), a.findtext("language"), a.findtext("channels")) for a in details.findall("audio")] \
        == [("ac3", "eng", "6"), ("aac", "eng", "2"), ("ac3", "fre", "6")]
    # Only the embedded subtitles: Kodi's probe does not list the sidecar .fre.forced.srt (issue #12).
    assert [s.findtext("language") for s in details.findall("subtitle")] == ["eng", "fre"]

    hdr = _root(BLADE_RUNNER).find("fileinfo/streamdetails")
    assert (hdr.findtext("video/codec"), hdr.findtext("video/hdrtype")) == ("hevc", "hdr10")
    # a subtitle without a language is still one stream, with no empty <language>
    assert [s.findtext("language") for s in hdr.findall("subtitle")] == ["eng", None]

    odd = replace(VideoStream("h264", 720, 576, 1.7777777777777777, 60), stereo_mode="left_right")
    root = _root(replace(HEAT_SPARSE, streams=StreamDetails(odd)))
    assert float(root.findtext("fileinfo/streamdetails/video/aspect")) == odd.aspect
    assert root.findtext("fileinfo/streamdetails/video/stereomode") == "left_right"
    assert _root(replace(MATRIX, streams=StreamDetails(None, (AudioStream("aac", 2),)))).find("fileinfo") is None
    assert _root(MATRIX).findtext("runtime") == "136"  # minutes, while the probe counts seconds


def test_user_state_is_written_as_the_user_had_it() -> None:
    root = _root(AMELIE)
    assert [(t, root.findtext(t)) for t in ("playcount", "lastplayed", "watched", "userrating", "dateadded")] == [
        ("playcount", "3"), ("lastplayed", "2024-12-24 21:03:00"), ("watched", "true"), ("userrating", "9"),
        ("dateadded", "2019-05-01 10:00:00")]
    assert (root.findtext("resume/position"), root.findtext("resume/total")) == ("1234.0", "7320.0")
    assert root.findtext("lockedfields") == "Name|Overview" and root.find("lockdata") is None
    assert _root(replace(AMELIE, lockdata=True)).findtext("lockdata") == "true"

    fresh = _root(MATRIX)
    assert fresh.findtext("dateadded") == MATRIX.dateadded
    assert all(fresh.find(t) is None for t in ("playcount", "lastplayed", "watched", "userrating", "resume"))
    unwatched = _root(replace(MATRIX, user_state=UserState(playcount=0, watched=False, userrating=7.5)))
    assert [unwatched.findtext(t) for t in ("playcount", "watched", "userrating")] == ["0", "false", "7.5"]


def test_forbidden_characters_are_stripped_everywhere() -> None:
    dirty = replace(
        MATRIX,
        fields={**MATRIX.fields, "title": "The\x00 Matrix\x07\ufffe", "genres": ["Action\x1b", "\x01"],
                "plot": "line one\nline\ttwo\ud800\uffff"},
        actors=(NfoActor("Keanu\x0b Reeves", "Neo\x00", 0, ""),),
        foreign_tags=("<mynote kind='a\x07b'>x\x00y\x07z\ufffe &#7;&#x1F;&#65;</mynote>",),
        locked_fields=("Name\x00",),
    )
    raw = render_nfo(dirty)
    root = etree.fromstring(raw, STRICT)  # strict: no recovery, so a forbidden character would fail here
    assert root.findtext("title") == "The Matrix"
    assert [g.text for g in root.findall("genre")] == ["Action"]
    assert root.findtext("plot") == "line one\nline\ttwo"
    assert (root.findtext("actor/name"), root.findtext("actor/role")) == ("Keanu Reeves", "Neo")
    note = root.find("mynote")
    assert (note.get("kind"), note.text) == ("ab", "xyz A")
    assert root.findtext("lockedfields") == "Name"


def test_hostile_actor_names_come_back_intact() -> None:
    names = ("../../x", "<b>Bold</b>", "A & B", "Zoë \"Q\" O'Neil ]]>")
    data = replace(MATRIX, actors=tuple(NfoActor(n, n, i, "") for i, n in enumerate(names)))
    raw = render_nfo(data)
    etree.fromstring(raw, STRICT)
    assert b"<b>" not in raw
    assert [(a.name, a.role) for a in read_back(raw)["actors"]] == [(n, n) for n in names]


def test_foreign_tag_that_is_not_well_formed_is_dropped_and_the_rest_kept() -> None:
    data = replace(AMELIE, foreign_tags=(
        "<broken><a></broken>", "not xml at all", "<one/><two/>", "",
        '<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', "<undeclared:tag>1</undeclared:tag>",
        "<mycollection>Favourites</mycollection>", "<nested>\n    <a b=\"1\">text</a>\n  </nested>"))
    raw = render_nfo(data)
    root = etree.fromstring(raw, STRICT)
    assert [c.tag for c in root][-3:] == ["lockedfields", "mycollection", "nested"]
    assert root.findtext("title") == "Amélie" and root.findtext("playcount") == "3"
    assert parse_nfo(raw).foreign_tags == ("<mycollection>Favourites</mycollection>",
                                           "<nested>\n    <a b=\"1\">text</a>\n  </nested>")


def test_read_back_refuses_what_is_not_our_nfo() -> None:
    with pytest.raises(ValueError):
        read_back(b"<movie><title>x</movie>")
    with pytest.raises(ValueError):
        read_back(b"<tvshow/>")
