"""The PostgreSQL Dagster instance: its settings file, the private cluster it runs on, and what it keeps secret."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from dagster_project.postgres_cluster import URL_ENV, Cluster, ensure_running, main

ROOT = Path(__file__).resolve().parent.parent


def test_the_postgres_settings_are_the_sqlite_ones_plus_storage_from_the_environment() -> None:
    sqlite = yaml.safe_load((ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    postgres = yaml.safe_load((ROOT / "dagster.postgres.yaml").read_text(encoding="utf-8"))
    storage = postgres.pop("storage")
    assert postgres == sqlite  # run queue limits, pools, run monitoring: the same on both instances
    assert storage == {"postgres": {"postgres_url": {"env": URL_ENV}}}


def test_an_instance_from_dagster_postgres_yaml_stores_in_postgres_and_never_shows_the_password(
        pg_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "test_yaml_instance"
    pg_cluster.drop_database(name)
    pg_cluster.create_database(name)
    shutil.copy(ROOT / "dagster.postgres.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv(URL_ENV, pg_cluster.url(name))
    assert pg_cluster.url(name).startswith("postgresql+psycopg2://")  # psycopg 3 fails on Dagster's SQL
    try:
        with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
            instance.add_dynamic_partitions("movies", ["a-1999-tmdb1"])
            info = instance.info_str()
        with dg.DagsterInstance.from_config(str(tmp_path)) as again:  # another process's view: the same data
            assert again.get_dynamic_partitions("movies") == ["a-1999-tmdb1"]
        assert pg_cluster.password not in info
    finally:
        pg_cluster.drop_database(name)


def test_the_cluster_is_private_and_a_second_start_reuses_it(pg_cluster: Cluster,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    again, started = ensure_running(pg_cluster.root)
    assert not started and again.port == pg_cluster.port
    assert (pg_cluster.root / "password").stat().st_mode & 0o077 == 0
    assert pg_cluster.socket_dir.stat().st_mode & 0o077 == 0
    conf = (pg_cluster.data / "pg_hba.conf").read_text(encoding="utf-8")
    host_lines = [line.split() for line in conf.splitlines() if line.startswith("host")]
    assert host_lines and all(line[-1] == "scram-sha-256" for line in host_lines)  # TCP needs the password
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert f"127.0.0.1:{pg_cluster.port}" in out and pg_cluster.password not in out
