"""providers.mode: the default is the real providers; only a config that says "simulator" gets the simulator."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from metarr_pipeline.cli import main
from metarr_pipeline.config import load_settings
from metarr_pipeline.errors import ProviderAuthError
from metarr_pipeline.providers.keys import ProviderKeys
from metarr_pipeline.providers.session import open_providers

KEY_VARS = ("TMDB_API_KEY", "TMDB_READ_ACCESS_TOKEN", "FANART_API_KEY")


def _config(tmp_path: Path, providers: str = "") -> Path:
    root = tmp_path / "lib"
    (root / "The Matrix (1999)").mkdir(parents=True)
    (root / "The Matrix (1999)" / "The Matrix (1999).mkv").write_bytes(b"\0" * 64)
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f'[data]\ndir = "{tmp_path / "state"}"\n[library]\nroots = ["{root}"]\n' + providers,
                   encoding="utf-8")
    return cfg


def test_auto_without_a_key_is_an_error_naming_the_variable_never_the_simulator(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path))
    assert settings.providers.mode == "auto"
    with pytest.raises(ProviderAuthError) as caught, open_providers(settings, ProviderKeys()):
        pass
    assert "TMDB_READ_ACCESS_TOKEN" in str(caught.value) and "TMDB_API_KEY" in str(caught.value)
    assert 'providers.mode = "simulator"' in str(caught.value)
    assert not (settings.cache_dir / "simulator").exists()  # no simulator was started


def test_auto_with_a_key_uses_the_configured_urls(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path))
    with open_providers(settings, ProviderKeys(tmdb_api_key="k")) as session:
        assert session.mode == "network" and session.simulator is None
        assert session.tmdb.api_url == "https://api.themoviedb.org/3"


def test_only_mode_simulator_starts_the_simulator(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path, '[providers]\nmode = "simulator"\n'))
    with open_providers(settings, ProviderKeys()) as session:
        assert session.mode == "simulator" and session.simulator is not None
        host, port = session.tmdb.api_url.split("//")[1].split("/")[0].split(":")
        assert host == "127.0.0.1"
        with socket.create_connection((host, int(port)), timeout=5):
            pass  # it really listens on loopback


def test_cli_scan_without_a_key_fails_clearly_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    cfg = _config(tmp_path)
    assert main(["--config", str(cfg), "scan"]) == 1
    err = capsys.readouterr().err
    assert "TMDB_API_KEY" in err and "no TMDB key" in err
