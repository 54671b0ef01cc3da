"""Dagster tells the same story as the review page: the scan materialises each movie's partition, the auto-publish
sensor's state is the config's switch, contact sheets name the real files and candidate ids."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import dagster as dg
import pytest

from dagster_project.assets.scan import library_scan
from dagster_project.resources import MetarrResource
from metarr_pipeline.artwork.contact_sheet import label_lines
from metarr_pipeline.artwork.review import sheet_label
from tests.test_dagster import scan_metadata


@pytest.fixture
def library(demo_library: Path, tmp_path: Path) -> Path:
    root = tmp_path / "library"
    shutil.copytree(demo_library, root)
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f'[data]\ndir = "{tmp_path / "state"}"\n[library]\nroots = ["{root}"]\n'
                   '[providers]\nmode = "simulator"\n', encoding="utf-8")
    return cfg


def _scanned_movie_events(instance: dg.DagsterInstance) -> list[dg.EventLogRecord]:
    return list(instance.fetch_materializations(dg.AssetKey("scanned_movie"), limit=1000).records)


def test_the_scan_materialises_scanned_movie_for_new_and_changed_movies_only(library: Path) -> None:
    resources = {"metarr": MetarrResource(config_path=str(library))}
    with dg.instance_for_test() as instance:
        assert dg.materialize([library_scan], instance=instance, resources=resources).success
        events = _scanned_movie_events(instance)
        keys = sorted(e.partition_key for e in events)
        assert keys == sorted(instance.get_dynamic_partitions("movies")) and len(keys) == 12
        matrix = next(e for e in events if e.partition_key == "the-matrix-1999-tmdb603")
        meta = matrix.asset_materialization.metadata
        assert meta["tmdb_id"].value == 603 and meta["change"].value == "new"
        assert meta["review_page"].value.endswith("/key/the-matrix-1999-tmdb603")
        assert instance.get_materialized_partitions(dg.AssetKey("scanned_movie")) == set(keys)  # green in the UI

        result = dg.materialize([library_scan], instance=instance, resources=resources)  # nothing changed
        assert result.success and len(_scanned_movie_events(instance)) == 12
        scan_meta = scan_metadata(result)
        assert scan_meta["scanned_movie_partitions_materialised"].value == 0


def test_auto_publish_sensor_runs_exactly_when_the_config_says_so(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_project.automation import auto_publish_status

    on = tmp_path / "on.toml"
    on.write_text("[publish]\nauto_publish = true\n[providers]\nmode = \"simulator\"\n", encoding="utf-8")
    off = tmp_path / "off.toml"
    off.write_text("[publish]\nauto_publish = false\n[providers]\nmode = \"simulator\"\n", encoding="utf-8")
    monkeypatch.setenv("METARR_CONFIG", str(on))
    assert auto_publish_status() == dg.DefaultSensorStatus.RUNNING
    monkeypatch.setenv("METARR_CONFIG", str(off))
    assert auto_publish_status() == dg.DefaultSensorStatus.STOPPED
    broken = tmp_path / "broken.toml"
    broken.write_text("not toml [", encoding="utf-8")
    monkeypatch.setenv("METARR_CONFIG", str(broken))
    assert auto_publish_status() == dg.DefaultSensorStatus.STOPPED


def test_contact_sheet_tiles_are_labelled_with_the_file_name_and_candidate() -> None:
    from dagster_project.assets.artwork import published_names
    from metarr_pipeline.artwork.enrich import ChosenArt, MovieEnrichment
    from metarr_pipeline.store import MovieRecord

    def art(kind: str, rank: int, ext: str) -> ChosenArt:
        return ChosenArt(kind, rank, "c", "tmdb", "en", 1, 1, 1.0, {}, None, ext)

    movie = MovieEnrichment("m", 1, "enriched", chosen=(art("poster", 1, "jpg"), art("poster", 2, "jpg"),
                                                        art("clearlogo", 1, "png")))
    as_file = SimpleNamespace(kind="file", basename="Heat (1995)")
    assert published_names(cast(MovieRecord, as_file), movie) == {
        ("poster", 1): "-poster.jpg", ("poster", 2): "-poster1.jpg", ("clearlogo", 1): "-clearlogo.png"}
    as_disc = SimpleNamespace(kind="dvd", basename="Heat (1995)")  # a disc folder's art has no base name
    assert published_names(cast(MovieRecord, as_disc), movie)[("poster", 2)] == "poster1.jpg"
    assert sheet_label("-poster1.jpg", "28fd542325b25362") == "-poster1.jpg\n28fd5423"
    # drawn under a poster tile (2:3 at the sheet's height: 80 px), both lines whole, nothing cut
    assert label_lines(sheet_label("-clearlogo.png", "28fd542325b25362"), 80) == ["-clearlogo.png", "28fd5423"]


def test_a_scanned_movie_run_over_many_movies_describes_each_on_its_own_partition(library: Path) -> None:
    from dagster_project.assets.scan import scanned_movie
    from dagster_project.run_tags import RANGE_END, RANGE_START

    resources = {"metarr": MetarrResource(config_path=str(library))}
    with dg.instance_for_test() as instance:
        assert dg.materialize([library_scan], instance=instance, resources=resources).success
        keys = instance.get_dynamic_partitions("movies")
        result = dg.materialize([scanned_movie], instance=instance, resources=resources,
                                tags={RANGE_START: keys[0], RANGE_END: keys[-1]})
        assert result.success
        events = [e for e in result.asset_materializations_for_node("scanned_movie")]
        assert sorted(e.partition for e in events) == sorted(keys)
        for event in events:
            meta = event.metadata
            assert "movies" not in meta and "movies_table" not in meta  # no batch totals on a movie's page
            assert meta["review_page"].value.endswith(f"/key/{event.partition}")
            assert event.partition.endswith(f"tmdb{meta['tmdb_id'].value}")
