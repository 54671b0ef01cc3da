"""The simulator's knobs: values only, so a test can build one, tweak it with ``dataclasses.replace`` and
hand it to a running simulator (:meth:`Simulator.set_config`) without restarting anything.

Host names used as keys everywhere: ``tmdb_api``, ``tmdb_images``, ``fanart_api``, ``fanart_assets``,
``ratings`` (OMDb and the IMDb ratings dataset).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

HOST_NAMES: tuple[str, ...] = ("tmdb_api", "tmdb_images", "fanart_api", "fanart_assets", "ratings")


@dataclass(frozen=True)
class Faults:
    """Per-host fault injection. Each probability (0..1) is an independent, seeded draw per request.

    Order of evaluation: ``hang`` (sleep, then carry on), ``rate_limit`` (a 429 with Retry-After: 1 although
    the host's limit was not reached, as TMDB's edge sometimes does), ``error`` (answer 500/502/503
    instead), then the body faults, on successful answers only: ``truncate``, ``garbage``, ``wrong_type``,
    ``malformed_json``. On an API host ``garbage`` sends an HTML page labelled as JSON (a proxy's error
    page); on an image host ``malformed_json`` does nothing.
    """

    error_rate: float = 0.0  # answer 500/502/503 (503 with Retry-After: 1)
    hang_rate: float = 0.0  # sleep hang_seconds before answering (client timeouts must fire)
    hang_seconds: float = 30.0
    rate_limit_rate: float = 0.0  # answer 429 + Retry-After: 1 whatever the real request rate
    truncate_rate: float = 0.0  # declare the full Content-Length, send half the body, close
    garbage_rate: float = 0.0  # images: HTML bytes labelled with the image's type (image/jpeg, image/png)
    wrong_type_rate: float = 0.0  # images: right bytes, Content-Type text/html; API: text/plain junk
    malformed_json_rate: float = 0.0  # API: a 200 whose JSON body is cut off

    def __post_init__(self) -> None:
        for name in ("error_rate", "hang_rate", "rate_limit_rate", "truncate_rate", "garbage_rate", "wrong_type_rate",
                     "malformed_json_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Faults.{name} must be between 0 and 1, not {value!r}")
        if self.hang_seconds < 0:
            raise ValueError("Faults.hang_seconds must not be negative")

    @property
    def any(self) -> bool:
        """Lets the request path skip the dice entirely on a healthy host (the common case)."""
        return any((self.error_rate, self.hang_rate, self.rate_limit_rate, self.truncate_rate, self.garbage_rate,
                    self.wrong_type_rate, self.malformed_json_rate))


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything about the simulator's behaviour that a test or the benchmark may want to turn."""

    host: str = "127.0.0.1"
    latency_seconds: float = 0.0  # added to every request, including the 429s
    # requests/second per host name; above it → 429 + Retry-After. Missing or 0 → unlimited.
    rate_limit: dict[str, float] = field(default_factory=lambda: {"tmdb_api": 40.0})
    # in-flight requests per host above this → 429 + Retry-After: 1. Missing or 0 → unlimited.
    max_connections: dict[str, int] = field(default_factory=dict)
    faults: dict[str, Faults] = field(default_factory=dict)  # per host name
    seed: int = 0  # the catalog's seed (when the simulator builds it) and the fault dice's
    image_cache_dir: Path | None = None  # rendered images, shared across processes; None → a temp dir
    # None: any non-empty key/token is accepted; else only this value (v3 api_key and v4 Bearer token)
    api_key: str | None = None
    # OMDb requests served before every further one is "Request limit reached!" (None: no limit).
    omdb_daily_limit: int | None = None
    # Every TMDB images list (a movie's or collection's posters, backdrops, logos) and every fanart.tv list (each
    # art kind) holds at most this many images, the first (best-voted) ones: a lighter catalog for a benchmark of
    # many movies, whose cost is mostly images. None: all of them.
    max_images_per_kind: int | None = None
    # The request log keeps the newest this many requests (bounded memory); fixed at start. A benchmark of many
    # movies raises it so that no stage's requests are dropped before it reads them.
    request_log_limit: int = 500_000

    def __post_init__(self) -> None:
        for mapping in (self.rate_limit, self.max_connections, self.faults):
            unknown = set(mapping) - set(HOST_NAMES)
            if unknown:
                raise ValueError(f"unknown simulator host name(s) {sorted(unknown)}; expected {HOST_NAMES}")
        if self.latency_seconds < 0:
            raise ValueError("latency_seconds must not be negative")
        if self.request_log_limit < 1:
            raise ValueError(f"request_log_limit must be at least 1, not {self.request_log_limit!r}")
        if self.max_images_per_kind is not None and self.max_images_per_kind < 1:
            raise ValueError(f"max_images_per_kind must be at least 1 (None: all), not {self.max_images_per_kind!r}")
