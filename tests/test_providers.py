"""Providers against the simulator over real loopback HTTP: limits, retries, cache, failures, secrets."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.errors import ProviderAuthError
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.keys import ProviderKeys
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.report import fetch_text
from metarr_pipeline.simulator import Faults, Simulator, SimulatorConfig
from metarr_pipeline.store import MovieRecord, ScanWrite, Store

SECRET = "tmdb-Sup3rS3cretKey-0042"
FANART_SECRET = "fanart-Sup3rS3cret-0077"
KEYS = ProviderKeys(tmdb_api_key=SECRET, fanart_api_key=FANART_SECRET)


def make_settings(tmp_path: Path, sim: Simulator, root: Path | None = None, extra: str = "", providers: str = "",
                  **tmdb: object) -> Settings:
    """A config (``tmp_path/metarr.toml``, state under ``tmp_path/state``) pointing at the simulator: ``providers``
    adds lines to ``[providers]``, keyword arguments to ``[providers.tmdb]``, ``extra`` whole sections."""
    root = root or tmp_path / "lib"
    root.mkdir(exist_ok=True)
    tmdb_lines = "\n".join(f"{k} = {v}" for k, v in tmdb.items())
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f"""
[data]
dir = "{tmp_path / 'state'}"
[library]
roots = ["{root}"]
[providers]
mode = "network"
image_hosts = {list(sim.image_hosts)!r}
backoff_seconds = 0.05
{providers}
[providers.tmdb]
api_url = "{sim.tmdb_api_url}"
image_url = "{sim.tmdb_image_url}"
timeout_seconds = 2.0
{tmdb_lines}
[providers.fanart]
api_url = "{sim.fanart_api_url}"
timeout_seconds = 2.0
""".replace("'", '"') + extra, encoding="utf-8")
    return load_settings(cfg)


def seed_movies(store: Store, tmdb_ids: list[int], **overrides: object) -> list[str]:
    now = datetime.now().replace(microsecond=0)
    movies = []
    for tmdb_id in tmdb_ids:
        movies.append(MovieRecord(
            id=None, library_root="/lib", folder=f"/lib/m{tmdb_id}", kind="file", video_file="m.mkv",
            basename="m", video_size=1, video_mtime_ns=1, status="identified", reason="", warnings=(),
            tmdb_id=tmdb_id, imdb_id=None, id_source="name", title=f"M{tmdb_id}", year=2000,
            partition_key=f"m-{tmdb_id}", nfo_file="", nfo_json="{}", lockdata=False, locked_fields=(),
            probe_key="", probe_error="", manual=False, first_seen=now, last_seen=now, changed_at=now, gone_at=None,
        ))
    movies = [replace(m, **overrides) for m in movies]  # type: ignore[arg-type]
    store.apply_scan(ScanWrite(movies=movies))
    return [m.partition_key for m in movies if m.partition_key]


@pytest.fixture
def sim(tmp_path: Path):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "simcache", rate_limit={"tmdb_api": 40.0})) as s:
        yield s


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_200_movies_within_the_rate_limit_through_429s(tmp_path: Path) -> None:
    config = SimulatorConfig(image_cache_dir=tmp_path / "simcache", rate_limit={"tmdb_api": 40.0},
                             faults={"tmdb_api": Faults(rate_limit_rate=0.05)}, seed=7)
    with Simulator(config) as sim:
        settings = make_settings(tmp_path, sim, requests_per_second=40.0, max_connections=20)
        store = Store(settings.database_path)
        ids = list(range(1000, 1200))
        seed_movies(store, ids)
        with open_providers(settings, KEYS) as providers:
            report = fetch_metadata(settings, store, providers)
        assert report.summary()["fetched"] == 200 and not report.failures, fetch_text(report)
        log = sim.requests("tmdb_api")
        movie_ok = [r for r in log if r.kind == "movie" and r.status == 200]
        assert sorted(int(r.path.rsplit("/", 1)[-1]) for r in movie_ok) == ids  # exactly one good call per movie
        limited = [r for r in log if r.status == 429]
        assert limited, "the test needs injected 429s"
        assert report.summary()["rate_limited"] == len(limited)
        assert max_in_any_window([r.started for r in log]) <= 40
        for hit in limited:  # Retry-After: 1 honoured by every thread, not just the one that got it
            after = [r.started for r in log if hit.finished < r.started < hit.finished + 0.95]
            assert after == [], f"{len(after)} requests within Retry-After of a 429"
        collections = [r for r in log if r.kind == "collection"]
        assert len(collections) == len({r.path for r in collections})  # one per distinct set
        assert len([r for r in sim.requests("fanart_api") if r.status in (200, 404)]) == 200


def test_second_run_within_ttl_makes_no_requests_and_force_refetches(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    keys = seed_movies(store, [603, 949, 27205])
    with open_providers(settings, KEYS) as providers:
        first = fetch_metadata(settings, store, providers)
    assert first.summary()["fetched"] == 3
    meta = store.movie_metadata()
    sim.clear_log()
    with open_providers(settings, KEYS) as providers:
        second = fetch_metadata(settings, store, providers)
    assert sim.requests() == [] and second.summary()["cached"] == 3 and second.summary()["requests"] == 0
    assert store.movie_metadata() == meta  # nothing rewritten
    with open_providers(settings, KEYS) as providers:
        forced = fetch_metadata(settings, store, providers, keys[:2], force=True)
    assert forced.summary()["fetched"] == 2
    assert len([r for r in sim.requests("tmdb_api") if r.kind == "movie"]) == 2
    # An expired cache refetches too.
    later = datetime.now() + timedelta(days=8)
    sim.clear_log()
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers, now=later)
    assert len([r for r in sim.requests("tmdb_api") if r.kind == "movie"]) == 3


def test_metadata_is_merged_from_tmdb(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    seed_movies(store, [603])
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers)
    (row,) = store.movie_metadata().values()
    f = row.fields()
    assert f["title"] == "The Matrix" and f["year"] == 1999 and f["imdb_id"] == "tt0133093"
    assert f["set_name"] == "The Matrix Collection" and f["set_overview"]
    assert f["sorttitle"] == "Matrix, The" and f["genres"] and f["directors"]


def test_locked_movie_keeps_the_users_values(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    nfo = '{"fields": {"title": "My Matrix", "plot": "my own words"}}'
    seed_movies(store, [603], nfo_json=nfo, locked_fields=("name", "overview"))
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers)
    (row,) = store.movie_metadata().values()
    assert row.fields()["title"] == "My Matrix" and row.fields()["plot"] == "my own words"
    assert row.fields()["year"] == 1999  # unlocked fields still filled


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (Faults(error_rate=1.0), "failed after 3 attempts: HTTP 50"),
        (Faults(hang_rate=1.0, hang_seconds=5.0), "timed out"),
        (Faults(truncate_rate=1.0), "connection broke mid-response"),
        (Faults(malformed_json_rate=1.0), "malformed JSON"),
    ],
)
def test_provider_faults_fail_one_movie_with_a_reason_and_keep_stored_data(
    tmp_path: Path, sim: Simulator, faults: Faults, message: str
) -> None:
    settings = make_settings(tmp_path, sim)
    settings = replace(settings, providers=replace(settings.providers, max_attempts=3))
    store = Store(settings.database_path)
    seed_movies(store, [603, 949])
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers)
    good = {r.movie_id: r.fields_json for r in store.movie_metadata().values()}
    sim.set_config(replace(sim.config, faults={"tmdb_api": faults}))
    with open_providers(settings, KEYS) as providers:
        report = fetch_metadata(settings, store, providers, force=True)
    assert len(report.failures) == 2
    assert all(message in f.error for f in report.failures), [f.error for f in report.failures]
    after = store.movie_metadata()
    assert {r.movie_id: r.fields_json for r in after.values()} == good  # stored data never lost
    assert all(r.fetch_error and r.failed_at for r in after.values())


def test_unknown_removed_and_redirected_ids(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    seed_movies(store, [603, 9000001, 9999999])
    with open_providers(settings, KEYS) as providers:
        report = fetch_metadata(settings, store, providers)
    by_key = {o.partition_key: o for o in report.outcomes}
    assert by_key["m-603"].status == "fetched"
    assert by_key["m-9999999"].status == "failed" and "TMDB has no movie 9999999" in by_key["m-9999999"].error
    redirected = by_key["m-9000001"]
    assert redirected.status == "fetched" and "redirects to 603" in redirected.warnings[0]
    rows = {r.movie_id: r for r in store.movie_metadata().values()}
    assert sorted(r.tmdb_id for r in rows.values() if not r.fetch_error) == [603, 603]


def test_bad_key_stops_the_run_with_check_your_tmdb_key(tmp_path: Path) -> None:
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "c", api_key="the-right-key")) as sim:
        settings = make_settings(tmp_path, sim)
        store = Store(settings.database_path)
        seed_movies(store, list(range(2000, 2050)))
        with open_providers(settings, KEYS) as providers, pytest.raises(ProviderAuthError) as err:
            fetch_metadata(settings, store, providers)
        assert "check your TMDB key" in str(err.value)
        assert SECRET not in str(err.value)
        assert len(sim.requests("tmdb_api")) < 50  # stopped, not hammered once per movie


def test_fanart_404_is_no_art_not_an_error(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    catalog = sim.catalog
    no_art = next(i for i in range(5000, 6000) if catalog.movie(i) is not None and catalog.movie(i).fanart is None)
    seed_movies(store, [no_art])
    with open_providers(settings, KEYS) as providers:
        report = fetch_metadata(settings, store, providers)
    assert report.summary()["fetched"] == 1 and not report.failures and not report.outcomes[0].warnings
    cached = store.provider_responses([("fanart_movie", str(no_art))])
    assert cached[("fanart_movie", str(no_art))].status == 404


def test_keys_never_appear_in_logs_errors_reports_or_dagster_metadata(
    tmp_path: Path, sim: Simulator, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_project.assets.enrich import provider_metadata
    from dagster_project.resources import MetarrResource

    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    keys = seed_movies(store, [603, 949, 9999999])
    sim.set_config(replace(sim.config, faults={"tmdb_api": Faults(error_rate=0.3)}))
    monkeypatch.setenv("TMDB_API_KEY", SECRET)
    monkeypatch.setenv("FANART_API_KEY", FANART_SECRET)
    caplog.set_level(logging.DEBUG)
    with open_providers(settings) as providers:
        report = fetch_metadata(settings, store, providers, force=True)
    text = fetch_text(report) + repr(report) + caplog.text
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("movies", keys)
        result = dg.materialize([provider_metadata], instance=instance, partition_key="m-9999999",
                                resources={"metarr": MetarrResource(config_path=str(settings.config_path))},
                                raise_on_error=False)
        events = "".join(repr(e) for e in result.all_events)
    text += events + "".join(repr(r) for r in sim.requests())
    assert "m-9999999" in text  # the failure is visible ...
    assert SECRET not in text and FANART_SECRET not in text  # ... the keys are not
