"""The Dagster instances the Dagster tests run against: SQLite (the demo's default) and PostgreSQL (production).

The PostgreSQL cluster is the checkout's private one (``dagster_project.postgres_cluster``, under
``data/runtime/postgres/`` or ``$METARR_PG_DIR``): started once per test session when it is not running (and
stopped again at the end if this session started it), installed first when the package is missing. Each test
gets a database of its own, dropped afterwards. A cluster that cannot start fails the tests with the reason:
skipping would let the production instance go untested unnoticed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import pytest

from dagster_project.postgres_cluster import Cluster, PostgresError, ensure_running, stop

BATCH_SIZE = "1000"  # what the Makefile and `make serve` export


@contextmanager
def session_cluster() -> Iterator[Cluster]:
    try:
        cluster, started = ensure_running()
    except PostgresError as exc:
        pytest.fail(f"the PostgreSQL Dagster instance cannot start: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        if started:
            stop(cluster.root)


@contextmanager
def postgres_instance(cluster: Cluster) -> Iterator[dg.DagsterInstance]:
    """A fresh database on the session's cluster, with event batching on as in production."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    cluster.create_database(name, exist_ok=False)
    before = os.environ.get("DAGSTER_EVENT_BATCH_SIZE")
    os.environ["DAGSTER_EVENT_BATCH_SIZE"] = BATCH_SIZE
    try:
        with dg.instance_for_test(overrides={"storage": {"postgres": {"postgres_url": cluster.url(name)}}}) as inst:
            yield inst
    finally:
        if before is None:
            os.environ.pop("DAGSTER_EVENT_BATCH_SIZE", None)
        else:
            os.environ["DAGSTER_EVENT_BATCH_SIZE"] = before
        cluster.drop_database(name)
