"""Settings: strict loading, errors that name the key and the file, secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from metarr_pipeline.config import DEMO_CONFIG, load_settings, resolve_config_path
from metarr_pipeline.errors import ConfigError


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "movies").mkdir(exist_ok=True)
    path = tmp_path / "metarr.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_valid_config_resolves_relative_paths_and_merges_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, """
[data]
dir = "state"
[library]
roots = ["movies"]
[artwork.counts]
fanart = 2
[scoring.weights]
language = 35
""")
    s = load_settings(path)
    assert s.data_dir == tmp_path / "state"
    assert s.library.roots == (tmp_path / "movies",)
    assert s.artwork.counts["fanart"] == 2 and s.artwork.counts["poster"] == 3  # merged over defaults
    assert s.scoring.weights["language"] == 35.0 and s.scoring.weights["resolution"] == 30.0
    assert s.database_path == tmp_path / "state" / "metarr.duckdb"
    assert s.publish.auto_publish is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[library]\nroots=["movies"]\ncolour="red"', "unknown key 'library.colour'"),
        ('[library]\nroots=["movies"]\n[nonsense]\nx=1', "unknown key 'nonsense'"),
        ('[library]\nroots=["movies"]\n[scan]\nprobe_workers="four"', "'scan.probe_workers' must be a whole number"),
        ('[library]\nroots=["movies"]\n[publish]\nauto_publish="yes"', "'publish.auto_publish' must be true or false"),
        ('[library]\nroots="movies"', "'library.roots' must be a list"),
        ('[library]\nroots=["nowhere"]', "library.roots[0] = "),
        ('[library]\nroots=["movies"]\n[artwork.counts]\nthumbnail=2', "unknown artwork type 'artwork.counts.thumbnail'"),
        ('[library]\nroots=["movies"]\n[artwork.counts]\nposter=-1', "artwork.counts.poster must be 0 or more"),
        ('[library]\nroots=["movies"]\n[languages]\npreferred="English"', "languages.preferred"),
        ('[library]\nroots=["movies"]\n[providers.tmdb]\napi_key="abc123"', "secrets are read from the environment"),
        ('[library]\nroots=["movies"]\n[providers.tmdb]\nrequests_per_second=0', "providers.tmdb.requests_per_second"),
        ("[library\nroots=1", "not valid TOML"),
    ],
)
def test_bad_config_fails_at_load_naming_key_and_file(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_secret_values_never_echoed_in_errors(tmp_path: Path) -> None:
    path = write(tmp_path, '[library]\nroots=["movies"]\n[providers.fanart]\napi_key="s3cr3t-value"')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert "s3cr3t-value" not in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_resolution_order_flag_then_env_then_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METARR_CONFIG", raising=False)
    assert resolve_config_path() == DEMO_CONFIG
    monkeypatch.setenv("METARR_CONFIG", str(tmp_path / "env.toml"))
    assert resolve_config_path() == tmp_path / "env.toml"
    assert resolve_config_path(tmp_path / "flag.toml") == tmp_path / "flag.toml"


def test_bundled_demo_config_loads() -> None:
    s = load_settings(DEMO_CONFIG, check_roots=False)
    assert s.library.roots and s.data_dir.name == "state"
