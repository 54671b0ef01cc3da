"""The bench's Dagster instance: SQLite (``dagster.yaml``, the default) or PostgreSQL (``dagster.postgres.yaml``,
``make bench INSTANCE=postgres``).

A PostgreSQL instance is a fresh database on the checkout's private cluster (``dagster_project.postgres_cluster``,
started when needed), one per bench DAGSTER_HOME, emptied whenever the home is; its URL (with the password) is
kept in the home (``pg_url``, mode 0600) for the worker's environment, never on a command line. Event batching
(``DAGSTER_EVENT_BATCH_SIZE``) is on for both, as the Makefile sets it; only PostgreSQL's storage uses it.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from bench import ROOT

INSTANCES = ("sqlite", "postgres")
URL_FILE = "pg_url"


def fresh_dagster_home(path: Path, instance: str = "sqlite") -> None:
    """An empty instance in ``path``: a new directory, and for PostgreSQL a new database."""
    if instance not in INSTANCES:
        raise ValueError(f"unknown Dagster instance {instance!r}: one of {', '.join(INSTANCES)}")
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    if instance == "sqlite":
        shutil.copyfile(ROOT / "dagster.yaml", path / "dagster.yaml")
        return
    from dagster_project.postgres_cluster import ensure_running

    cluster, _ = ensure_running()
    database = "bench_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    cluster.drop_database(database)
    cluster.create_database(database, exist_ok=False)
    shutil.copyfile(ROOT / "dagster.postgres.yaml", path / "dagster.yaml")
    url_file = path / URL_FILE
    url_file.write_text(cluster.url(database), encoding="utf-8")
    url_file.chmod(0o600)


def drop_instance(path: Path) -> None:
    """Remove a scratch home's PostgreSQL database (its directory is the caller's to delete)."""
    url_file = path / URL_FILE
    if url_file.exists():
        from dagster_project.postgres_cluster import Cluster, cluster_dir

        Cluster(cluster_dir()).drop_database(url_file.read_text(encoding="utf-8").strip().rsplit("/", 1)[1])


def instance_env(dagster_home: Path) -> dict[str, str]:
    """What a worker on this home needs besides DAGSTER_HOME: a PostgreSQL instance's URL."""
    env: dict[str, str] = {}
    url_file = dagster_home / URL_FILE
    if url_file.exists():
        from dagster_project.postgres_cluster import URL_ENV

        env[URL_ENV] = url_file.read_text(encoding="utf-8").strip()
    return env
