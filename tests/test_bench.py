"""The benchmark's arithmetic (bench/targets.py): the provider bound, what counts as a call, the per-run Dagster
overhead and the verdicts; the light image set's marker, the results' tables, and the ticks step's measurements on
a small real state and instance. The stages themselves run only in ``make bench``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.targets import (
    CONNECTIONS,
    LATENCY,
    TMDB_RPS,
    cold_figures,
    provider_bound,
    request_stats,
    summarise_stage,
    verdicts,
)


def record(host: str, path: str, status: int = 200, kind: str = "", size: int = 10) -> dict[str, Any]:
    return {"host": host, "path": path, "query": "api_key=secret&language=en", "status": status, "kind": kind,
            "bytes_sent": size}


def test_the_bound_is_the_rate_limit_for_the_api_and_connections_times_latency_for_images() -> None:
    bound = provider_bound({"tmdb_api": 1000, "fanart_api": 1000, "tmdb_images": 4000, "fanart_assets": 2000})
    assert bound["per_host_s"]["tmdb_api"] == pytest.approx(1000 / TMDB_RPS)  # 25 s: the rate binds
    assert bound["per_host_s"]["fanart_api"] == pytest.approx(1000 * LATENCY / CONNECTIONS)
    assert bound["images_s"] == pytest.approx(4000 * LATENCY / CONNECTIONS)
    assert bound["bound_s"] == pytest.approx(bound["api_s"] + bound["images_s"])
    assert bound["overlapped_bound_s"] == max(bound["per_host_s"].values())


def test_refused_and_repeated_requests_are_not_necessary_calls() -> None:
    records = [
        record("tmdb_api", "/3/movie/603", 429, "movie"),  # refused, then retried
        record("tmdb_api", "/3/movie/603", 200, "movie"),
        record("tmdb_api", "/3/movie/604", 200, "movie"),
        record("tmdb_images", "/t/p/w300/a.jpg", size=100),
        record("tmdb_images", "/t/p/w300/a.jpg", size=100),  # the same URL again
        record("fanart_assets", "/preview/movies/603/poster/b.jpg", 503),
    ]
    stats = request_stats(records)
    assert stats["by_kind"]["tmdb_movie"] == 3 and stats["answered_by_kind"]["tmdb_movie"] == 2
    assert stats["necessary_by_host"] == {"tmdb_api": 2, "fanart_api": 0, "tmdb_images": 1, "fanart_assets": 0}
    assert stats["repeated"] == 1
    assert stats["image_downloads"] == 3 and stats["by_kind"]["tmdb_preview"] == 2


def test_dagster_overhead_is_per_library_wide_run_and_the_worst_job_decides() -> None:
    runs = [
        {"job": "scan", "partitions": 0, "wall_s": 2.0, "domain_s": 1.0, "counters": {}},
        {"job": "enrich", "partitions": 500, "assets": 5, "wall_s": 100.0, "domain_s": 70.0,
         "counters": {"enriched": 500}},
        {"job": "enrich", "partitions": 500, "assets": 5, "wall_s": 110.0, "domain_s": 80.0,
         "counters": {"enriched": 500}},
        {"job": "publish", "partitions": 1000, "assets": 1, "wall_s": 40.0, "domain_s": 30.0, "counters": {}},
    ]
    summary = summarise_stage({"runs": runs, "dagster_runs_launched": 4, "wall_s": 260.0}, 1000)
    assert summary["dagster_overhead_ms_per_movie_by_job"] == {"enrich": 60.0, "publish": 10.0}
    assert summary["dagster_overhead_ms_per_movie"] == 70.0  # the stage's total over N
    assert summary["dagster_overhead_ms_per_movie_asset_by_job"] == {"enrich": 12.0, "publish": 10.0}
    assert summary["counters"]["enriched"] == 1000
    stage = {"dagster": summary, "peak_rss_mb": 500.0, "wall_s": 3.0, "library_writes": 0,
             "requests": {"total": 0, "image_downloads": 0, "by_kind": {}}}
    by_target = {v["target"]: v for v in verdicts({"stages": {"warm": stage}}, 1000)}
    overhead = by_target["Dagster overhead ≤ 5 ms per movie per asset run"]
    assert overhead["met"] is False and "12.0 ms (warm enrich runs)" in overhead["measured"]
    assert by_target["warm: ≤ 30.0 s"]["met"] is True
    assert by_target["warm: zero provider requests, downloads, library writes"]["met"] is True


def test_the_cold_stage_is_judged_against_the_bound_of_its_necessary_calls_and_per_identified_movie() -> None:
    answered = {"tmdb_movie": 100, "fanart_movie": 95, "tmdb_collection": 20, "tmdb_search": 5}
    cold = {"wall_s": 30.0, "dagster": {"counters": {"identified": 100}},
            "requests": {"necessary_by_host": {"tmdb_api": 400}, "answered_by_kind": answered,
                         "by_status": {"200": 700, "429": 3}}}
    figures = cold_figures(cold, 120)
    assert figures["bound"] == provider_bound({"tmdb_api": 400})
    assert figures["ratio_to_bound"] == round(30.0 / figures["bound"]["bound_s"], 2)
    assert figures["per_movie_calls"] == {"fanart_movie": 0.95, "search": 0.05, "identify": 0.0, "tmdb_movie": 1.0,
                                          "tmdb_collection": 0.2}
    cold |= figures
    verdict = {v["target"]: v for v in verdicts({"stages": {"cold": cold | {"peak_rss_mb": 1.0}}}, 120)}
    calls = verdict["cold: ≤ 1 TMDB + 1 fanart.tv call per movie (+ collections)"]
    assert calls["met"] is True and "3 refused with 429 and retried" in calls["measured"]


def test_an_alternative_title_lookup_is_identification_not_the_metadata_call() -> None:
    """The alternative-title rung asks ``/movie/{id}`` for other titles: like the search, an identification call,
    so the "≤ 1 TMDB call per movie" target keeps counting the metadata fetch only."""
    from bench.targets import classify

    lookup = {**record("tmdb_api", "/3/movie/1211", kind="movie"),
              "query": "append_to_response=alternative_titles%2Ctranslations&language=en&api_key=secret"}
    metadata = {**record("tmdb_api", "/3/movie/1211", kind="movie"),
                "query": "append_to_response=images%2Ccredits%2Crelease_dates&language=en&api_key=secret"}
    assert classify(lookup) == "tmdb_identify" and classify(metadata) == "tmdb_movie"
    stats = request_stats([lookup, metadata])
    cold = {"wall_s": 1.0, "dagster": {"counters": {"identified": 1}},
            "requests": {**stats, "by_status": {"200": 2}}}
    per = cold_figures(cold, 1)["per_movie_calls"]
    assert per["tmdb_movie"] == 1.0 and per["identify"] == 1.0


def test_the_library_plan_meets_every_hostile_case_and_is_a_prefix() -> None:
    from bench.library import CASES, library_plan

    plan = library_plan(100)
    assert library_plan(40) == plan[:40]  # a smaller run is the start of a bigger one
    by_case = {case: [m for m in plan if case in m["cases"]] for case in CASES}
    assert all(by_case.values()), {case: len(movies) for case, movies in by_case.items()}
    for movie in (*by_case["alt_title"], *by_case["search"]):
        assert not movie["tagged"] and "{tmdb-" not in movie["folder"]
    for movie in by_case["locked_cast"]:
        assert movie["tagged"] and "<lockedfields>Cast</lockedfields>" in movie["nfo"]
    assert all(not m["nfo"] for m in plan if "locked_cast" not in m["cases"])


def test_the_plans_hostile_folders_are_identified_and_locked_by_the_product(tmp_path: Path) -> None:
    """The benchmark's hostile folders, made as the benchmark makes them and scanned by the product against the
    loopback simulator: an alternative-title folder is identified by the search (its alternative title), and a
    locked-cast NFO locks the actors in the merge."""
    from bench.library import USER_CAST, library_plan, make_library, make_templates
    from metarr_pipeline.metadata.merge import locked_fields
    from metarr_pipeline.providers.session import open_providers
    from metarr_pipeline.scan.nfo import read_nfo
    from metarr_pipeline.scan.scan import scan_library
    from metarr_pipeline.simulator import Simulator, SimulatorConfig
    from metarr_pipeline.store import Store
    from tests.test_providers import KEYS, make_settings

    hostile = [m for m in library_plan(100) if m["cases"]]
    root = tmp_path / "library"
    make_library(root, hostile, make_templates(tmp_path / "templates"))
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "simcache")) as sim:
        settings = make_settings(tmp_path, sim, root=root)
        store = Store(settings.database_path)
        with open_providers(settings, KEYS) as providers:
            scan_library(settings, store, resolver=providers.tmdb)
    movies = {Path(m.folder).name: m for m in store.movies()}
    assert len(movies) == len(hostile)
    for planned in hostile:
        movie = movies[planned["folder"]]
        assert (movie.status, movie.tmdb_id) == ("identified", planned["tmdb_id"]), (planned, movie.reason)
        if "alt_title" in planned["cases"] or "search" in planned["cases"]:
            assert movie.id_source == "search", planned
        if "locked_cast" in planned["cases"]:
            nfo = read_nfo(root / planned["folder"] / f"{Path(planned['file']).stem}.nfo")
            assert "actors" in locked_fields(nfo.lockdata, nfo.locked_fields) and not nfo.problem
            assert [(a["name"], a["role"]) for a in nfo.fields["actors"]] == list(USER_CAST)  # type: ignore[union-attr]


def test_the_light_image_set_keeps_its_own_primed_marker_and_says_so(tmp_path: Path) -> None:
    """A light prime fetched fewer images than a full run needs: its marker is its own, so neither counts for the
    other; the results' first line names the image set, and a run without priming says so."""
    from bench.report import markdown
    from bench.simulator import IMAGE_SETS, image_set_note, mark_primed, primed_marker, primed_up_to

    cache = tmp_path / "cache"
    assert primed_marker(cache, "full") == cache / "primed.json"  # the marker earlier runs wrote
    assert primed_marker(cache, "light") != primed_marker(cache, "full")
    mark_primed(cache, "light", 10_000)
    assert (primed_up_to(cache, "light"), primed_up_to(cache, "full")) == (10_000, 0)
    mark_primed(cache, "light", 50)  # a smaller run later does not forget the bigger one
    assert primed_up_to(cache, "light") == 10_000
    assert IMAGE_SETS == {"full": None, "light": 3}
    assert image_set_note("light") == "lighter image set: at most 3 images per kind"
    results = {"n_movies": 10, "image_set": image_set_note("light"), "date": "2026-11-30", "machine": {"cpus": 2},
               "stages": {}, "verdicts": []}
    assert "lighter image set: at most 3 images per kind" in markdown(results).splitlines()[0]
    assert "not primed" not in markdown(results)
    assert "not primed (`--prime skip`)" in markdown(results | {"unprimed": True})


def test_the_results_list_each_jobs_runs_and_each_tick() -> None:
    """The md's per-job table (the scan job's wall time is the scan and the partitions' registration) and one row
    per measurement of the ticks step, with its answer."""
    from bench.report import job_rows, tick_rows

    runs = [{"job": "scan", "partitions": 0, "wall_s": 20.0, "domain_s": 15.0, "counters": {"partitions_added": 10}},
            {"job": "enrich", "partitions": 5, "wall_s": 30.0, "domain_s": 20.0, "counters": {}},
            {"job": "enrich", "partitions": 5, "wall_s": 31.0, "domain_s": 21.0, "counters": {}}]
    assert job_rows({"cold": {"runs": runs}}) == ["| cold | scan | 1 | 0 | 10 | 20.0 | 15.0 | 5.0 |",
                                                  "| cold | enrich | 2 | 10 | 0 | 61.0 | 41.0 | 20.0 |"]
    ticks = {
        "schedule": {"seconds": 0.5, "process_wall_s": 6.0, "peak_rss_mb": 300.4, "run_requests": 0,
                     "skip_reason": "no movie is due for enrichment"},
        "graphql": {"seconds": 1.5, "process_wall_s": 9.0, "peak_rss_mb": 420.0, "asset": "cached_artwork",
                    "partition_stats": {"numMaterialized": 10, "numFailed": 0, "numPartitions": 10},
                    "answer_bytes": 2000, "workspace_load_s": 2.0, "repeat_s": 1.0},
        "review_page": {"seconds": 3.0, "process_wall_s": 7.0, "peak_rss_mb": 250.0,
                        "pages": {"library": {"median_ms": 180.0}, "search": {"median_ms": 190.5}}},
    }
    assert tick_rows(ticks) == [
        "| schedule tick: library_enrichment_schedule | 0.5 | 6.0 | 300 | 0 run requests (no movie is due for "
        "enrichment) |",
        "| GraphQL partition status | 1.5 | 9.0 | 420 | cached_artwork: 10 materialised, 0 failed of 10 partitions "
        "(2 kB; workspace load 2.0 s, repeated query 1.0 s) |",
        "| review page: library listing | 3.0 | 7.0 | 250 | median server ms: library 180.0, search 190.5 |"]


def test_a_wrong_graphql_partition_count_fails_the_bench() -> None:
    from bench.ticks import partition_count_problem

    answer = {"typename": "AssetNode", "partition_stats": {"numMaterialized": 10, "numFailed": 0,
                                                           "numPartitions": 10}, "materialized_listed": 10}
    assert partition_count_problem(answer, 10) is None
    assert "numMaterialized 10" in (partition_count_problem(answer, 12) or "")
    assert partition_count_problem({**answer, "materialized_listed": 9}, 10)  # the list disagrees with the count
    assert "no partition stats" in (partition_count_problem({"typename": "AssetNotFoundError"}, 10) or "")


@pytest.mark.parametrize("instance_kind", ["sqlite", "postgres"])
def test_the_ticks_step_measures_a_real_state_and_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           request: pytest.FixtureRequest, instance_kind: str) -> None:
    """The ticks worker on a small real state (the review page's generated library) and an on-disk bench instance
    (SQLite, or a database on the checkout's PostgreSQL cluster) whose ``cached_artwork`` partitions are
    materialised: the schedule, both sensors, the GraphQL partition status (its count checked) and the review
    listing, each with its time and answer."""
    import dagster as dg

    from bench.instance import drop_instance, fresh_dagster_home, instance_env
    from bench.review_page import generate
    from bench.ticks import TICKS, partition_count_problem
    from bench.worker import main as worker_main
    from metarr_pipeline.config import load_settings
    from metarr_pipeline.store import Store

    n = 40
    config = tmp_path / "metarr.toml"
    config.write_text(f'[data]\ndir = "{tmp_path / "state"}"\n\n[publish]\nauto_publish = true\n', encoding="utf-8")
    generate(config, n)
    keys = Store(load_settings(config, check_roots=False).database_path).partition_keys()
    home = tmp_path / "dagster"
    if instance_kind == "postgres":
        request.getfixturevalue("pg_cluster")  # started for the session when it is not running
        request.addfinalizer(lambda: drop_instance(home))
    fresh_dagster_home(home, instance_kind)
    for name, value in {"METARR_CONFIG": str(config), "DAGSTER_HOME": str(home), **instance_env(home)}.items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("movies", keys)
        for key in keys:
            instance.report_runless_asset_event(dg.AssetMaterialization("cached_artwork", partition=key))
    plan, out = tmp_path / "plan.json", tmp_path / "out.json"
    plan.write_text(json.dumps({"stage": "ticks-all", "measure": list(TICKS), "asset": "cached_artwork",
                                "rounds": 2}))
    assert worker_main([str(plan), str(out)]) == 0
    ticks = json.loads(out.read_text())["ticks"]
    assert set(ticks) == set(TICKS) and all(t["seconds"] > 0 for t in ticks.values())
    assert ticks["graphql"]["partition_stats"] == {"numMaterialized": len(keys), "numFailed": 0,
                                                   "numMaterializing": 0, "numPartitions": len(keys)}
    assert partition_count_problem(ticks["graphql"], len(keys)) is None
    assert partition_count_problem(ticks["graphql"], len(keys) + 1)
    # the generated state has never-enriched, unpublished and stale movies: each tick asks for runs
    assert ticks["schedule"]["run_requests"] >= 1
    assert ticks["auto_publish_sensor"]["run_requests"] >= 1
    assert ticks["config_change_sensor"]["run_requests"] >= 1
    assert set(ticks["review_page"]["pages"]) == {"library", "needs review", "search"}


def test_the_memory_target_covers_the_ticks_processes_too() -> None:
    stage = {"dagster": {"dagster_overhead_ms_per_movie_by_job": {}}, "peak_rss_mb": 500.0, "wall_s": 3.0,
             "library_writes": 0, "requests": {"total": 0, "image_downloads": 0, "by_kind": {}}}
    results = {"stages": {"warm": stage}, "ticks": {"graphql": {"peak_rss_mb": 1600.0}}}
    memory = {v["target"]: v for v in verdicts(results, 1000)}["peak memory ≤ 1.5 GB (pipeline process)"]
    assert (memory["met"], memory["measured"], memory["stage"]) == (False, "1600 MB", "ticks graphql")


def test_a_stage_whose_requests_the_full_log_may_have_dropped_fails_instead_of_counting_short() -> None:
    from bench.simulator import request_log_limit, stage_records

    assert request_log_limit(1000) == 500_000 and request_log_limit(10_000) == 2_000_000
    records = [{"started": float(t)} for t in range(5, 10)]
    assert stage_records(records, 7.0, limit=10) == records[2:]  # not full: nothing dropped
    assert stage_records(records, 7.0, limit=5) == records[2:]  # full, but the oldest is before the stage
    with pytest.raises(SystemExit, match="dropped requests of this stage"):
        stage_records(records, 5.0, limit=5)  # full from the stage's start on: some may be gone


def test_the_hosts_table_splits_each_request_over_the_bins_it_spans() -> None:
    from bench.hosts import busy_table

    def timed(host: str, path: str, started: float, finished: float) -> dict[str, Any]:
        return {"host": host, "path": path, "started": 100.0 + started, "finished": 100.0 + finished}

    table = busy_table([timed("tmdb_images", "/t/p/original/a.jpg", 0, 15),  # 10 s in bin 0, 5 s in bin 1
                        timed("tmdb_images", "/t/p/w300/a.jpg", 2, 4),
                        timed("fanart_assets", "/preview/movies/1/b.png", 12, 14),
                        timed("tmdb_api", "/3/movie/603", 0, 1)])
    rows = table.splitlines()[2:]
    assert rows == ["| 0 | 0.1 | 0.0 | 1.2 | 0.0 | 1 / 1 / 1 |",
                    "| 10 | 0.0 | 0.0 | 0.5 | 0.2 | 0 / 1 / 0 |"]


def test_a_cold_stage_just_over_one_and_a_half_times_its_bound_misses_though_its_ratio_rounds_to_it() -> None:
    bound = provider_bound({"tmdb_api": 4000})  # 100 s
    for wall, met in ((150.0, True), (150.2, False)):  # 150.2 s: "1.5 ×" once rounded to two places
        cold = {"wall_s": wall, "dagster": {"counters": {"identified": 100}},
                "requests": {"necessary_by_host": {"tmdb_api": 4000}, "answered_by_kind": {}, "by_status": {}}}
        cold |= cold_figures(cold, 100)
        assert cold["bound"] == bound and cold["ratio_to_bound"] == 1.5
        verdict = {v["target"]: v for v in verdicts({"stages": {"cold": cold | {"peak_rss_mb": 1.0}}}, 100)}
        assert verdict["cold: wall ≤ 1.5 × provider bound"]["met"] is met


def test_no_image_analysis_is_measured_or_judged_when_the_stages_fetched_no_preview() -> None:
    """A warm or re-score run without a cold one fetched no preview: no "0/s, missed" verdict on nothing."""
    from types import SimpleNamespace

    from bench.driver import measure_analysis

    quiet = SimpleNamespace(urls={"tmdb_images": "http://127.0.0.1:1/t/p", "fanart_assets": "http://127.0.0.1:2"},
                            requests=lambda: [record("tmdb_api", "/3/movie/603", kind="movie")])
    assert measure_analysis(SimpleNamespace(sim=quiet)) == {}  # type: ignore[arg-type]
    assert not [v for v in verdicts({"stages": {}, "analysis": {}}, 1000) if v["target"].startswith("image analysis")]
