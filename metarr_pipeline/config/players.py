"""Player settings: one ``[[players]]`` entry per media player told about every publish.

Credentials are never in the file (the ``*_env`` fields name environment variables), and a URL carrying a
user, a password or a token is refused. Rules that compare players (distinct names) live in ``Settings``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from metarr_pipeline.config.rules import InvalidSetting, at_least, did_you_mean, positive, url_problem

PLAYER_TYPES = ("kodi", "jellyfin", "plex")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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

    def __post_init__(self) -> None:
        if self.type not in PLAYER_TYPES:
            raise InvalidSetting("type", f"{{key}} must be one of {', '.join(PLAYER_TYPES)}, got '{self.type}'"
                                         f"{did_you_mean(self.type, PLAYER_TYPES)}")
        self._check_url()
        self._check_credentials()
        for name in ("timeout_seconds", "retry_seconds", "defer_seconds"):
            positive(getattr(self, name), name)
        at_least(self.max_attempts, 1, "max_attempts")
        for source, target in self.path_mappings.items():
            if not source.strip() or not target.strip():
                raise InvalidSetting("path_mappings", f"{{key}}: empty path in '{source}' = '{target}'")

    def _check_url(self) -> None:
        # Credentials first: the message about a malformed URL quotes it.
        parts = urlsplit(self.url)
        if parts.username or parts.password or "token=" in self.url.lower():
            raise InvalidSetting("url", "{key} contains credentials; secrets are read from the environment "
                                        "only (username_env / password_env / token_env), never from the config file")
        problem = url_problem(self.url)
        if problem:
            raise InvalidSetting("url", "{key} must be an http:// or https:// URL like "
                                        f"'http://192.168.1.20:8080' ({problem}), got '{self.url}'")

    def _check_credentials(self) -> None:
        for name in ("username_env", "password_env", "token_env"):
            value = getattr(self, name)
            if value and not _ENV_NAME.fullmatch(value):
                raise InvalidSetting(name, "{key} must name an environment variable (like "
                                           f"'JELLYFIN_TOKEN'), got '{value}'")
        if self.type in ("jellyfin", "plex") and not self.token_env:
            raise InvalidSetting("token_env", f"{{key}} is required for {self.type}: name the environment "
                                              "variable that holds its token")
        if self.username_env and not self.password_env:
            raise InvalidSetting("password_env", "{key} is required when username_env is set")

    @property
    def label(self) -> str:
        return self.name or self.type
