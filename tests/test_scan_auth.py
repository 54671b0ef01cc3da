"""A 401 from TMDB during the scan's identification stops the run with "check your key" (issue 16, point 7).

Before, every search failure was recorded per movie: a wrong key exited 0 with the whole library marked
unidentified. Against the real loopback simulator, which refuses any key but its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.assets.scan import library_scan
from dagster_project.resources import MetarrResource
from metarr_pipeline.cli import main
from metarr_pipeline.config import load_settings
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import make_settings

WRONG = "wrong-Key-0000-SECRET"


@pytest.fixture(params=["search", "imdb"])
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          request: pytest.FixtureRequest) -> Iterator[tuple[Path, Simulator]]:
    """A library identified by TMDB search only, or through an IMDb id (TMDB's /find): both rungs ask TMDB."""
    for var in ("TMDB_READ_ACCESS_TOKEN", "FANART_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TMDB_API_KEY", WRONG)
    root = tmp_path / "lib"
    names = ("The Matrix (1999)", "Heat (1995)") if request.param == "search" else ("The Matrix {imdb-tt0133093}",)
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / f"{name}.mkv").write_bytes(b"\x1a\x45\xdf\xa3" + b"\0" * 64)
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "simcache", api_key="the-right-key")) as sim:
        cfg = make_settings(tmp_path, sim, root=root, providers="max_attempts = 1").config_path
        yield cfg, sim


def test_cli_scan_with_a_wrong_key_stops_non_zero_and_marks_nothing(
        setup: tuple[Path, Simulator], capsys: pytest.CaptureFixture[str]) -> None:
    cfg, sim = setup
    assert main(["--config", str(cfg), "scan"]) == 1
    captured = capsys.readouterr()
    assert "check your TMDB key" in captured.err and WRONG not in captured.out + captured.err
    assert len([r for r in sim.requests("tmdb_api") if r.status == 401]) == 1  # stopped at the first 401
    assert Store(load_settings(cfg).database_path).movies() == []  # nothing recorded as unidentified


def test_scan_asset_with_a_wrong_key_fails_with_check_your_key(setup: tuple[Path, Simulator]) -> None:
    cfg, _ = setup
    with dg.instance_for_test() as instance:
        result = dg.materialize([library_scan], instance=instance, raise_on_error=False,
                                resources={"metarr": MetarrResource(config_path=str(cfg))})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "check your TMDB key" in str(failure.event_specific_data.error)
    assert WRONG not in str(failure.event_specific_data.error)
