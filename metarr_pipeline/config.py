"""Settings: one typed, frozen object resolved at run time from a TOML file and the environment.

Why a hand-rolled loader rather than pydantic: the rules we need are few (unknown keys are errors, types
are checked, relative paths resolve against the config file, secrets never come from the file) and the
error message must name the file and the dotted key in words a user understands. Defaults live here, in
the dataclasses, and nowhere else.

Resolution order of the file: ``--config`` → ``$METARR_CONFIG`` → the bundled demo config.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from metarr_pipeline.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = PROJECT_ROOT / "data" / "demo" / "metarr.toml"
CONFIG_ENV = "METARR_CONFIG"
# Environment overrides of provider base URLs (point the same config at a proxy or the simulator).
URL_OVERRIDES = {
    "METARR_TMDB_API_URL": ("tmdb", "api_url"),
    "METARR_TMDB_IMAGE_URL": ("tmdb", "image_url"),
    "METARR_FANART_API_URL": ("fanart", "api_url"),
}

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DRIVE = re.compile(r"^[A-Za-z]:(?:[/\\]|$)")

ARTWORK_TYPES = ("poster", "fanart", "clearlogo", "clearart", "discart", "banner", "landscape", "keyart")

# Keys that look like secrets are refused in the file with a pointer to the environment variable.
_SECRET_KEYS = {
    "api_key": "TMDB_API_KEY / FANART_API_KEY",
    "read_access_token": "TMDB_READ_ACCESS_TOKEN",
    "token": "the player's token variable",
    "password": "the player's password variable",
    "client_key": "FANART_CLIENT_KEY",
}


@dataclass(frozen=True)
class LibrarySettings:
    roots: tuple[Path, ...] = ()
    # Extra regular expressions (case-insensitive, matched against the path below the root, with '/'
    # separators) for files and folders to ignore, on top of Kodi's own exclusions.
    ignore_patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScanSettings:
    # Probing is I/O bound on network shares; a few threads hide the latency without thrashing a NAS.
    probe_workers: int = 4


@dataclass(frozen=True)
class LanguageSettings:
    # ISO 639-1 code of the language the user wants metadata and artwork in.
    preferred: str = "en"


@dataclass(frozen=True)
class TmdbSettings:
    api_url: str = "https://api.themoviedb.org/3"
    image_url: str = "https://image.tmdb.org/t/p"
    requests_per_second: float = 40.0
    max_connections: int = 20
    timeout_seconds: float = 15.0
    cache_ttl_days: float = 7.0
    # Image CDN politeness (image.tmdb.org is a CDN: no documented rps limit, ~20 connections).
    image_requests_per_second: float = 100.0
    image_max_connections: int = 20


@dataclass(frozen=True)
class FanartSettings:
    enabled: bool = True
    api_url: str = "https://webservice.fanart.tv/v3"
    requests_per_second: float = 20.0
    max_connections: int = 10
    timeout_seconds: float = 15.0
    cache_ttl_days: float = 7.0
    image_requests_per_second: float = 50.0
    image_max_connections: int = 10


@dataclass(frozen=True)
class ProviderSettings:
    # "auto": the built-in simulator when no TMDB key is in the environment, the real providers otherwise;
    # "simulator": always the simulator (offline demo); "network": always the configured URLs.
    mode: str = "auto"
    tmdb: TmdbSettings = field(default_factory=TmdbSettings)
    fanart: FanartSettings = field(default_factory=FanartSettings)
    # Hosts artwork may be downloaded from; anything else a provider points at is refused.
    image_hosts: tuple[str, ...] = ("image.tmdb.org", "assets.fanart.tv")
    # Bounded retries with jittered exponential backoff on 429/5xx/timeouts/connection errors.
    max_attempts: int = 5
    backoff_seconds: float = 0.5
    max_response_mb: float = 8.0
    max_image_mb: float = 40.0


def _default_counts() -> dict[str, int]:
    from metarr_pipeline.art_types import default_counts  # per-type defaults live in the one table

    return default_counts()


@dataclass(frozen=True)
class ArtworkSettings:
    # How many images of each type to keep; 0 disables the type.
    counts: dict[str, int] = field(default_factory=_default_counts)


def _default_weights() -> dict[str, float]:
    return {"resolution": 30.0, "aspect": 20.0, "language": 20.0, "community": 20.0, "provider": 10.0}


@dataclass(frozen=True)
class ScoringSettings:
    weights: dict[str, float] = field(default_factory=_default_weights)
    # Provider preference on a 0..1 scale, multiplied by the provider weight.
    provider_preference: dict[str, float] = field(default_factory=lambda: {"tmdb": 1.0, "fanart": 0.9})


@dataclass(frozen=True)
class ActorSettings:
    max_actors: int = 15


@dataclass(frozen=True)
class PublishSettings:
    auto_publish: bool = False
    extrafanart: bool = False


@dataclass(frozen=True)
class ScheduleSettings:
    # Cron expression for library-wide enrichment; empty means the schedule is off.
    enrich_cron: str = ""
    # Library-wide work is split into runs of at most this many movies (a run per movie costs seconds of
    # process start-up; one huge run holds everything in memory).
    max_movies_per_run: int = 500


PLAYER_TYPES = ("kodi", "jellyfin", "plex")


@dataclass(frozen=True)
class PlayerSettings:
    """One media player to tell about every publish (``[[players]]``; any number of them).

    Credentials are never in the file: ``*_env`` name the environment variables that hold them.
    """

    type: str  # kodi | jellyfin | plex
    url: str  # http(s)://host:port (Kodi: its web server; "/jsonrpc" is added)
    name: str = ""  # how notifications, logs and the UI name this player; default: the type
    enabled: bool = True
    username_env: str = ""  # Kodi: the web server's user (default "kodi" when only a password is set)
    password_env: str = ""  # Kodi: the web server's password
    token_env: str = ""  # Jellyfin: an API key; Plex: an X-Plex-Token
    # Library path → the same folder as the player sees it (longest prefix wins; "\\" and "/" are
    # equivalent). Empty: the player sees the library at the same paths.
    path_mappings: dict[str, str] = field(default_factory=dict)
    # Kodi: while something is playing, defer notifications (a scan can stutter playback) and retry later.
    skip_while_playing: bool = True
    timeout_seconds: float = 5.0  # players are on the LAN: a slow one is treated as offline
    retry_seconds: float = 60.0  # first retry after a failure; doubled each time, capped at one hour
    max_attempts: int = 24  # failures before giving up (about a day); `metarr players notify --now` retries
    defer_seconds: float = 300.0  # retry delay while the player is busy playing

    @property
    def label(self) -> str:
        return self.name or self.type


@dataclass(frozen=True)
class Settings:
    config_path: Path
    data_dir: Path
    library: LibrarySettings = field(default_factory=LibrarySettings)
    scan: ScanSettings = field(default_factory=ScanSettings)
    languages: LanguageSettings = field(default_factory=LanguageSettings)
    providers: ProviderSettings = field(default_factory=ProviderSettings)
    artwork: ArtworkSettings = field(default_factory=ArtworkSettings)
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    actors: ActorSettings = field(default_factory=ActorSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    players: tuple[PlayerSettings, ...] = ()

    @property
    def enabled_players(self) -> tuple[PlayerSettings, ...]:
        return tuple(p for p in self.players if p.enabled)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "metarr.duckdb"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


def resolve_config_path(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """Which file to load: the CLI flag, then ``$METARR_CONFIG``, then the bundled demo config."""
    if cli_value:
        return Path(cli_value).expanduser().resolve()
    env = os.environ.get(CONFIG_ENV, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    return DEMO_CONFIG


def load_settings(path: str | os.PathLike[str] | None = None, *, check_roots: bool = True) -> Settings:
    """Load and validate the settings file.

    ``check_roots=False`` is for commands that create the library first (the demo) or never read it.
    """
    config_path = resolve_config_path(path)
    try:
        raw = config_path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{config_path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read config file ({exc.strerror})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{config_path}: config file is not UTF-8 ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML: {exc}") from exc

    loader = _Loader(config_path)
    data_section = data.pop("data", {})
    if not isinstance(data_section, dict):
        raise ConfigError(f"{config_path}: 'data' must be a table")
    unknown = set(data_section) - {"dir"}
    if unknown:
        raise ConfigError(f"{config_path}: unknown key 'data.{sorted(unknown)[0]}' (known: dir)")
    data_dir = loader.path(data_section.get("dir", "runtime/state"), "data.dir")

    values = {"config_path": config_path, "data_dir": data_dir}
    settings_fields = {f.name: f for f in fields(Settings)}
    for key, value in data.items():
        if key not in settings_fields or key in values:
            raise ConfigError(loader.unknown_key(key, [*settings_fields, "data"]))
        values[key] = loader.convert(value, _hints(Settings)[key], key)
    settings = _with_url_overrides(Settings(**values))
    settings = replace(settings, players=tuple(_resolve_mappings(p, loader) for p in settings.players))
    _validate(settings, loader, check_roots=check_roots)
    return settings


def _resolve_mappings(player: PlayerSettings, loader: _Loader) -> PlayerSettings:
    """Relative library paths in a player's path mappings resolve against the config file, like every path."""
    def absolute(path: str) -> str:
        if path.startswith(("/", "\\")) or _DRIVE.match(path) or "://" in path:
            return path
        return str(loader.path(path, "path_mappings"))

    return replace(player, path_mappings={absolute(k): v for k, v in player.path_mappings.items()})


def _with_url_overrides(settings: Settings) -> Settings:
    providers = settings.providers
    for var, (provider, attr) in URL_OVERRIDES.items():
        value = os.environ.get(var, "").strip()
        if value:
            section = replace(getattr(providers, provider), **{attr: value.rstrip("/")})
            providers = replace(providers, **{provider: section})
    return replace(settings, providers=providers)


def _validate(settings: Settings, loader: _Loader, *, check_roots: bool) -> None:
    where = loader.file
    for index, root in enumerate(settings.library.roots):
        if check_roots and not root.is_dir():
            state = "does not exist" if not root.exists() else "is not a folder"
            raise ConfigError(f"{where}: library.roots[{index}] = '{root}' {state}")
    if check_roots and not settings.library.roots:
        raise ConfigError(f"{where}: library.roots is empty: name at least one library folder")
    for kind in settings.artwork.counts:
        if kind not in ARTWORK_TYPES:
            raise ConfigError(f"{where}: unknown artwork type 'artwork.counts.{kind}' "
                              f"(known: {', '.join(ARTWORK_TYPES)})")
    for kind, count in settings.artwork.counts.items():
        if count < 0:
            raise ConfigError(f"{where}: artwork.counts.{kind} must be 0 or more, got {count}")
    if settings.schedule.max_movies_per_run < 1:
        raise ConfigError(f"{where}: schedule.max_movies_per_run must be at least 1")
    if settings.scan.probe_workers < 1:
        raise ConfigError(f"{where}: scan.probe_workers must be at least 1")
    lang = settings.languages.preferred
    if len(lang) != 2 or not lang.isalpha() or not lang.islower():
        raise ConfigError(f"{where}: languages.preferred must be a two-letter ISO 639-1 code like 'en', "
                          f"got '{lang}'")
    if settings.providers.mode not in ("auto", "simulator", "network"):
        raise ConfigError(f"{where}: providers.mode must be 'auto', 'simulator' or 'network', "
                          f"got '{settings.providers.mode}'")
    if settings.providers.max_attempts < 1:
        raise ConfigError(f"{where}: providers.max_attempts must be at least 1")
    for name in ("requests_per_second", "max_connections", "timeout_seconds", "image_requests_per_second",
                 "image_max_connections"):
        for provider in ("tmdb", "fanart"):
            value = getattr(getattr(settings.providers, provider), name)
            if value <= 0:
                raise ConfigError(f"{where}: providers.{provider}.{name} must be positive, got {value}")
    _validate_players(settings.players, where)


def _validate_players(players: tuple[PlayerSettings, ...], where: Path) -> None:
    seen: dict[str, int] = {}
    for i, p in enumerate(players):
        key = f"players[{i}]"
        if p.type not in PLAYER_TYPES:
            raise ConfigError(f"{where}: {key}.type must be one of {', '.join(PLAYER_TYPES)}, got '{p.type}'")
        parts = urlsplit(p.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where}: {key}.url must be an http:// or https:// URL like "
                              f"'http://192.168.1.20:8080', got '{p.url}'")
        if parts.username or parts.password or "token=" in p.url.lower():
            raise ConfigError(f"{where}: {key}.url contains credentials; secrets are read from the environment "
                              "only (username_env / password_env / token_env), never from the config file")
        for name in ("username_env", "password_env", "token_env"):
            value = getattr(p, name)
            if value and not _ENV_NAME.fullmatch(value):
                raise ConfigError(f"{where}: {key}.{name} must name an environment variable (like "
                                  f"'JELLYFIN_TOKEN'), got '{value}'")
        if p.type in ("jellyfin", "plex") and not p.token_env:
            raise ConfigError(f"{where}: {key}.token_env is required for {p.type}: name the environment variable "
                              "that holds its token")
        if p.username_env and not p.password_env:
            raise ConfigError(f"{where}: {key}.password_env is required when username_env is set")
        for name in ("timeout_seconds", "retry_seconds", "defer_seconds"):
            if getattr(p, name) <= 0:
                raise ConfigError(f"{where}: {key}.{name} must be positive, got {getattr(p, name)}")
        if p.max_attempts < 1:
            raise ConfigError(f"{where}: {key}.max_attempts must be at least 1")
        for source, target in p.path_mappings.items():
            if not source.strip() or not target.strip():
                raise ConfigError(f"{where}: {key}.path_mappings: empty path in '{source}' = '{target}'")
        if p.label in seen:
            raise ConfigError(f"{where}: {key} is named '{p.label}' like players[{seen[p.label]}]: give each "
                              "player a distinct name")
        seen[p.label] = i


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


class _Loader:
    """Converts TOML values into the dataclass tree, naming the file and dotted key on every error."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.base = file.parent

    def unknown_key(self, key: str, known: list[str]) -> str:
        if key.rsplit(".", 1)[-1] in _SECRET_KEYS:
            var = _SECRET_KEYS[key.rsplit(".", 1)[-1]]
            return (f"{self.file}: '{key}' looks like a secret; secrets are read from the environment only "
                    f"({var}), never from the config file")
        return f"{self.file}: unknown key '{key}' (known here: {', '.join(sorted(known))})"

    def path(self, value: Any, key: str) -> Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{self.file}: '{key}' must be a path string, got {_describe(value)}")
        p = Path(value).expanduser()
        return (p if p.is_absolute() else self.base / p).resolve()

    def convert(self, value: Any, hint: Any, key: str) -> Any:
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if is_dataclass(hint):
            return self.dataclass(value, hint, key)
        if hint is Path:
            return self.path(value, key)
        if hint is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{self.file}: '{key}' must be true or false, got {_describe(value)}")
            return value
        if hint is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{self.file}: '{key}' must be a whole number, got {_describe(value)}")
            return value
        if hint is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{self.file}: '{key}' must be a number, got {_describe(value)}")
            return float(value)
        if hint is str:
            if not isinstance(value, str):
                raise ConfigError(f"{self.file}: '{key}' must be a string, got {_describe(value)}")
            return value
        if origin is tuple:
            if not isinstance(value, list):
                if isinstance(value, dict) and is_dataclass(args[0]):
                    raise ConfigError(f"{self.file}: '{key}' must be an array of tables: write [[{key}]] "
                                      f"above each entry, got {_describe(value)}")
                raise ConfigError(f"{self.file}: '{key}' must be a list, got {_describe(value)}")
            return tuple(self.convert(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
        if origin is dict:
            if not isinstance(value, dict):
                raise ConfigError(f"{self.file}: '{key}' must be a table, got {_describe(value)}")
            return {str(k): self.convert(v, args[1], f"{key}.{k}") for k, v in value.items()}
        if origin in (typing.Union, types.UnionType):
            raise ConfigError(f"{self.file}: '{key}': unsupported optional type")  # pragma: no cover
        raise ConfigError(f"{self.file}: '{key}': unsupported setting type {hint!r}")  # pragma: no cover

    def dataclass(self, value: Any, cls: type, key: str) -> Any:
        if not isinstance(value, dict):
            raise ConfigError(f"{self.file}: '{key}' must be a table, got {_describe(value)}")
        hints = _hints(cls)
        known = {f.name: f for f in fields(cls)}
        converted: dict[str, Any] = {}
        for sub, v in value.items():
            if sub not in known:
                raise ConfigError(self.unknown_key(f"{key}.{sub}", list(known)))
            converted[sub] = self.convert(v, hints[sub], f"{key}.{sub}")
        missing = [name for name, f in known.items()
                   if name not in converted and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            raise ConfigError(f"{self.file}: '{key}.{missing[0]}' is required")
        # Dict-valued settings (counts, weights) merge over their defaults so a user can change one entry.
        for sub, v in list(converted.items()):
            f = known[sub]
            if isinstance(v, dict) and (f.default_factory is not MISSING):
                converted[sub] = {**f.default_factory(), **v}
        return cls(**converted)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"string '{value}'"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
