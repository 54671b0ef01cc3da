"""The bench's Dagster instance (bench/instance.py): SQLite by default, PostgreSQL with INSTANCE=postgres."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from bench import ROOT
from bench.instance import URL_FILE, drop_instance, fresh_dagster_home
from bench.stages import worker_env
from dagster_project.postgres_cluster import URL_ENV, Cluster


def databases(cluster: Cluster) -> set[str]:
    conn = psycopg2.connect(cluster.dsn())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database")
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


def test_a_postgres_bench_home_is_an_empty_database_whose_url_reaches_the_worker_only_by_environment(
        tmp_path: Path, pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "dagster"
    fresh_dagster_home(home, "postgres")
    env = worker_env(tmp_path / "metarr.toml", home)
    url = (home / URL_FILE).read_text(encoding="utf-8")
    database = url.rsplit("/", 1)[1]
    try:
        assert (home / URL_FILE).stat().st_mode & 0o077 == 0
        assert env[URL_ENV] == url and env["DAGSTER_EVENT_BATCH_SIZE"]
        monkeypatch.setenv(URL_ENV, url)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            instance.add_dynamic_partitions("movies", ["m-1"])
        fresh_dagster_home(home, "postgres")  # a cold stage's reset: the same database, emptied
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert instance.get_dynamic_partitions("movies") == []
        drop_instance(home)  # the priming run's scratch home leaves no database behind
        assert database not in databases(pg_cluster)
    finally:
        pg_cluster.drop_database(database)
        shutil.rmtree(home, ignore_errors=True)


def test_a_sqlite_bench_home_has_no_url_and_an_unknown_instance_is_refused(tmp_path: Path) -> None:
    fresh_dagster_home(tmp_path / "d")
    assert URL_ENV not in worker_env(tmp_path / "metarr.toml", tmp_path / "d")
    assert (tmp_path / "d" / "dagster.yaml").read_bytes() == (ROOT / "dagster.yaml").read_bytes()
    with pytest.raises(ValueError, match="unknown Dagster instance 'mysql'"):
        fresh_dagster_home(tmp_path / "e", "mysql")
