"""Ratings from three sources (TMDB, IMDb's dataset, OMDb) as Kodi's ``<ratings>``, against the loopback simulator.

The simulator serves OMDb and a generated ``title.ratings.tsv.gz``; the tests count its requests to check the
dataset is loaded at most daily and OMDb's quota is kept across runs, and read the published NFO.
"""

from __future__ import annotations

import gzip
import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.config import InvalidSetting, RatingsSettings, load_settings
from metarr_pipeline.errors import ConfigError
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.keys import ProviderKeys
from metarr_pipeline.providers.ratings.imdb_dataset import DatasetError, parse_dataset
from metarr_pipeline.providers.ratings.omdb import parse_omdb
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.report import fetch_text
from metarr_pipeline.scan.scan import scan_library
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.simulator.ratings_api import critics, imdb_numbers
from metarr_pipeline.store import Store
from tests.test_providers import FANART_SECRET, SECRET, make_settings, seed_movies

OMDB_SECRET = "omdb-Sup3rS3cret-0099"
KEYS = ProviderKeys(tmdb_api_key=SECRET, fanart_api_key=FANART_SECRET, omdb_api_key=OMDB_SECRET)
NOW = datetime(2026, 11, 30, 9, 0, 0)
MATRIX = "The Matrix (1999) {tmdb-603}"


def test_omdb_answers_become_kodi_ratings() -> None:
    body = {"Response": "True", "imdbRating": "8.7", "imdbVotes": "1,234,567", "Ratings": [
        {"Source": "Internet Movie Database", "Value": "8.7/10"}, {"Source": "Rotten Tomatoes", "Value": "83%"},
        {"Source": "Metacritic", "Value": "73/100"}, {"Source": "Other", "Value": "5/5"}]}
    assert parse_omdb(body) == {"imdb": {"value": 8.7, "votes": 1234567, "max": 10},
                                "tomatometerallcritics": {"value": 83.0, "max": 100},
                                "metacritic": {"value": 73.0, "max": 100}}
    assert parse_omdb({"Response": "True", "imdbRating": "N/A", "imdbVotes": "N/A", "Ratings": []}) == {}
    assert parse_omdb({"Response": "True", "imdbRating": "11", "Ratings": [{"Source": "Metacritic",
                                                                            "Value": "250/100"}]}) == {}
    assert parse_omdb({"Response": "False", "Error": "Incorrect IMDb ID."}) == {}


def test_dataset_parsing_keeps_real_rows_and_names_a_bad_file() -> None:
    text = "tconst\taverageRating\tnumVotes\ntt0133093\t8.7\t2100000\nnm0000206\t5.0\t3\ntt0000001\t\\N\t5\n" \
           "tt0110912\t12.5\t9\ntt0110413\t8.5\t1200000\n"
    frame = parse_dataset(gzip.compress(text.encode()), "file.tsv.gz", 1 << 20)
    assert sorted(frame.rows()) == [("tt0110413", 8.5, 1200000), ("tt0133093", 8.7, 2100000)]
    with pytest.raises(DatasetError, match=r"https://example\.org/x\.gz: not IMDb's title\.ratings format"):
        parse_dataset(b"id,score\n1,2\n", "https://example.org/x.gz", 1 << 20)
    with pytest.raises(DatasetError, match=r"x\.gz: not a readable gzip file"):
        parse_dataset(b"\x1f\x8b broken", "x.gz", 1 << 20)


@pytest.mark.parametrize(("body", "message"), [
    ('sources = ["tmdb", "imdb"]', "ratings.sources[1] = 'imdb' is not a rating source"),
    ('sources = ["omdb", "omdb"]', "ratings.sources[1] repeats 'omdb'"),
    ('default = "rottentomatoes"', "ratings.default = 'rottentomatoes' is not a Kodi rating name"),
    ('omdb_url = "ftp://omdb"', "ratings.omdb_url must be an http:// or https:// URL"),
    ('imdb_dataset = "http://"', "ratings.imdb_dataset must be an http:// or https:// URL"),
    ('omdb_per_run = -1', "ratings.omdb_per_run must be at least 0"),
    ('omdb_api_key = "abc"', "secrets are read from the environment only"),
])
def test_bad_ratings_settings_name_the_key(tmp_path: Path, body: str, message: str) -> None:
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f"[ratings]\n{body}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, check_roots=False)
    assert message in str(err.value) and str(cfg) in str(err.value)
    assert "abc" not in str(err.value)


def test_ratings_settings_check_their_values_outside_the_loader() -> None:
    with pytest.raises(InvalidSetting, match="imdb_refresh_hours"):
        RatingsSettings(imdb_refresh_hours=0)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"), api_key=None)) as s:
        yield s


def _settings(tmp_path: Path, sim: Simulator, root: Path | None = None, **ratings: object):
    ratings.setdefault("sources", ["tmdb", "imdb_dataset", "omdb"])
    lines = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in ratings.items())
    extra = f'[ratings]\nimdb_dataset = "{sim.imdb_dataset_url}"\nomdb_url = "{sim.omdb_api_url}"\n{lines}\n'

    return make_settings(tmp_path, sim, root=root, extra=extra)


def _fetch(settings, store, now: datetime, keys: ProviderKeys = KEYS):
    with open_providers(settings, keys) as providers:
        return fetch_metadata(settings, store, providers, now=now, force=True)


def _count(sim: Simulator, kind: str) -> int:
    return len([r for r in sim.requests("ratings") if r.kind == kind])


def test_every_source_lands_in_the_metadata(tmp_path: Path, sim: Simulator) -> None:
    settings = _settings(tmp_path, sim)
    store = Store(settings.database_path)
    seed_movies(store, [603, 11379])
    report = _fetch(settings, store, NOW)
    rows = {r.tmdb_id: r.fields()["ratings"] for r in store.movie_metadata().values()}
    imdb, votes = imdb_numbers("tt0133093")
    tomatometer, metascore = critics("tt0133093")
    assert rows[603] == {"themoviedb": {"value": 8.2, "votes": 26000, "max": 10},
                         "imdb": {"value": imdb, "votes": votes, "max": 10},  # the dataset's: first in the order
                         "tomatometerallcritics": {"value": float(tomatometer), "max": 100},
                         "metacritic": {"value": float(metascore), "max": 100}}
    assert set(rows[11379]) == {"themoviedb", "imdb"}  # Heat (1986): no critics' scores on OMDb
    assert report.ratings.found == {"tmdb": 2, "imdb_dataset": 2, "omdb": 2}
    text = fetch_text(report)
    assert "Ratings: movies rated by tmdb 2, imdb_dataset 2, omdb 2; 2 changed." in text
    assert OMDB_SECRET not in text


def test_dataset_is_loaded_at_most_daily(tmp_path: Path, sim: Simulator) -> None:
    settings = _settings(tmp_path, sim, sources=["imdb_dataset"])
    store = Store(settings.database_path)
    seed_movies(store, [603])
    before = _count(sim, "dataset")
    _fetch(settings, store, NOW)
    _fetch(settings, store, NOW + timedelta(hours=23))
    assert _count(sim, "dataset") - before == 1
    _fetch(settings, store, NOW + timedelta(hours=25))
    assert _count(sim, "dataset") - before == 2


def test_omdb_quota_is_kept_across_runs_and_answers_are_cached(tmp_path: Path, sim: Simulator) -> None:
    settings = _settings(tmp_path, sim, sources=["omdb"], omdb_daily_limit=3, omdb_per_run=2, omdb_ttl_days=7.0)
    store = Store(settings.database_path)
    seed_movies(store, [603, 604, 605, 807, 680])
    before = _count(sim, "omdb")
    first = _fetch(settings, store, NOW)
    assert first.ratings.requests["omdb"] == 2  # at most omdb_per_run
    assert any("3 movies left for later runs" in n for n in first.ratings.notes)
    assert _fetch(settings, store, NOW + timedelta(hours=1)).ratings.requests["omdb"] == 1  # the day's 3rd
    assert _fetch(settings, store, NOW + timedelta(hours=2)).ratings.requests["omdb"] == 0  # quota spent
    next_day = _fetch(settings, store, NOW + timedelta(days=1))
    assert next_day.ratings.requests["omdb"] == 2  # only the two never asked: the others are cached
    assert _fetch(settings, store, NOW + timedelta(days=1, hours=1)).ratings.requests["omdb"] == 0
    assert _count(sim, "omdb") - before == 5
    assert all(len(r.fields()["ratings"]) >= 2 for r in store.movie_metadata().values())


def test_a_refused_key_stops_omdb_for_the_day_and_is_never_shown(tmp_path: Path, caplog) -> None:
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "simcache", api_key=SECRET)) as strict:
        settings = _settings(tmp_path, strict, sources=["omdb"])
        store = Store(settings.database_path)
        seed_movies(store, [603, 604])
        wrong = ProviderKeys(tmdb_api_key=SECRET, fanart_api_key=SECRET, omdb_api_key="omdb-Wr0ngKey-1234")
        with caplog.at_level(logging.DEBUG):
            report = _fetch(settings, store, NOW, wrong)
            again = _fetch(settings, store, NOW + timedelta(hours=1), wrong)
    assert report.ratings.requests["omdb"] == 1 and again.ratings.requests["omdb"] == 0
    assert any("OMDb refused the key" in n for n in report.ratings.notes)
    assert "omdb-Wr0ngKey-1234" not in caplog.text + " ".join(report.ratings.notes)


def test_published_ratings_carry_every_source_with_one_default(demo_library: Path, tmp_path: Path,
                                                               sim: Simulator) -> None:
    root = tmp_path / "library"
    shutil.copytree(demo_library / MATRIX, root / MATRIX)
    settings = _settings(tmp_path, sim, root=root, default="imdb")
    store = Store(settings.database_path)
    with open_providers(settings, KEYS) as providers:
        scan_library(settings, store, resolver=providers.tmdb)
        fetch_metadata(settings, store, providers)
        enrich_movies(settings, store, providers)
        publish_movies(settings, store, providers)
    nfo = etree.parse(str(root / MATRIX / f"{MATRIX}.nfo")).getroot()
    got = {r.get("name"): (r.get("max"), r.get("default")) for r in nfo.iterfind("ratings/rating")}
    assert got == {"themoviedb": ("10", None), "imdb": ("10", "true"), "tomatometerallcritics": ("100", None),
                   "metacritic": ("100", None)}
    assert nfo.findtext("ratings/rating[@name='imdb']/value") == f"{imdb_numbers('tt0133093')[0]:.1f}"


def test_the_built_in_simulator_serves_every_source(tmp_path: Path) -> None:
    """The demo's path: providers.mode = "simulator" points OMDb and the dataset at the embedded simulator."""
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f'[data]\ndir = "{tmp_path / "state"}"\n[providers]\nmode = "simulator"\n'
                   '[ratings]\nsources = ["tmdb", "imdb_dataset", "omdb"]\n', encoding="utf-8")
    settings = load_settings(cfg, check_roots=False)
    store = Store(settings.database_path)
    seed_movies(store, [603])
    with open_providers(settings, ProviderKeys()) as providers:
        report = fetch_metadata(settings, store, providers, now=NOW)
    assert report.ratings.found == {"tmdb": 1, "imdb_dataset": 1, "omdb": 1}
    ratings = next(iter(store.movie_metadata().values())).fields()["ratings"]
    assert set(ratings) == {"themoviedb", "imdb", "tomatometerallcritics", "metacritic"}
