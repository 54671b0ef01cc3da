"""HTTP to players: plain httpx with short timeouts, a small retry, and errors without credentials.

Players live on the LAN, so they are either there at once or asleep: a request gets ``timeout_seconds``
(5 s by default), a refused or dropped connection and a 5xx are retried once after a short pause, a timeout
is not (a sleeping box would only cost more time), and 401/403 are never retried. The real backoff (minutes
to an hour) is the notification queue's, in :mod:`metarr_pipeline.players.deliver`.

Credentials are read from the environment variables the config names, at the moment they are needed, and
travel in headers only (Kodi: basic auth; Jellyfin: ``Authorization: MediaBrowser Token=...``; Plex:
``X-Plex-Token``), never in a URL. Every error message goes through :func:`redact` with their values.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from metarr_pipeline.config import PlayerSettings
from metarr_pipeline.players.errors import PlayerAuthError, PlayerResponseError, PlayerUnavailable
from metarr_pipeline.redaction import redact

log = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
logging.getLogger("httpcore").setLevel(logging.WARNING)

RETRY_PAUSE = 0.25
USER_AGENT = "metarr-pipeline/0.1"


@dataclass(frozen=True)
class PlayerCredentials:
    username: str = ""
    password: str = ""
    token: str = ""

    @classmethod
    def from_env(cls, player: PlayerSettings, env: Mapping[str, str] | None = None) -> PlayerCredentials:
        """The player's credentials; a variable the config names but the environment lacks is an auth error."""
        env = os.environ if env is None else env
        values = {}
        for attr in ("username", "password", "token"):
            var = getattr(player, f"{attr}_env")
            value = env.get(var, "").strip() if var else ""
            if var and not value:
                raise PlayerAuthError(f"{player.type} '{player.label}': the environment variable {var} "
                                      f"({attr}) is not set")
            values[attr] = value
        if values["password"] and not values["username"]:
            values["username"] = "kodi"  # Kodi's default web server user
        return cls(**values)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password, self.token) if s)

    def __repr__(self) -> str:  # never show the values, even in a traceback
        return f"PlayerCredentials(username={'set' if self.username else 'unset'}, " \
               f"password={'set' if self.password else 'unset'}, token={'set' if self.token else 'unset'})"


class PlayerHttp:
    """One player's HTTP client: base URL, auth headers, timeout, a small retry, counted requests."""

    def __init__(self, player: PlayerSettings, credentials: PlayerCredentials, *,
                 headers: Mapping[str, str] | None = None, auth: tuple[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None, attempts: int = 2) -> None:
        self.player = player
        self.name = f"{player.type} '{player.label}'"
        self.base_url = player.url.rstrip("/")
        self.secrets = credentials.secrets()
        self.attempts = attempts
        self.requests = 0
        self._client = httpx.Client(
            timeout=httpx.Timeout(player.timeout_seconds),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json",
                     **(headers or {})},
            auth=auth, follow_redirects=False, transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PlayerHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                json: Any = None, auth_hint: str = "check its credentials") -> httpx.Response:
        """Send one request; returns a 2xx response or raises a :class:`PlayerError` subclass."""
        url = self.base_url + path
        last: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            self.requests += 1
            try:
                response = self._client.request(method, url, params=params, json=json)
            except httpx.TimeoutException as exc:
                raise PlayerUnavailable(self.words(
                    f"{self.name} did not answer {method} {path} within {self.player.timeout_seconds:g}s "
                    "(asleep, busy or offline?)")) from exc
            except httpx.TransportError as exc:
                last = PlayerUnavailable(self.words(f"{self.name} is not reachable at {self.base_url} "
                                                     f"({type(exc).__name__}: {exc})"))
                last.__cause__ = exc
            else:
                if response.status_code in (401, 403):
                    raise PlayerAuthError(self.words(
                        f"{self.name} refused {method} {path} with {response.status_code}: {auth_hint}"))
                if response.status_code >= 500:
                    last = PlayerUnavailable(self.words(
                        f"{self.name} failed {method} {path} with {response.status_code}"))
                elif response.status_code >= 300:
                    raise PlayerResponseError(self.words(
                        f"{self.name} answered {method} {path} with {response.status_code}: "
                        f"{response.text[:200]}"))
                else:
                    return response
            if attempt < self.attempts:
                time.sleep(RETRY_PAUSE * attempt)
        assert last is not None
        raise last

    def json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise PlayerResponseError(self.words(f"{self.name} sent malformed JSON: {exc}")) from exc

    def words(self, text: str) -> str:
        return redact(text, self.secrets)
