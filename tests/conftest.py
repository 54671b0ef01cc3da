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
