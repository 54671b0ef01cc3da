"""Movie sets as their own stage: each set's art from TMDB and fanart.tv, scored and selected like a movie's.

Runs the real scan → fetch → enrich, then the sets' stage, against the loopback simulator (whose Matrix and
Blade Runner collections have TMDB posters and backdrops and a fanart.tv entry with every set type) and a real
DuckDB file.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from metarr_pipeline.artwork.sets import SET_ART_TYPES, enrich_collections
from metarr_pipeline.blobs import BlobStore, verify_original
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.simulator import Faults, Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import KEYS, make_settings
from tests.test_publish import enrich_all

MATRIX = "The Matrix (1999) {tmdb-603}"
BLADE_RUNNER = "Blade Runner 2049 (2017) {tmdb-335984}"
MATRIX_SET, BLADE_RUNNER_SET = "the-matrix-collection-tmdbcol2344", "blade-runner-collection-tmdbcol422837"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


@pytest.fixture
def library(demo_library: Path, tmp_path: Path, sim: Simulator):
    root = tmp_path / "library"
    for name in (MATRIX, BLADE_RUNNER):
        shutil.copytree(demo_library / name, root / name)
    settings = make_settings(tmp_path, sim, root=root)
    store = Store(settings.database_path)
    enrich_all(settings, store)
    return settings, store


def sets_run(settings, store, keys=None, **kwargs):
    with open_providers(settings, KEYS) as providers:
        return enrich_collections(settings, store, providers, keys, **kwargs)


def test_both_providers_scored_and_one_winner_per_type(library, sim: Simulator) -> None:
    settings, store = library
    assert [s.partition_key for s in store.library_sets().values()] == [MATRIX_SET, BLADE_RUNNER_SET]
    report = sets_run(settings, store)
    assert [(s.partition_key, s.status) for s in report.sets] == [(MATRIX_SET, "enriched"),
                                                                  (BLADE_RUNNER_SET, "enriched")]
    table = store.collection_candidates([2344])
    assert set(table["provider"]) == {"tmdb", "fanart"} and table["score"].null_count() == 0
    winners = table.filter(pl.col("selected_rank").is_not_null())
    assert sorted(winners["type"]) == sorted(SET_ART_TYPES)  # every type, exactly one winner each
    assert set(winners["selected_rank"]) == {1}
    best = table.sort(["type", "rank"]).group_by("type", maintain_order=True).agg(
        pl.col("candidate_id").filter(pl.col("gate") == "").first())
    assert dict(best.iter_rows()) == dict(winners.select("type", "candidate_id").iter_rows())  # the best eligible
    assert table.filter(pl.col("duplicate_of").is_not_null()).height >= 1  # fanart.tv's copy of TMDB's backdrop
    blobs = BlobStore(settings.cache_dir)
    for art in store.collection_selection([2344])[2344]:
        data = blobs.read_verified(art.blob_sha, art.ext)
        assert data is not None and verify_original(data).width > 0  # downloaded, whole images
    chosen = {a.type: a for a in report.sets[0].chosen}
    assert set(chosen) == set(SET_ART_TYPES) and chosen["discart"].provider == "fanart"

    before = len(sim.requests())
    rows = store.collection_rows()
    again = sets_run(settings, store)
    assert [s.status for s in again.sets] == ["unchanged", "unchanged"]
    assert store.collection_rows() == rows  # nothing written
    assert [r for r in sim.requests()[before:] if r.kind not in ("image", "preview")] == []  # answers cached


def test_a_provider_failure_fails_only_that_set(library, sim: Simulator) -> None:
    settings, store = library
    first = sets_run(settings, store, [MATRIX_SET])  # the Matrix set's answers are cached now
    assert first.sets[0].status == "enriched"
    healthy = sim.config
    sim.set_config(replace(healthy, faults={"fanart_api": Faults(error_rate=1.0)}))
    try:
        report = sets_run(settings, store)
    finally:
        sim.set_config(healthy)
    by_key = {s.partition_key: s for s in report.sets}
    assert by_key[MATRIX_SET].status == "unchanged"
    failed = by_key[BLADE_RUNNER_SET]
    assert failed.status == "failed" and failed.error.startswith("fanart.tv: collection 422837")
    assert 422837 not in store.collection_rows()
    unknown = sets_run(settings, store, ["no-such-set-tmdbcol999"]).sets[0]
    assert unknown.status == "failed" and "no movie of the library belongs to this set" in unknown.error


def test_dagster_materialises_collection_partitions(demo_library: Path, tmp_path: Path,
                                                    dagster_instance) -> None:
    """The fetch registers one ``collections`` partition per set; the sets' assets materialise them in one run."""
    import dagster as dg

    from dagster_project.assets.enrich import provider_metadata
    from dagster_project.assets.scan import library_scan
    from dagster_project.assets.sets import collection_artwork, published_movie_sets
    from dagster_project.automation import movie_partitions_sensor
    from dagster_project.resources import MetarrResource

    root = tmp_path / "library"
    for name in (MATRIX, BLADE_RUNNER, "Se7en (1995) {tmdb-807}"):
        shutil.copytree(demo_library / name, root / name)
    sets = tmp_path / "sets"
    sets.mkdir()
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f'[data]\ndir = "{tmp_path / "state"}"\n[library]\nroots = ["{root}"]\n'
                   f'[providers]\nmode = "simulator"\n[publish]\nmovie_sets_folder = "{sets}"\n', encoding="utf-8")
    resources = {"metarr": MetarrResource(config_path=str(cfg))}
    instance = dagster_instance

    def over(keys: list[str]) -> dict[str, str]:  # one run over a range of partitions (a single-run backfill)
        return {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}

    assert dg.materialize([library_scan], instance=instance, resources=resources).success
    movies = instance.get_dynamic_partitions("movies")
    assert dg.materialize([provider_metadata], instance=instance, resources=resources, tags=over(movies)).success
    # Contexts that build resources are closed in order (``with``): one left to the garbage collector restores a
    # finished instance's state storage into Dagster's ContextVar, and later tests' definitions fail to load.
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        sensed = movie_partitions_sensor(context)
    (add,) = sensed.dynamic_partitions_requests  # the fetch revealed the sets; the movies are in sync
    assert (add.partitions_def_name, sorted(add.partition_keys)) == ("collections", [BLADE_RUNNER_SET, MATRIX_SET])
    instance.add_dynamic_partitions("collections", list(add.partition_keys))

    keys = instance.get_dynamic_partitions("collections")
    result = dg.materialize([collection_artwork, published_movie_sets], instance=instance, resources=resources,
                            tags=over(keys))
    assert result.success
    shutil.rmtree(root / BLADE_RUNNER)  # its set's last movie leaves: the next scan drops the set's partition
    assert dg.materialize([library_scan], instance=instance, resources=resources).success
    assert instance.get_dynamic_partitions("collections") == [MATRIX_SET]
    done = {m.partition for m in result.asset_materializations_for_node("collection_artwork")}
    assert done == set(keys)
    for title in ("The Matrix Collection", "Blade Runner Collection"):
        assert {"poster.jpg", "clearlogo.png", "discart.png", "set.nfo"} <= {p.name for p in (sets / title).iterdir()}
    status = instance.get_latest_materialization_event(dg.AssetKey("collection_artwork"))
    assert status is not None


def test_review_page_lists_sets_with_their_chosen_art(library) -> None:
    from starlette.testclient import TestClient

    from metarr_pipeline.review.app import ReviewApp

    settings, store = library
    with TestClient(ReviewApp(settings, "http://127.0.0.1:9").asgi(), base_url="http://127.0.0.1:8300") as client:
        before = client.get("/sets")
        assert before.status_code == 200 and "No art chosen yet" in before.text
        sets_run(settings, store)
        page = client.get("/sets").text
        assert "The Matrix Collection" in page and MATRIX_SET in page and "Blade Runner Collection" in page
        assert page.count('src="/set-art/2344/') == len(SET_ART_TYPES)
        image = client.get("/set-art/2344/discart")
        assert image.headers["content-type"] == "image/jpeg" and verify_original(image.content).width > 0
        assert client.get("/set-art/2344/keyart").headers["content-type"] == "image/svg+xml"  # a placeholder


def test_the_sets_schedule_asks_for_the_sets_due(library, dagster_instance) -> None:
    """New sets are due; once chosen, none is, until the providers' TTL passes."""
    from datetime import datetime, timedelta

    import dagster as dg

    from dagster_project.automation import movie_sets_schedule
    from dagster_project.resources import MetarrResource
    from metarr_pipeline.orchestration import sets_due

    settings, store = library
    assert sets_due(settings, store) == sorted([MATRIX_SET, BLADE_RUNNER_SET])
    instance = dagster_instance
    instance.add_dynamic_partitions("collections", [MATRIX_SET, BLADE_RUNNER_SET])
    resources = {"metarr": MetarrResource(config_path=str(settings.config_path))}
    tick = datetime(2026, 11, 24, 4, 0)
    with dg.build_schedule_context(instance=instance, resources=resources, scheduled_execution_time=tick) as context:
        (request,) = movie_sets_schedule(context)
    assert request.run_key == "sets-20261124T0400-0"
    assert (request.tags["dagster/asset_partition_range_start"],
            request.tags["dagster/asset_partition_range_end"]) == (MATRIX_SET, BLADE_RUNNER_SET)
    sets_run(settings, store)
    assert sets_due(settings, store) == []
    with dg.build_schedule_context(instance=instance, resources=resources, scheduled_execution_time=tick) as context:
        skipped = movie_sets_schedule(context)
    assert isinstance(skipped, dg.SkipReason)
    later = datetime.now() + timedelta(days=settings.providers.fanart.cache_ttl_days + 1)
    assert sets_due(settings, store, later) == sorted([MATRIX_SET, BLADE_RUNNER_SET])


def test_an_image_host_down_leaves_the_set_due_and_the_next_run_completes_it(library, sim: Simulator) -> None:
    """fanart.tv's image host failing: the set gets what TMDB offers, is marked for a retry (due for the schedule);
    the next run, with the host back, chooses every type and clears the mark."""
    from metarr_pipeline.orchestration import sets_due

    settings, store = library
    healthy = sim.config
    sim.set_config(replace(healthy, faults={"fanart_assets": Faults(error_rate=1.0)}))
    try:
        first = {s.partition_key: s for s in sets_run(settings, store, [MATRIX_SET]).sets}[MATRIX_SET]
    finally:
        sim.set_config(healthy)
    assert first.status == "enriched" and any("image analysis failed" in w for w in first.warnings)
    assert {a.type for a in first.chosen} == {"poster", "fanart", "landscape"}  # TMDB's posters and backdrops
    assert MATRIX_SET in sets_due(settings, store)
    second = sets_run(settings, store, [MATRIX_SET]).sets[0]
    assert second.status == "enriched" and not second.warnings
    assert {a.type for a in second.chosen} == set(SET_ART_TYPES)
    assert MATRIX_SET not in sets_due(settings, store)
