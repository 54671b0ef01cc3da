"""Identification by alternative titles, and by hand, against the loopback simulator and real folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metarr_pipeline.cli import main
from metarr_pipeline.demo.media import write_video
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.providers.tmdb import pick_by_other_titles
from metarr_pipeline.scan.manual import IdentifyError, identify_manually, search_candidates
from metarr_pipeline.scan.scan import scan_library
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import KEYS, make_settings


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


def _library(tmp_path: Path, sim: Simulator, folders: dict[str, str | None]):
    root = tmp_path / "lib"
    for i, (name, nfo) in enumerate(folders.items()):
        (root / name).mkdir(parents=True)
        write_video(root / name / f"{name}.mkv", seconds=0.3 + 0.1 * i)  # distinct sizes: distinct signatures
        if nfo is not None:
            (root / name / f"{name}.nfo").write_text(nfo, encoding="utf-8")
    settings = make_settings(tmp_path, sim, root=root)
    return root, settings, Store(settings.database_path)


def _scan(settings, store: Store):
    with open_providers(settings, KEYS) as providers:
        scan_library(settings, store, resolver=providers.tmdb)
    return {Path(m.folder).name: m for m in store.movies()}


def test_a_romanised_title_of_the_right_year_identifies_through_alternative_titles(
        tmp_path: Path, sim: Simulator) -> None:
    _, settings, store = _library(tmp_path, sim, {
        "Kimi no Na wa (2016)": None, "Sen to Chihiro no Kamikakushi (2001)": None,
        "Kimi no Na wa (2017)": None, "Kimi no Na wa (2010)": None, "Kimi no Na wa": None})
    movies = _scan(settings, store)
    assert (movies["Kimi no Na wa (2016)"].tmdb_id, movies["Kimi no Na wa (2016)"].id_source) == (372058, "search")
    assert movies["Kimi no Na wa (2016)"].partition_key == "kimi-no-na-wa-2016-tmdb372058"
    assert movies["Sen to Chihiro no Kamikakushi (2001)"].tmdb_id == 129
    # TMDB's search filters by year, so 2017 finds nothing and stays unidentified (release years differ by
    # country: "±1" applies to results, not to what the search returns); 2010 is simply another film.
    for name in ("Kimi no Na wa (2010)", "Kimi no Na wa"):
        assert movies[name].status == "unidentified", name
    assert "metarr identify" in movies["Kimi no Na wa"].reason
    # The other titles came from TMDB's own shapes: /movie/{id} appending alternative_titles and translations.
    assert any("alternative_titles%2Ctranslations" in r.query or "alternative_titles,translations" in r.query
               for r in sim.requests("tmdb_api"))


def test_two_results_sharing_an_alternative_title_stay_unidentified_with_the_candidates() -> None:
    results = [{"id": 1, "title": "Love Letter", "release_date": "1995-03-25"},
               {"id": 2, "title": "Love Letter", "release_date": "1995-10-01"},
               {"id": 3, "title": "Other", "release_date": "1980-01-01"}]
    titles = {1: ["Rabu Retā"], 2: ["Rabu Reta!"], 3: ["Rabu Reta"]}
    outcome = pick_by_other_titles("Rabu Reta", 1995, results, lambda i: titles[i])
    assert outcome is not None and outcome.tmdb_id is None
    assert outcome.candidates == ("Love Letter (1995) tmdb-1", "Love Letter (1995) tmdb-2")
    assert pick_by_other_titles("Rabu Reta", 1996, results[:1], lambda i: titles[i]).tmdb_id == 1  # ±1 year
    assert pick_by_other_titles("Rabu Reta", 1997, results[:1], lambda i: titles[i]) is None


def test_search_candidates_offer_title_year_and_poster(tmp_path: Path, sim: Simulator) -> None:
    _, settings, store = _library(tmp_path, sim, {"Untitled Home Video": None})
    _scan(settings, store)
    with open_providers(settings, KEYS) as providers:
        found = search_candidates(store, settings, "Untitled Home Video", query="Kimi no Na wa",
                                  session=providers)
        assert found[0].tmdb_id == 372058 and found[0].year == 2016 and found[0].poster_path.startswith("/")
        assert search_candidates(store, settings, "Untitled Home Video", session=providers) == []
        with pytest.raises(IdentifyError, match="no movie folder or partition key 'Nope'"):
            search_candidates(store, settings, "Nope", session=providers)


def test_metarr_identify_lists_then_chooses_and_the_choice_survives_rescans_and_renames(
        tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root, settings, store = _library(tmp_path, sim, {"Untitled Home Video": None, "Some Film": None})
    monkeypatch.setenv("TMDB_API_KEY", KEYS.tmdb_api_key)
    assert _scan(settings, store)["Untitled Home Video"].status == "unidentified"
    cfg = str(settings.config_path)

    assert main(["--config", cfg, "identify", "Untitled Home Video", "--query", "The Matrix", "--year", "1999"]) == 0
    out = capsys.readouterr().out
    assert "The Matrix (1999) tmdb-603" in out and "--tmdb ID" in out

    assert main(["--config", cfg, "identify", str(root / "Untitled Home Video"), "--tmdb", "603"]) == 0
    assert "the-matrix-1999-tmdb603" in capsys.readouterr().out
    assert main(["--config", cfg, "identify", "Some Film", "--imdb", "tt0110413"]) == 0
    capsys.readouterr()
    movies = _scan(settings, store)  # a rescan keeps both choices (the search would find nothing)
    matrix = movies["Untitled Home Video"]
    assert (matrix.status, matrix.tmdb_id, matrix.id_source, matrix.title, matrix.year) == (
        "identified", 603, "manual", "The Matrix", 1999)
    assert (movies["Some Film"].tmdb_id, movies["Some Film"].id_source) == (101, "manual")
    assert "the-matrix-1999-tmdb603" in store.partition_keys()

    (root / "Untitled Home Video").rename(root / "Home Video (renamed)")
    moved = _scan(settings, store)["Home Video (renamed)"]
    assert (moved.id, moved.tmdb_id, moved.id_source, moved.partition_key) == (
        matrix.id, 603, "manual", "the-matrix-1999-tmdb603")

    assert main(["--config", cfg, "identify", "Some Film", "--tmdb", "999999999"]) == 1
    assert "TMDB knows no movie with id 999999999" in capsys.readouterr().err
    assert main(["--config", cfg, "identify", "No Such Folder", "--tmdb", "603"]) == 1
    assert "no movie folder or partition key 'No Such Folder'" in capsys.readouterr().err


def test_identifying_by_hand_replaces_a_wrong_film_and_outranks_the_nfo(tmp_path: Path, sim: Simulator) -> None:
    nfo = '<?xml version="1.0"?><movie><title>Heat</title><uniqueid type="tmdb">949</uniqueid></movie>'
    _, settings, store = _library(tmp_path, sim, {"Heat (1995)": nfo})
    heat = _scan(settings, store)["Heat (1995)"]
    assert (heat.tmdb_id, heat.partition_key) == (949, "heat-1995-tmdb949")
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers)
        assert store.movie_metadata([heat.id])
        chosen = identify_manually(store, settings, heat.partition_key, tmdb_id=11379, session=providers)
    assert (chosen.tmdb_id, chosen.partition_key, chosen.year) == (11379, "heat-1986-tmdb11379", 1986)
    assert store.movie_metadata([heat.id]) == {}  # nothing of the other film is kept
    again = _scan(settings, store)["Heat (1995)"]
    assert (again.tmdb_id, again.id_source, again.partition_key) == (11379, "manual", "heat-1986-tmdb11379")
    assert any("identified by hand" in w for w in again.warnings)
    assert json.loads(again.nfo_json)["uniqueids"]["tmdb"] == "949"
