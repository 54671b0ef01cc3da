"""The artwork-type table: pinned to the values the stages used before it existed, and read by every stage.

``EXPECTED`` is a copy of what scoring (ideal sizes, textless first), candidates (provider keys, fanart.tv
nominal sizes), config (default counts) and publish naming (Kodi names) held on their own before the table:
a change here is a change of behaviour, never a refactoring.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

from metarr_pipeline.art_types import (
    ART_TYPE_NAMES,
    ART_TYPES,
    LONGEST_KODI_NAME,
    art_type,
    default_counts,
    file_stem,
    provider_feeds,
)
from metarr_pipeline.artwork.candidates import candidates_frame, fanart_candidates, tmdb_candidates
from metarr_pipeline.artwork.choices import ChoiceError, record
from metarr_pipeline.artwork.scoring import ladder_for, score_candidates
from metarr_pipeline.artwork.selection import UserChoices, select
from metarr_pipeline.config import ARTWORK_TYPES, load_settings
from metarr_pipeline.publish.naming import artwork_path, extrafanart_path
from metarr_pipeline.scan.discover import discover

# name: (ideal size, default count, textless first, Kodi name, extra folder,
#        TMDB lists (key, textless only), fanart.tv keys (key, textless only, nominal size))
EXPECTED = {
    "poster": ((2000, 3000), 3, False, "poster", "", [("posters", False)], [("movieposter", False, (1000, 1426))]),
    "fanart": ((1920, 1080), 5, True, "fanart", "extrafanart", [("backdrops", False)],
               [("moviebackground", False, (1920, 1080))]),
    "clearlogo": ((800, 310), 1, False, "clearlogo", "", [("logos", False)],
                  [("hdmovielogo", False, (800, 310)), ("movielogo", False, (400, 155))]),
    "clearart": ((1000, 562), 1, False, "clearart", "", [],
                 [("hdmovieclearart", False, (1000, 562)), ("movieclearart", False, (500, 281)),
                  ("movieart", False, (1000, 562))]),
    "discart": ((1000, 1000), 1, False, "discart", "", [], [("moviedisc", False, (1000, 1000))]),
    "banner": ((1000, 185), 1, False, "banner", "", [], [("moviebanner", False, (1000, 185))]),
    "landscape": ((1920, 1080), 1, False, "landscape", "", [("backdrops", False)],
                  [("moviethumb", False, (1000, 562))]),
    "keyart": ((2000, 3000), 1, True, "keyart", "", [("posters", True)], [("movieposter", True, (1000, 1426))]),
}
# The order fanart.tv's keys were read in (candidate row order); TMDB's was posters, backdrops, logos.
FANART_READ_ORDER = ["hdmovielogo", "movielogo", "hdmovieclearart", "movieclearart", "movieart", "movieposter",
                     "moviebackground", "moviebanner", "moviethumb", "moviedisc"]
WEIGHTS = {"resolution": 30.0, "aspect": 20.0, "language": 20.0, "community": 20.0, "provider": 10.0}
TYPES = list(EXPECTED)


def test_the_table_lists_every_type_once_in_the_user_facing_order() -> None:
    assert list(ART_TYPE_NAMES) == TYPES == [t.name for t in ART_TYPES]
    assert ARTWORK_TYPES == ART_TYPE_NAMES  # config's validation list agrees with the table
    assert LONGEST_KODI_NAME == "clearlogo"


@pytest.mark.parametrize("name", TYPES)
def test_row_matches_the_values_the_stages_used(name: str) -> None:
    ideal, count, textless_first, kodi, extra, tmdb, fanart = EXPECTED[name]
    row = art_type(name)
    assert (row.ideal_width, row.ideal_height) == ideal and row.aspect == ideal[0] / ideal[1]
    assert (row.default_count, row.textless_first, row.kodi_name, row.extra_folder) == (count, textless_first,
                                                                                         kodi, extra)
    assert [(s.key, s.textless_only) for s in row.sources if s.provider == "tmdb"] == tmdb
    assert [(s.key, s.textless_only, s.nominal) for s in row.sources if s.provider == "fanart"] == fanart
    assert {s.provider for s in row.sources} <= {"tmdb", "fanart"}


def test_provider_feeds_read_every_source_once_in_the_old_order() -> None:
    for provider in ("tmdb", "fanart"):
        fed = [(key, kind, source) for key, feeds in provider_feeds(provider) for kind, source in feeds]
        declared = [(s.key, t.name, s) for t in ART_TYPES for s in t.sources if s.provider == provider]
        assert sorted(fed, key=repr) == sorted(declared, key=repr)
        assert all(source.key == key for key, _, source in fed)
    assert [key for key, _ in provider_feeds("tmdb")] == ["posters", "backdrops", "logos"]
    assert [key for key, _ in provider_feeds("fanart")] == FANART_READ_ORDER
    assert provider_feeds("nobody") == ()


def test_unknown_names() -> None:
    with pytest.raises(KeyError):
        art_type("thumb")
    assert file_stem("thumb", 1) == "thumb" and file_stem("thumb", 3) == "thumb2"  # naming never refused one


# --- every consumer agrees with the table -------------------------------------------------------------------

def test_config_default_counts(tmp_path: Path) -> None:
    (tmp_path / "movies").mkdir()
    path = tmp_path / "metarr.toml"
    path.write_text('[library]\nroots = ["movies"]\n', encoding="utf-8")
    counts = load_settings(path).artwork.counts
    assert counts == {name: row[1] for name, row in EXPECTED.items()} == default_counts()
    assert list(counts) == TYPES
    assert default_counts() is not default_counts()  # a fresh dict: a user's merge cannot edit the table


def _frame(rows: list[tuple[str, int, int, str]]) -> pl.DataFrame:
    return candidates_frame([
        {"movie_id": 1, "type": kind, "candidate_id": f"c{i}", "provider": "tmdb", "url": f"u{i}",
         "preview_url": f"p{i}", "language": lang, "width": w, "height": h, "votes": 0, "vote_average": 0.0}
        for i, (kind, w, h, lang) in enumerate(rows)])


@pytest.mark.parametrize("name", TYPES)
def test_scoring_reads_ideal_size_and_textless_first(name: str) -> None:
    (w, h), _, textless_first, *_ = EXPECTED[name]
    scored = score_candidates(_frame([(name, w, h, ""), (name, w // 2, h // 2, "en"),
                                      (name, round(w * 1.06), h, "en")]), WEIGHTS, {"tmdb": 1.0}, "en")
    by_id = {r["candidate_id"]: r for r in scored.iter_rows(named=True)}
    assert by_id["c0"]["s_resolution"] == pytest.approx(1.0) and by_id["c0"]["s_aspect"] == pytest.approx(1.0)
    assert by_id["c1"]["s_resolution"] == pytest.approx(math.sqrt((w // 2) * (h // 2) / (w * h)))
    assert by_id["c2"]["s_aspect"] == pytest.approx(0.5, abs=0.02)  # 6 % off: half marks
    assert (by_id["c0"]["s_language"] == 1.0) is textless_first  # textless is the first rung, or not
    assert (ladder_for(name, "en")[0] == "textless") is textless_first


@pytest.mark.parametrize("name", TYPES)
def test_selection_gates_below_a_quarter_of_the_ideal_width(name: str) -> None:
    (w, h), *_ = EXPECTED[name]
    edge = math.ceil(w * 0.25)
    ranked = pl.DataFrame({
        "movie_id": [1, 1], "type": [name, name], "candidate_id": ["big", "small"], "analysis_error": ["", ""],
        "phash": pl.Series([None, None], dtype=pl.UInt64), "s_aspect": [1.0, 1.0],
        "width": [edge, edge - 1], "height": [h // 4, h // 4]})
    gates = select(ranked, {name: 2}, UserChoices(), 8)["gate"].to_list()
    assert gates == ["", f"too small ({edge - 1}x{h // 4})"]


@pytest.mark.parametrize("name", TYPES)
def test_candidates_read_the_sources(name: str) -> None:
    _, _, _, _, _, tmdb, fanart = EXPECTED[name]
    images = {key: [{"file_path": f"/{key}-{lang or 'xx'}.jpg", "iso_639_1": lang, "width": 10, "height": 10}
                    for lang in ("en", None)] for key in ("posters", "backdrops", "logos")}
    got = {(r["url"].rsplit("/", 1)[1], r["language"]) for r in tmdb_candidates(1, {"images": images}, "b", {name})}
    want = {(f"{key}-{lang or 'xx'}.jpg", lang or "") for key, textless_only in tmdb for lang in ("en", None)
            if not (textless_only and lang)}
    assert got == want
    body = {key: [{"url": f"https://a/fanart/{key}-{lang}.png", "lang": lang, "likes": "1"} for lang in ("en", "00")]
            for key in FANART_READ_ORDER}
    rows = fanart_candidates(1, body, {name})
    assert {(r["url"].rsplit("/", 1)[1], r["width"], r["height"]) for r in rows} == {
        (f"{key}-{lang}.png", *nominal) for key, textless_only, nominal in fanart for lang in ("en", "00")
        if not (textless_only and lang == "en")}
    assert {r["type"] for r in rows} <= {name}


@pytest.mark.parametrize("name", TYPES)
def test_naming_uses_the_kodi_name(name: str) -> None:
    kodi = EXPECTED[name][3]
    for rank, stem in ((0, kodi), (1, kodi), (2, f"{kodi}1"), (11, f"{kodi}10")):
        assert artwork_path("file", "Movie (1999)", name, rank, "jpg") == f"Movie (1999)-{stem}.jpg"
        assert artwork_path("bluray", "", name, rank, "png") == f"{stem}.png"


def test_extrafanart_path_and_choices_and_scan_read_the_table(tmp_path: Path) -> None:
    assert extrafanart_path(1, "jpg") == "extrafanart/fanart1.jpg"
    with pytest.raises(ChoiceError, match=r"\(known: poster, fanart, clearlogo, clearart, discart, banner, "
                                          r"landscape, keyart\)"):
        record(None, "movie", "thumb", None, "lock")  # type: ignore[arg-type]  # refused before the store
    folder = tmp_path / "M"
    folder.mkdir()
    (folder / ("x" * 245 + ".mkv")).write_bytes(b"")
    (found,) = discover([tmp_path]).movies
    assert any("-clearlogo10.png" in w for w in found.warnings)
