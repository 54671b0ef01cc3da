"""From a TOML file and the environment to a valid ``Settings``: reading, converting, and adding context.

Why a hand-rolled loader rather than pydantic: the rules we need are few (unknown keys are errors, types
are checked, relative paths resolve against the config file, secrets never come from the file) and the
error message must name the file and the dotted key in words a user understands. The value rules are not
here: they are in the settings types; the loader builds each table and, when its type refuses a value, adds
the file and the table's dotted key to the message. What is left here depends on more than a value: the
file's shape, paths relative to the file, the environment, and whether the library folders exist.

Resolution order of the file: ``--config`` → ``$METARR_CONFIG`` → the bundled demo config.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
import typing
from dataclasses import MISSING, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from metarr_pipeline.config.players import PlayerSettings
from metarr_pipeline.config.rules import InvalidSetting, did_you_mean
from metarr_pipeline.config.settings import Settings
from metarr_pipeline.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = PROJECT_ROOT / "data" / "demo" / "metarr.toml"
CONFIG_ENV = "METARR_CONFIG"
# Environment overrides of provider base URLs (point the same config at a proxy or the simulator).
URL_OVERRIDES = {
    "METARR_TMDB_API_URL": ("tmdb", "api_url"),
    "METARR_TMDB_IMAGE_URL": ("tmdb", "image_url"),
    "METARR_FANART_API_URL": ("fanart", "api_url"),
}

_DRIVE = re.compile(r"^[A-Za-z]:(?:[/\\]|$)")

# Keys that look like secrets are refused in the file with a pointer to the environment variable.
_SECRET_KEYS = {
    "api_key": "TMDB_API_KEY / FANART_API_KEY",
    "read_access_token": "TMDB_READ_ACCESS_TOKEN",
    "token": "the player's token variable",
    "password": "the player's password variable",
    "client_key": "FANART_CLIENT_KEY",
    "omdb_api_key": "OMDB_API_KEY",
    "apikey": "OMDB_API_KEY",
}
# Settings fields the loader fills itself; a table of that name in the file is an unknown key.
_NOT_FROM_TABLES = ("config_path", "data_dir")


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
    data = _read_toml(config_path)
    loader = _Loader(config_path)
    values: dict[str, Any] = {"config_path": config_path, "data_dir": _data_dir(data.pop("data", {}), loader)}
    tables = {name: hint for name, hint in _hints(Settings).items() if name not in _NOT_FROM_TABLES}
    for key, value in data.items():
        if key not in tables:
            raise ConfigError(loader.unknown_key(key, [*tables, "data"]))
        values[key] = loader.convert(value, tables[key], key)
    settings = _with_url_overrides(loader.build(Settings, values, ""), loader)
    settings = replace(settings, players=tuple(_resolve_mappings(p, loader) for p in settings.players))
    if check_roots:
        _check_roots(settings, config_path)
    return settings


def _read_toml(config_path: Path) -> dict[str, Any]:
    try:
        raw = config_path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{config_path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read config file ({exc.strerror})") from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{config_path}: config file is not UTF-8 ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML: {exc}") from exc


def _data_dir(section: Any, loader: _Loader) -> Path:
    """``[data] dir``: where the state database and the cache live (relative to the config file)."""
    if not isinstance(section, dict):
        raise ConfigError(f"{loader.file}: 'data' must be a table")
    for key in section:
        if key != "dir":
            raise ConfigError(loader.unknown_key(f"data.{key}", ["dir"]))
    return loader.path(section.get("dir", "runtime/state"), "data.dir")


def _check_roots(settings: Settings, where: Path) -> None:
    """The library folders exist: a fact about this machine, not a rule of the value, so checked on request."""
    for index, root in enumerate(settings.library.roots):
        if not root.is_dir():
            state = "does not exist" if not root.exists() else "is not a folder"
            raise ConfigError(f"{where}: library.roots[{index}] = '{root}' {state}")
    if not settings.library.roots:
        raise ConfigError(f"{where}: library.roots is empty: name at least one library folder")


def _resolve_mappings(player: PlayerSettings, loader: _Loader) -> PlayerSettings:
    """Relative library paths in a player's path mappings resolve against the config file, like every path."""
    def absolute(path: str) -> str:
        if path.startswith(("/", "\\")) or _DRIVE.match(path) or "://" in path:
            return path
        return str(loader.path(path, "path_mappings"))

    return replace(player, path_mappings={absolute(k): v for k, v in player.path_mappings.items()})


def _with_url_overrides(settings: Settings, loader: _Loader) -> Settings:
    providers = settings.providers
    for var, (provider, attr) in URL_OVERRIDES.items():
        value = os.environ.get(var, "").strip()
        if value:
            try:
                section = replace(getattr(providers, provider), **{attr: value.rstrip("/")})
            except InvalidSetting as err:
                raise ConfigError(f"{loader.file}: {err.within(f'providers.{provider}')} "
                                  f"(from ${var})") from None
            providers = replace(providers, **{provider: section})
    return replace(settings, providers=providers)


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


class _Loader:
    """Converts TOML values into the dataclass tree, naming the file and dotted key on every error."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.base = file.parent

    def unknown_key(self, key: str, known: list[str]) -> str:
        name = key.rsplit(".", 1)[-1]
        if name in _SECRET_KEYS:
            return (f"{self.file}: '{key}' looks like a secret; secrets are read from the environment only "
                    f"({_SECRET_KEYS[name]}), never from the config file")
        return f"{self.file}: unknown key '{key}'{did_you_mean(name, known)} (known here: {', '.join(sorted(known))})"

    def path(self, value: Any, key: str) -> Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{self.file}: '{key}' must be a path string, got {_describe(value)}")
        p = Path(value).expanduser()
        return (p if p.is_absolute() else self.base / p).resolve()

    def build(self, cls: type, values: dict[str, Any], key: str) -> Any:
        """``cls(**values)``; when the type refuses a value, the message gains the file and the full key."""
        try:
            return cls(**values)
        except InvalidSetting as err:
            raise ConfigError(f"{self.file}: {err.within(key)}") from None

    def convert(self, value: Any, hint: Any, key: str) -> Any:
        if is_dataclass(hint):
            return self.dataclass(value, hint, key)
        if hint is Path:
            return self.path(value, key)
        if hint in (bool, int, float, str):
            return self.scalar(value, hint, key)
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
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

    def scalar(self, value: Any, hint: type, key: str) -> Any:
        """TOML's own types, checked strictly: a boolean is not a number, and a whole number is asked for so."""
        if hint is bool:
            ok, wanted = isinstance(value, bool), "true or false"
        elif hint is int:
            ok, wanted = isinstance(value, int) and not isinstance(value, bool), "a whole number"
        elif hint is float:
            ok, wanted = isinstance(value, int | float) and not isinstance(value, bool), "a number"
        else:
            ok, wanted = isinstance(value, str), "a string"
        if not ok:
            raise ConfigError(f"{self.file}: '{key}' must be {wanted}, got {_describe(value)}")
        return float(value) if hint is float else value

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
        return self.build(cls, converted, key)


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
