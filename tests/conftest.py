"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from metarr_pipeline.demo.library import generate_demo_library

if TYPE_CHECKING:  # Dagster is imported by the fixtures that need it, not by every test module's session
    import dagster as dg

    from dagster_project.postgres_cluster import Cluster
    from metarr_pipeline.simulator import Simulator


@pytest.fixture(scope="session")
def demo_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo library, generated once per test session. Read-only: copy it before changing it."""
    root = tmp_path_factory.mktemp("demo") / "library"
    generate_demo_library(root)
    return root


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """One loopback provider simulator per test module, with its default limits (a module needing other knobs
    defines its own ``sim``, which wins over this one)."""
    from metarr_pipeline.simulator import Simulator, SimulatorConfig

    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def real_kodi(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One real, headless Kodi per test module (tests/helpers/kodi_real.py), stopped at the module's end.

    The module chooses its profile with ``def kodi_profile(workdir: Path) -> KodiProfile``. When Kodi
    cannot be found or started the test fails with the reason: it is never skipped.
    """
    from tests.helpers.kodi_real import KodiProfile, KodiUnavailable, start_kodi

    workdir = tmp_path_factory.mktemp("kodi")
    make_profile = getattr(request.module, "kodi_profile", lambda _: KodiProfile())
    try:
        kodi = start_kodi(workdir, make_profile(workdir))
    except KodiUnavailable as exc:
        pytest.fail(f"a real Kodi is needed for this test and could not be started: {exc}", pytrace=False)
    try:
        yield kodi
    finally:
        kodi.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """The checkout's private PostgreSQL cluster, started for this session when it is not running."""
    from tests.helpers.instances import session_cluster

    with session_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgres"])
def dagster_instance(request: pytest.FixtureRequest) -> Iterator[dg.DagsterInstance]:
    """A fresh Dagster instance, once on SQLite and once on PostgreSQL (see tests/helpers/instances.py)."""
    import dagster as dg

    from tests.helpers.instances import postgres_instance

    if request.param == "sqlite":
        with dg.instance_for_test() as instance:
            yield instance
    else:
        with postgres_instance(request.getfixturevalue("pg_cluster")) as instance:
            yield instance
