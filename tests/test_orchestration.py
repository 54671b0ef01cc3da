"""Orchestration: batched schedule and sensor requests, auto-publish, stale detection, big and concurrent runs."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from dagster_project.definitions import auto_publish_sensor, config_change_sensor, defs, enrich_schedule
from dagster_project.resources import MetarrResource
from dagster_project.run_tags import RANGE_END, RANGE_START, TRIGGER_TAG
from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.orchestration import batched_ranges, due_for_enrichment, outdated_for_publish, stale_movies
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.simulator import Simulator
from metarr_pipeline.store import Store
from tests.test_providers import KEYS, make_settings, seed_movies

SMALL = """
[artwork.counts]
poster = 1
fanart = 1
clearlogo = 0
clearart = 0
discart = 0
banner = 0
landscape = 0
keyart = 0
[actors]
max_actors = 2
[schedule]
max_movies_per_run = 25
"""


def enriched_seeded_library(tmp_path: Path, sim: Simulator, tmdb_ids: list[int],
                            extra: str = SMALL) -> tuple[Settings, Store, list[str]]:
    """Movies seeded in a store (no scan), each with a real empty folder under ``tmp_path/lib`` to publish into,
    fetched and enriched against the simulator: (settings, store, sorted partition keys), ready to publish.
    The state test_sensor_retry, test_serve and test_publish_state start from too."""
    root = tmp_path / "lib"
    settings = make_settings(tmp_path, sim, root=root, extra=extra)
    store = Store(settings.database_path)
    keys = sorted(seed_movies(store, tmdb_ids))
    store.execute_script(f"UPDATE movies SET folder = replace(folder, '/lib', '{root}'), library_root = '{root}'")
    for movie in store.movies():
        os.makedirs(movie.folder, exist_ok=True)
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers, keys)
        enrich_movies(settings, store, providers, keys)
    return settings, store, keys


@pytest.mark.parametrize(
    ("ordered", "wanted", "size", "ranges"),
    [
        (list("abcdefgh"), list("abcdefgh"), 3, [("a", "c"), ("d", "f"), ("g", "h")]),
        (list("abcdefgh"), list("bh"), 3, [("b", "b"), ("h", "h")]),
        (list("abcdefgh"), list("bd"), 5, [("b", "d")]),
        (list("abc"), [], 2, []),
        (list("abc"), list("zc"), 2, [("c", "c")]),
    ],
)
def test_batched_ranges(ordered: list[str], wanted: list[str], size: int, ranges: list[tuple[str, str]]) -> None:
    assert batched_ranges(ordered, wanted, size) == ranges


def run_requests(result) -> list[dg.RunRequest]:
    """Run requests from a tick evaluation, or from a sensor function's own return value."""
    if isinstance(result, list):
        return result
    return list(getattr(result, "run_requests", None) or [])


def test_schedule_requests_a_few_batched_runs_for_due_movies_only(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim, extra=SMALL)
    store = Store(settings.database_path)
    keys = sorted(seed_movies(store, list(range(3000, 3060))))
    resource = MetarrResource(config_path=str(settings.config_path))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("movies", keys)
        ctx = dg.build_schedule_context(instance=instance, resources={"metarr": resource},
                                        scheduled_execution_time=datetime(2026, 11, 24, 4, 0))
        requests = run_requests(enrich_schedule.evaluate_tick(ctx))
        assert len(requests) == 3  # 60 due movies, at most 25 per run
        covered = [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in requests]
        assert covered == [(keys[0], keys[24]), (keys[25], keys[49]), (keys[50], keys[59])]
        assert all(r.tags[TRIGGER_TAG] == "schedule" for r in requests)
        # Enrich the first 30: only the other 30 are due now.
        with open_providers(settings, KEYS) as providers:
            fetch_metadata(settings, store, providers, keys[:30])
            enrich_movies(settings, store, providers, keys[:30])
        assert due_for_enrichment(settings, store) == keys[30:]
        requests = run_requests(enrich_schedule.evaluate_tick(ctx))
        assert [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in requests] == [(keys[30], keys[54]), (keys[55], keys[59])]


def test_auto_publish_only_when_on_and_never_for_manual_movies(tmp_path: Path, sim: Simulator) -> None:
    settings, store, keys = enriched_seeded_library(tmp_path, sim, [603, 949, 807])
    store.set_manual(keys[1], True)
    resource = MetarrResource(config_path=str(settings.config_path))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("movies", keys)
        off = auto_publish_sensor(dg.build_sensor_context(instance=instance, resources={"metarr": resource}))
        assert isinstance(off, dg.SkipReason) and "auto_publish is off" in off.skip_message
        cfg = Path(settings.config_path)
        cfg.write_text(cfg.read_text() + "\n[publish]\nauto_publish = true\n")
        on = auto_publish_sensor(dg.build_sensor_context(instance=instance, resources={"metarr": resource}))
        requests = run_requests(on)
        assert requests and all(r.tags[TRIGGER_TAG] == "auto_publish" for r in requests)
    assert outdated_for_publish(store) == [keys[0], keys[2]]  # the manual movie is not wanted
    report = publish_movies(settings, store, None, keys, automatic=True)
    by = {m.partition_key: m.status for m in report.movies}
    assert by == {keys[0]: "published", keys[1]: "skipped", keys[2]: "published"}
    assert outdated_for_publish(store) == []
    again = publish_movies(settings, store, None, keys, automatic=True)
    assert {m.status for m in again.movies} == {"skipped"}


def test_config_change_marks_exactly_the_affected_movies_and_rescoring_is_offline(
        tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path, sim, extra=SMALL)
    store = Store(settings.database_path)
    keys = sorted(seed_movies(store, [603, 949, 27205, 680]))
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers, keys[:3])
        enrich_movies(settings, store, providers, keys[:3])
    assert stale_movies(settings, store) == {"enrich": [], "publish": []}
    ids = [m.id for m in store.movies(partition_keys=keys[:3])]
    before = store.artwork_candidates(ids).filter(pl.col("selected_rank").is_not_null())
    # Weights that change winners: only community votes count now, no longer size or language.
    weights = {"resolution": 0.0, "aspect": 0.0, "language": 0.0, "community": 100.0, "provider": 0.0}
    rescored = replace(settings, scoring=replace(settings.scoring, weights=weights))
    stale = stale_movies(rescored, store)
    assert stale["enrich"] == keys[:3]  # exactly the movies enriched under the old weights
    resource_cfg = Path(settings.config_path)
    resource_cfg.write_text(resource_cfg.read_text() + "\n[scoring.weights]\n"
                            + "".join(f"{k} = {v}\n" for k, v in weights.items()))
    monkeypatch.setenv("TMDB_API_KEY", KEYS.tmdb_api_key)
    monkeypatch.setenv("FANART_API_KEY", KEYS.fanart_api_key or "")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("movies", keys)
        resources = {"metarr": MetarrResource(config_path=str(settings.config_path))}
        result = config_change_sensor(dg.build_sensor_context(instance=instance, resources=resources))
        requests = run_requests(result)
        assert [(r.job_name, r.tags[RANGE_START], r.tags[RANGE_END]) for r in requests] == [("enrich_job", keys[0], keys[2])]
        sim.clear_log()
        # Only the artwork assets are backfilled: provider metadata does not depend on the config.
        assert {k.to_user_string() for k in requests[0].asset_selection} == {
            "artwork_candidates", "artwork_selection", "cached_artwork", "actor_thumbnails"}
        monkeypatch.setenv("METARR_CONFIG", str(settings.config_path))  # the code location's own resource
        run = defs.resolve_job_def("enrich_job").execute_in_process(
            instance=instance, tags=dict(requests[0].tags), asset_selection=requests[0].asset_selection)
        assert run.success
        assert {e.asset_key.to_user_string() for e in run.get_asset_materialization_events()} == {
            "artwork_candidates", "artwork_selection", "cached_artwork", "actor_thumbnails"}
    assert sim.requests() == []  # re-scoring and re-selecting from stored data: zero network
    assert stale_movies(rescored, store)["enrich"] == []
    after = store.artwork_candidates(ids).filter(pl.col("selected_rank").is_not_null())
    changed = set(after["candidate_id"]) - set(before["candidate_id"])
    assert changed, "the new weights must choose other winners for this test to mean anything"
    deferred = after.filter(pl.col("blob_sha").is_null())
    assert set(deferred["candidate_id"]) <= changed and deferred.height > 0  # new winners wait for their original
    enriched_at = {mid: row.enriched_at for mid, row in store.enrichment_rows(ids).items()}

    # The next regular enrichment fetches exactly those originals; nothing else changes.
    with open_providers(rescored, KEYS) as providers:
        again = enrich_movies(rescored, store, providers, keys[:3])
    fetched = [(r.host, r.path) for r in sim.requests()]
    assert again.summary()["unchanged"] == 3 and again.summary()["originals_downloaded"] == deferred.height
    assert len(fetched) == deferred.height and all(
        "/original/" in path or path.startswith("/fanart/") for _host, path in fetched), fetched
    final = store.artwork_candidates(ids).filter(pl.col("selected_rank").is_not_null())
    assert final["blob_sha"].null_count() == 0
    assert {mid: row.enriched_at for mid, row in store.enrichment_rows(ids).items()} == enriched_at


def test_library_wide_job_over_20_movies_in_one_run(tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch,
                                                    dagster_instance: dg.DagsterInstance) -> None:
    """A backfill's shape (one run over a partition range), on both instances: on PostgreSQL with event
    batching on, every partition of every asset is still recorded. (20 movies, not 50: the run's shape does not
    change with its size, and the test runs twice.)"""
    settings = make_settings(tmp_path, sim, extra=SMALL)
    store = Store(settings.database_path)
    keys = sorted(seed_movies(store, list(range(4000, 4020))))
    monkeypatch.setenv("TMDB_API_KEY", "k")
    monkeypatch.setenv("FANART_API_KEY", "k")
    instance = dagster_instance
    instance.add_dynamic_partitions("movies", keys)
    result = defs.resolve_job_def("enrich_job").execute_in_process(
        instance=instance, tags={RANGE_START: keys[0], RANGE_END: keys[-1]},
        resources={"metarr": MetarrResource(config_path=str(settings.config_path))})
    assert result.success
    for asset in ("provider_metadata", "artwork_selection", "cached_artwork", "actor_thumbnails"):
        assert instance.get_materialized_partitions(dg.AssetKey(asset)) == set(keys)
    assert len(instance.get_run_records()) == 1
    assert len(store.enrichment_rows([m.id for m in store.movies()])) == 20


@pytest.mark.parametrize("round_", range(5))
def test_four_concurrent_multiprocess_runs_over_overlapping_movies(tmp_path: Path, sim: Simulator, round_: int) -> None:
    settings = make_settings(tmp_path, sim, extra=SMALL)
    store = Store(settings.database_path)
    keys = sorted(seed_movies(store, [5000 + round_ * 10 + i for i in range(6)]))
    ranges = [(keys[0], keys[3]), (keys[2], keys[5]), (keys[1], keys[4]), (keys[0], keys[5])]
    env = {**os.environ, "METARR_CONFIG": str(settings.config_path), "TMDB_API_KEY": "k", "FANART_API_KEY": "k"}
    procs = []
    for i, (start, end) in enumerate(ranges):
        home = tmp_path / f"dagster{i}"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        procs.append(subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "helpers" / "concurrent_run.py"), str(home), start, end,
             ",".join(keys)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            cwd=str(Path(__file__).parents[1])))
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0 and out.startswith("ok"), f"{out}\n{err[-3000:]}"
        assert "Could not set lock" not in out + err
    # A consistent final state: every movie enriched once, and a fresh run changes nothing.
    ids = [m.id for m in store.movies()]
    assert len(store.enrichment_rows(ids)) == 6
    with open_providers(settings, KEYS) as providers:
        again = enrich_movies(settings, store, providers)
    assert again.summary()["unchanged"] == 6 and again.summary()["originals_downloaded"] == 0


def test_publish_chosen_partitions_from_the_ui_with_checks(tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, store, keys = enriched_seeded_library(tmp_path, sim, [603, 949, 807])
    monkeypatch.setenv("TMDB_API_KEY", "k")
    monkeypatch.setenv("FANART_API_KEY", "k")
    resources = {"metarr": MetarrResource(config_path=str(settings.config_path))}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("movies", keys)
        job = defs.resolve_job_def("publish_job")
        chosen = store.movie_by_partition(keys[0])
        result = job.execute_in_process(instance=instance, partition_key=keys[0], resources=resources)
        assert result.success
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks == {"nfo_well_formed_and_matches_db": True, "published_files_recorded": True}
        assert instance.get_materialized_partitions(dg.AssetKey("published_library_files")) == {keys[0]}
        written = os.listdir(chosen.folder)
        assert any(n.endswith(".nfo") for n in written)
        others = [m for m in store.movies() if m.partition_key != keys[0]]
        assert all(os.listdir(m.folder) == [] for m in others)  # nothing else ran
        # A published file deleted behind our back fails the files check on the next run.
        victim = next(n for n in written if n.endswith(".jpg"))
        os.remove(os.path.join(chosen.folder, victim))
        from metarr_pipeline.publish.checks import check_published
        assert check_published(store, [keys[0]])["files"] == [(keys[0], f"{victim}: missing")]


def test_metarr_backfill_rescores_offline_and_leaves_the_new_selection_for_review(
        tmp_path: Path, sim: Simulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from metarr_pipeline.cli import main

    settings, store, keys = enriched_seeded_library(tmp_path, sim, [603, 949])
    root = settings.library.roots[0]
    with open_providers(settings, KEYS) as providers:
        assert not publish_movies(settings, store, providers, keys).failures
    # The config changes later than that publish (state timestamps have one-second resolution).
    store.execute_script("UPDATE publish_log SET published_at = published_at - INTERVAL 1 MINUTE")
    files = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    cfg = Path(settings.config_path)
    cfg.write_text(cfg.read_text() + "\n[scoring.weights]\nresolution = 0\naspect = 0\nlanguage = 0\n"
                   "community = 100\nprovider = 0\n")
    monkeypatch.setenv("TMDB_API_KEY", KEYS.tmdb_api_key)
    monkeypatch.setenv("FANART_API_KEY", KEYS.fanart_api_key or "")
    assert main(["--config", str(cfg), "backfill", "--dry-run"]) == 0
    assert f"enrich: {keys[0]}" in capsys.readouterr().out
    sim.clear_log()
    assert main(["--config", str(cfg), "backfill"]) == 0
    out = capsys.readouterr().out
    assert sim.requests() == [] and "left for publish" in out  # re-scored offline, new winners deferred
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == files  # nothing published
    assert stale_movies(load_settings(cfg, check_roots=False), store)["enrich"] == []
    assert {s.state for s in store.publish_state().values()} == {"outdated"}  # waiting for the user's review
