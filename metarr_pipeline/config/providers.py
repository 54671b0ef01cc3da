"""Provider settings: where TMDB and fanart.tv are, how politely to ask them, and what to accept back.

Every rate, connection count, timeout and size here is a divisor or a wait somewhere in the HTTP layer, so
each must be a positive, finite number; the checks live in the types (``__post_init__``, see :mod:`.rules`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from metarr_pipeline.config.rules import InvalidSetting, at_least, http_url, not_negative, positive

PROVIDER_MODES = ("auto", "simulator", "network")


def _check_service(service: TmdbSettings | FanartSettings) -> None:
    """The rules TMDB and fanart.tv share (their settings differ only in defaults and TMDB's image URL)."""
    http_url(service.api_url, "api_url")
    for name in ("requests_per_second", "max_connections", "timeout_seconds", "image_requests_per_second",
                 "image_max_connections"):
        positive(getattr(service, name), name)
    not_negative(service.cache_ttl_days, "cache_ttl_days")  # 0: every fetch goes to the provider


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

    def __post_init__(self) -> None:
        _check_service(self)
        http_url(self.image_url, "image_url")


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

    def __post_init__(self) -> None:
        _check_service(self)


@dataclass(frozen=True)
class ProviderSettings:
    # "auto" (= "network"): the configured URLs, the real providers by default; a TMDB key is required and
    # there is never a fallback to the simulator. "simulator": the built-in simulator (offline demo, tests).
    mode: str = "auto"
    tmdb: TmdbSettings = field(default_factory=TmdbSettings)
    fanart: FanartSettings = field(default_factory=FanartSettings)
    # Hosts artwork may be downloaded from; anything else a provider points at is refused.
    image_hosts: tuple[str, ...] = ("image.tmdb.org", "assets.fanart.tv")
    # Bounded retries with jittered exponential backoff on 429/5xx/timeouts/connection errors.
    max_attempts: int = 5
    backoff_seconds: float = 0.5  # 0: retry at once
    max_response_mb: float = 8.0
    max_image_mb: float = 40.0
    # Worker processes for a large enrichment's image requests and decoding (0: one per CPU core; 1: threads of
    # the run's own process only). Each gets an equal share of the image hosts' limits.
    image_processes: int = 0

    def __post_init__(self) -> None:
        if self.mode not in PROVIDER_MODES:
            raise InvalidSetting("mode", f"{{key}} must be 'auto', 'simulator' or 'network', got '{self.mode}'")
        for i, host in enumerate(self.image_hosts):
            _check_host(host, f"image_hosts[{i}]")
        at_least(self.max_attempts, 1, "max_attempts")
        not_negative(self.backoff_seconds, "backoff_seconds")
        positive(self.max_response_mb, "max_response_mb")
        positive(self.max_image_mb, "max_image_mb")
        not_negative(self.image_processes, "image_processes")


def _check_host(host: str, key: str) -> None:
    """A host name as downloads are matched against it (``host`` or ``host:port``), never a URL."""
    try:
        parts = urlsplit(f"//{host}")
        ok = bool(parts.hostname) and parts.netloc == host and (parts.port is None or 1 <= parts.port <= 65535)
    except ValueError:
        ok = False
    if not ok or any(c.isspace() for c in host):
        raise InvalidSetting(key, f"{{key}} must be a host name like 'image.tmdb.org' (or host:port), "
                                  f"not a URL, got '{host}'")
