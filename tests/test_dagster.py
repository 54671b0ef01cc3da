"""Dagster: the definitions load, the scan registers partitions, the sensor keeps them in sync."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.assets.scan import library_scan, scanned_movie
from dagster_project.automation import movie_partitions_sensor
from dagster_project.definitions import defs
from dagster_project.partitions import movies_partitions
from dagster_project.resources import MetarrResource
from metarr_pipeline.config import load_settings
from metarr_pipeline.scan.scan import scan_library
from metarr_pipeline.store import Store


@pytest.fixture
def library(demo_library: Path, tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "library"
    shutil.copytree(demo_library, root)
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f'[data]\ndir = "{tmp_path / "state"}"\n[library]\nroots = ["{root}"]\n'
                   '[providers]\nmode = "simulator"\n', encoding="utf-8")
    return root, cfg


def scan_metadata(result: dg.ExecuteInProcessResult) -> dict:
    """library_scan's own materialisation (the step also materialises scanned_movie partitions)."""
    return next(m.metadata for m in result.asset_materializations_for_node("library_scan")
                if m.asset_key == dg.AssetKey("library_scan"))


def test_definitions_load_with_the_expected_graph() -> None:
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"library_scan", "scanned_movie"} <= keys
    assert graph.get(dg.AssetKey("scanned_movie")).partitions_def == movies_partitions
    assert defs.resolve_job_def("scan_library_job") is not None
    assert defs.resolve_sensor_def("movie_partitions_sensor") is not None


def test_library_scan_registers_partitions_and_reports_counts(library: tuple[Path, Path],
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             dagster_instance: dg.DagsterInstance) -> None:
    """On both instances (SQLite and PostgreSQL): materialisations, their metadata and dynamic partitions."""
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    monkeypatch.delenv("TMDB_READ_ACCESS_TOKEN", raising=False)
    root, cfg = library
    instance = dagster_instance
    result = dg.materialize([library_scan], instance=instance,
                            resources={"metarr": MetarrResource(config_path=str(cfg))})
    assert result.success
    meta = scan_metadata(result)
    assert meta["found"].value == 13 and meta["identified"].value == 12 and meta["unidentified"].value == 1
    assert meta["probed"].value == 13 and meta["partitions_added"].value == 12
    assert "Untitled Home Video" in meta["problems"].value
    keys = instance.get_dynamic_partitions("movies")
    assert "the-matrix-1999-tmdb603" in keys and "schindler-s-list-1993-tmdb424" in keys and len(keys) == 12
    assert "kimi-no-na-wa-2016-tmdb372058" in keys  # found through its alternative title

    # One movie per partition: materialise one from the picker's point of view.
    result = dg.materialize([scanned_movie], instance=instance, partition_key="blade-runner-2049-2017-tmdb335984",
                            resources={"metarr": MetarrResource(config_path=str(cfg))})
    assert result.success
    meta = result.asset_materializations_for_node("scanned_movie")[0].metadata
    assert meta["tmdb_id"].value == 335984
    assert "hevc" in meta["streams"].value and "hdr10" in meta["streams"].value

    # A rescan after a movie is deleted removes exactly its partition.
    shutil.rmtree(root / "Se7en (1995) {tmdb-807}")
    result = dg.materialize([library_scan], instance=instance,
                            resources={"metarr": MetarrResource(config_path=str(cfg))})
    meta = scan_metadata(result)
    assert meta["gone"].value == 1 and meta["partitions_removed"].value == 1 and meta["probed"].value == 0
    assert "se7en-1995-tmdb807" not in instance.get_dynamic_partitions("movies")


def test_sensor_adds_new_and_removes_gone_movies_after_a_cli_scan(library: tuple[Path, Path],
                                                                   dagster_instance: dg.DagsterInstance) -> None:
    root, cfg = library
    settings = load_settings(cfg)
    scan_library(settings, Store(settings.database_path))  # what `metarr scan` does
    resource = MetarrResource(config_path=str(cfg))
    instance = dagster_instance
    ctx = dg.build_sensor_context(instance=instance, resources={"metarr": resource})
    result = movie_partitions_sensor(ctx)
    assert isinstance(result, dg.SensorResult)
    (add,) = result.dynamic_partitions_requests
    assert isinstance(add, dg.AddDynamicPartitionsRequest) and len(add.partition_keys) == 9
    instance.add_dynamic_partitions("movies", list(add.partition_keys))

    # In sync: the sensor skips.
    result = movie_partitions_sensor(dg.build_sensor_context(instance=instance, resources={"metarr": resource}))
    assert result.skip_reason is not None and "in sync" in str(result.skip_reason)

    shutil.rmtree(root / "Heat (1995) {tmdb-949}")
    scan_library(settings, Store(settings.database_path))
    result = movie_partitions_sensor(dg.build_sensor_context(instance=instance, resources={"metarr": resource}))
    (delete,) = result.dynamic_partitions_requests
    assert isinstance(delete, dg.DeleteDynamicPartitionsRequest)
    assert list(delete.partition_keys) == ["heat-1995-tmdb949"]


def test_scan_asset_turns_a_bad_config_into_a_readable_failure(tmp_path: Path) -> None:
    cfg = tmp_path / "metarr.toml"
    cfg.write_text('[library]\nroots = ["missing"]\n', encoding="utf-8")
    with dg.instance_for_test() as instance:
        result = dg.materialize([library_scan], instance=instance, raise_on_error=False,
                                resources={"metarr": MetarrResource(config_path=str(cfg))})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "library.roots[0]" in str(failure.event_specific_data.error)


def test_asset_code_versions_follow_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The artwork assets' code version is the enrichment config fingerprint (publish: the publish one), so a
    config change shows up in the UI as "code version changed" once the code location reloads."""
    from dagster_project.code_versions import config_code_versions
    from dagster_project.definitions import defs
    from metarr_pipeline.config import DEMO_CONFIG, load_settings
    from metarr_pipeline.fingerprints import config_fingerprint, publish_fingerprint

    demo = load_settings(DEMO_CONFIG, check_roots=False)
    monkeypatch.delenv("METARR_CONFIG", raising=False)
    assert config_code_versions() == (config_fingerprint(demo), publish_fingerprint(demo))
    versions = defs.resolve_assets_def("artwork_selection").code_versions_by_key
    assert {versions[dg.AssetKey(k)] for k in ("artwork_candidates", "artwork_selection", "cached_artwork",
                                               "actor_thumbnails")} == {config_fingerprint(demo)}
    changed = tmp_path / "metarr.toml"
    changed.write_text(DEMO_CONFIG.read_text(encoding="utf-8") + "\n[scoring.weights]\nlanguage = 55\n",
                       encoding="utf-8")
    monkeypatch.setenv("METARR_CONFIG", str(changed))
    enrich_version, publish_version = config_code_versions()
    assert enrich_version != config_fingerprint(demo) and publish_version == publish_fingerprint(demo)
    broken = tmp_path / "broken.toml"
    broken.write_text("this is not toml [", encoding="utf-8")
    monkeypatch.setenv("METARR_CONFIG", str(broken))
    assert config_code_versions() == (None, None)


def test_a_bad_enrich_cron_is_a_config_error_not_a_broken_code_location(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The cron is read as the definitions load: a bad one must fail the config (named key), leaving the schedule
    stopped on its default, never reach Dagster, which would refuse the whole code location."""
    from dagster_project.automation import enrich_schedule_cron
    from metarr_pipeline.errors import ConfigError

    cfg = tmp_path / "metarr.toml"
    cfg.write_text('[schedule]\nenrich_cron = "0 25 * * *"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"schedule\.enrich_cron"):
        load_settings(cfg, check_roots=False)
    monkeypatch.setenv("METARR_CONFIG", str(cfg))
    assert enrich_schedule_cron() == ("0 4 * * *", dg.DefaultScheduleStatus.STOPPED)


def test_failures_metadata_lists_failed_movies_or_nothing() -> None:
    from types import SimpleNamespace

    from dagster_project.metadata import failures_metadata

    assert failures_metadata([]) == {}
    failed = [SimpleNamespace(partition_key=f"m{i}", error=f"bad | {i}") for i in range(3)]
    table = failures_metadata(failed, limit=2)["failures"].value
    assert "m0" in table and "m1" in table and "m2" not in table and "bad \\| 0" in table


def test_every_step_that_talks_to_the_providers_is_in_the_providers_pool() -> None:
    """Each run's process keeps the providers' limits on its own and the daemon runs up to four runs at once: only
    a pool of 1 (``dagster.yaml``'s default limit) keeps a library-wide enrichment in several runs within them.
    A step talks to the providers when its code opens a provider session (``metarr.providers()``)."""
    import inspect
    import textwrap

    from dagster_project.pools import LIBRARY_WRITES, PROVIDERS

    talking, pools = set(), {}
    for assets_def in defs.resolve_asset_graph().assets_defs:
        if not assets_def.is_executable:
            continue
        source = textwrap.dedent(inspect.getsource(assets_def.op.compute_fn.decorated_fn))
        name = assets_def.op.name
        pools[name] = assets_def.op.pool
        if "metarr.providers()" in source:
            talking.add(name)
    assert {"provider_metadata", "enriched_artwork", "collection_artwork"} <= talking
    # Not in it (pools.py says why): the scan (a few identification searches) and publish (in the library
    # writes' pool; it only fetches an original an offline re-score deferred).
    left_out = {"library_scan"} | {name for name, pool in pools.items() if pool == LIBRARY_WRITES}
    assert {name for name, pool in pools.items() if pool == PROVIDERS} == talking - left_out
    import yaml
    for name in ("dagster.yaml", "dagster.postgres.yaml"):
        config = yaml.safe_load((Path(__file__).parents[1] / name).read_text())
        assert config["concurrency"]["pools"]["default_limit"] == 1, name
