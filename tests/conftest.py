"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from metarr_pipeline.demo.library import generate_demo_library


@pytest.fixture(scope="session")
def demo_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo library, generated once per test session. Read-only: copy it before changing it."""
    root = tmp_path_factory.mktemp("demo") / "library"
    generate_demo_library(root)
    return root


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
