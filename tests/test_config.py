"""Settings: strict loading, errors that name the key and the file, secrets only from the environment."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from metarr_pipeline.artwork.scoring import PARTS
from metarr_pipeline.config import (
    ARTWORK_TYPES,
    DEMO_CONFIG,
    SCORE_PARTS,
    ActorSettings,
    ArtworkSettings,
    ScheduleSettings,
    load_settings,
    resolve_config_path,
)
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


ROOTS = '[library]\nroots=["movies"]\n'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # A mistyped table entry is refused with the closest known name and the list of known ones.
        ("[scoring.weights]\nresolutoin = 40", "unknown scoring part 'scoring.weights.resolutoin': did you mean "
                                                "'resolution'? (known: resolution, aspect, language, community, "
                                                "provider)"),
        ("[scoring.provider_preference]\nfanrt = 0.5", "'scoring.provider_preference.fanrt': did you mean 'fanart'?"),
        ("[artwork.counts]\npostr = 2", "unknown artwork type 'artwork.counts.postr': did you mean 'poster'?"),
        ("[scan]\nprobe_worker = 2", "unknown key 'scan.probe_worker': did you mean 'probe_workers'?"),
        ("[scheduel]\nenrich_cron = ''", "unknown key 'scheduel': did you mean 'schedule'?"),
        ("[data]\ndri = 'state'", "unknown key 'data.dri': did you mean 'dir'?"),
        # Scores: weights are points a part earns, the provider preference is a part (0..1).
        ("[scoring.weights]\nlanguage = -5", "scoring.weights.language must be 0 or more"),
        ("[scoring.provider_preference]\nfanart = 5", "scoring.provider_preference.fanart must be between 0.0 and "
                                                      "1.0 (the provider part of a score is 0..1"),
        ("[scoring.provider_preference]\ntmdb = -0.1", "scoring.provider_preference.tmdb must be between 0.0"),
        # Every number in its range.
        ("[actors]\nmax_actors = -1", "actors.max_actors must be 0 or more"),
        ("[providers]\nbackoff_seconds = -0.5", "providers.backoff_seconds must be 0 or more"),
        ("[providers]\nmax_response_mb = 0", "providers.max_response_mb must be positive"),
        ("[providers]\nmax_image_mb = -1", "providers.max_image_mb must be positive"),
        ("[providers.tmdb]\ncache_ttl_days = -1", "providers.tmdb.cache_ttl_days must be 0 or more"),
        ("[providers.fanart]\ncache_ttl_days = -0.5", "providers.fanart.cache_ttl_days must be 0 or more"),
        ("[providers.tmdb]\ntimeout_seconds = nan", "providers.tmdb.timeout_seconds must be a finite number"),
        ("[providers.fanart]\nrequests_per_second = inf", "providers.fanart.requests_per_second must be a finite"),
        ("[[players]]\ntype = 'kodi'\nurl = 'http://kodi:70000'", "players[0].url must be an http"),
        ("[[players]]\ntype = 'kodi'\nurl = 'http://kodi:0'", "players[0].url must be an http"),
        # Strings the pipeline parses later are parsed now.
        ("[providers.tmdb]\napi_url = 'api.themoviedb.org/3'", "providers.tmdb.api_url must be an http"),
        ("[providers]\nimage_hosts = ['https://image.tmdb.org/t/p']", "providers.image_hosts[0] must be a host name"),
        ("[library]\nignore_patterns = ['(unclosed']", "library.ignore_patterns[0] is not a valid regular expression"),
        # The schedule's cron is checked at load, never left for Dagster to refuse.
        ("[schedule]\nenrich_cron = 'every night'", "schedule.enrich_cron = 'every night' is not a valid cron"),
        ("[schedule]\nenrich_cron = '0 4 * *'", "schedule.enrich_cron = '0 4 * *' is not a valid cron: it needs 5"),
        ("[schedule]\nenrich_cron = '0 25 * * *'", "the hour field '25' is outside 0..23"),
        ("[schedule]\nenrich_cron = '*/0 4 * * *'", "the minute field '*/0' has a step of 0"),
        ("[schedule]\nenrich_cron = '0 4 * * 1#2'", "schedule.enrich_cron = '0 4 * * 1#2' is not a valid cron"),
        ("[schedule]\nenrich_cron = '0 4 30 2 *'", "the day of month never occurs in the chosen months"),
        ("[schedule]\nenrich_cron = '0 4 * * * *'", "it needs 5 fields"),
    ],
)
def test_out_of_range_values_fail_at_load_naming_key_and_file(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body if body.startswith("[library]") else ROOTS + body)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("cron", ["", "0 4 * * *", "*/15 2-5 * * mon-fri", "30 3 1,15 jan-jun 0", "0 0 29 2 *",
                                  "5/10 * * * 7", "@daily", "  0 4 * * *  "])
def test_valid_crons_load(tmp_path: Path, cron: str) -> None:
    path = write(tmp_path, ROOTS + f"[schedule]\nenrich_cron = '{cron}'")
    assert load_settings(path).schedule.enrich_cron == cron


def test_settings_types_check_their_own_values_outside_the_loader() -> None:
    """A rule sits in its type: a value made in code (replace, a test) is held to it too, naming the key."""
    with pytest.raises(ConfigError, match="max_actors must be 0 or more, got -1"):
        replace(ActorSettings(), max_actors=-1)
    with pytest.raises(ConfigError, match="enrich_cron = 'nightly' is not a valid cron"):
        ScheduleSettings(enrich_cron="nightly")
    with pytest.raises(ConfigError, match=r"unknown artwork type 'counts\.thumb'"):
        ArtworkSettings(counts={"thumb": 1})


def test_a_bad_url_override_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METARR_FANART_API_URL", "webservice.fanart.tv/v3")
    with pytest.raises(ConfigError) as err:
        load_settings(DEMO_CONFIG, check_roots=False)
    assert "providers.fanart.api_url must be an http" in str(err.value) and "$METARR_FANART_API_URL" in str(err.value)


def test_known_names_match_what_the_pipeline_reads() -> None:
    """The weights the config accepts are the parts the scorer sums; the counts are the artwork types."""
    assert SCORE_PARTS == PARTS
    assert set(ArtworkSettings().counts) == set(ARTWORK_TYPES)
