"""The fetch stages one at a time (plan -> fetch -> merge -> persist), over loopback and a real DuckDB file.

``tests/test_providers.py`` covers the whole run (``fetch_metadata``); these pin what each stage alone
promises, so a change to one stage shows up as that stage's failure.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from metarr_pipeline.providers.fetch import (
    Fetched,
    FetchPlan,
    MovieFetch,
    fetch_planned,
    merge_fetched,
    persist_fetched,
    plan_fetch,
    tmdb_key,
)
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.store import ProviderResponse, Store
from tests.test_providers import KEYS, make_settings, seed_movies

NOW = datetime(2026, 11, 1, 12, 0, 0)


@pytest.fixture
def sim(tmp_path: Path):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "simcache")) as s:
        yield s


def cached(provider: str, key: str, age: timedelta, body: object = None) -> ProviderResponse:
    return ProviderResponse(provider, key, NOW - age, 200, json.dumps(body if body is not None else {"id": 1}))


def test_plan_asks_only_for_what_the_cache_cannot_answer(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)  # TTLs: TMDB 7 days, fanart.tv 7 days (defaults)
    store = Store(settings.database_path)
    seed_movies(store, [603, 949, 27205])
    lang = settings.languages.preferred
    store.save_fetch([
        cached("tmdb_movie", tmdb_key(603, lang), timedelta(hours=1)),  # fresh
        cached("fanart_movie", "603", timedelta(hours=1)),  # fresh
        cached("tmdb_movie", tmdb_key(949, lang), timedelta(days=400)),  # stale
        cached("tmdb_movie", tmdb_key(27205, "xx-XX"), timedelta(hours=1)),  # another language: not an answer
    ], [])

    plan = plan_fetch(settings, store, now=NOW)
    wanted = {p.movie.tmdb_id: p.requests for p in plan.movies}
    assert wanted == {603: (), 949: ("tmdb_movie", "fanart_movie"), 27205: ("tmdb_movie", "fanart_movie")}
    assert plan.now == NOW and plan.language == lang and 1 <= plan.workers <= 3
    assert len(plan.movie_ids) == 3

    only = plan_fetch(settings, store, ["m-603"], now=NOW)
    assert [p.movie.partition_key for p in only.movies] == ["m-603"]
    forced = plan_fetch(settings, store, force=True, now=NOW)
    assert all(p.requests == ("tmdb_movie", "fanart_movie") for p in forced.movies)
    assert sim.requests() == []  # planning never touches the network


def test_fetch_stage_requests_the_plan_and_keeps_failures_with_their_movie(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    seed_movies(store, [603, 604, 9000001, 9999999])  # 603/604 share a set; 9000001 redirects; 9999999 unknown
    plan = plan_fetch(settings, store, now=NOW)
    with open_providers(settings, KEYS) as providers:
        fetched = fetch_planned(plan, providers, store)

    by_id = {w.movie.tmdb_id: w for w in fetched.movies}
    assert [w.movie.tmdb_id for w in fetched.movies] == [p.movie.tmdb_id for p in plan.movies]  # plan's order
    assert by_id[603].tmdb is not None and by_id[603].fanart is not None and len(by_id[603].fresh) == 2
    assert "redirects to 603" in by_id[9000001].warnings[0]
    assert "TMDB has no movie 9999999" in by_id[9999999].error and by_id[9999999].fresh == []
    assert by_id[603].collection_id() == by_id[604].collection_id() == 2344
    assert fetched.collections[2344] is not None
    assert len([r for r in sim.requests("tmdb_api") if r.kind == "collection"]) == 1  # one per distinct set
    asked = {r.path.rsplit("/", 1)[-1] for r in sim.requests("tmdb_api") if r.kind == "movie"}
    assert asked == {"603", "604", "9000001", "9999999"}  # (plus 603 again: the redirect is followed)
    assert fetched.cache_hits == 0 and fetched.auth_errors == []
    assert all(r.fetched_at == NOW for r in fetched.new_responses())
    assert store.provider_responses([("tmdb_movie", tmdb_key(603, plan.language))]) == {}  # nothing written


def test_merge_respects_locks_keeps_failed_movies_data_and_skips_unchanged_rows(
    tmp_path: Path, sim: Simulator
) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    nfo = json.dumps({"fields": {"title": "My Own Title", "plot": "From my NFO"}})
    seed_movies(store, [603], nfo_json=nfo, locked_fields=("Name",))  # Jellyfin lock on the title only
    plan = plan_fetch(settings, store, now=NOW)
    with open_providers(settings, KEYS) as providers:
        fetched = fetch_planned(plan, providers, store)

    merged = merge_fetched(fetched, {})
    (row,) = merged.rows
    fields, decisions = json.loads(row.fields_json), json.loads(row.decisions_json)
    assert fields["title"] == "My Own Title" and decisions["title"] == "locked"
    assert decisions["plot"] == "updated" and fields["plot"] != "From my NFO"
    assert row.tmdb_id == 603 and row.fetched_at == NOW and row.fetch_error == ""
    (outcome,) = merged.outcomes
    assert outcome.status == "fetched" and "plot" in outcome.changed and "title" not in outcome.changed

    assert merge_fetched(fetched, {row.movie_id: row}).rows == ()  # nothing would change: nothing to write

    failed = Fetched([MovieFetch(fetched.movies[0].movie, error="TMDB: 503 after 3 attempts")], {}, [], NOW + timedelta(days=1))
    (kept,) = merge_fetched(failed, {row.movie_id: row}).rows
    assert kept.fields_json == row.fields_json and kept.fetched_at == row.fetched_at  # stored data never lost
    assert kept.fetch_error == "TMDB: 503 after 3 attempts" and kept.failed_at == NOW + timedelta(days=1)


def test_persist_writes_the_run_in_one_go_and_the_next_plan_reuses_it(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    seed_movies(store, [603, 949])
    plan = plan_fetch(settings, store, now=NOW)
    with open_providers(settings, KEYS) as providers:
        fetched = fetch_planned(plan, providers, store)
    merged = merge_fetched(fetched, store.movie_metadata(plan.movie_ids))
    assert store.movie_metadata() == {}

    persist_fetched(store, fetched, merged)

    stored = store.movie_metadata()
    assert sorted(stored) == sorted(plan.movie_ids) and all(r.fetched_at == NOW for r in stored.values())
    keys = [(r.provider, r.item_key) for r in fetched.new_responses()]
    assert len(store.provider_responses(keys)) == len(keys) >= 5  # 2 movies x 2 providers + the Matrix set
    again: FetchPlan = plan_fetch(settings, store, now=NOW + timedelta(hours=1))
    assert all(p.requests == () for p in again.movies)
    later = replace(settings, providers=replace(settings.providers, tmdb=replace(settings.providers.tmdb,
                                                                                 cache_ttl_days=0)))
    assert all(p.requests == ("tmdb_movie",) for p in plan_fetch(later, store, now=NOW + timedelta(hours=1)).movies)
