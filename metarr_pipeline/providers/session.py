"""Opening the providers for one process: which endpoints, which keys, which limits.

``providers.mode`` decides where requests go:

- ``network``: the configured URLs (real TMDB/fanart.tv, a proxy, or a simulator started elsewhere);
- ``simulator``: a simulator started inside this process on loopback ports (the offline demo);
- ``auto`` (default): ``network`` when a TMDB key is in the environment, else ``simulator`` (and it says so).

Every process opens its own session (Dagster runs steps in separate processes), so each simulator binds
ephemeral ports; their generated images are shared through an on-disk cache under the data dir.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from metarr_pipeline.config import Settings
from metarr_pipeline.providers.fanart import FanartClient
from metarr_pipeline.providers.http import HostPolicy, HttpFetcher, host_of
from metarr_pipeline.providers.keys import ProviderKeys
from metarr_pipeline.providers.tmdb import TmdbClient

log = logging.getLogger(__name__)


@dataclass
class ProviderSession:
    mode: str
    tmdb: TmdbClient
    fanart: FanartClient | None
    fetcher: HttpFetcher
    image_hosts: tuple[str, ...]
    tmdb_image_url: str
    simulator: Any = None  # the in-process simulator, when mode == "simulator"

    def describe(self) -> str:
        if self.mode == "simulator":
            return "providers: built-in simulator on loopback (offline; set TMDB_API_KEY to use TMDB)"
        return f"providers: {self.tmdb.api_url}" + (f" + {self.fanart.api_url}" if self.fanart else " (fanart.tv off)")


def resolve_mode(settings: Settings, keys: ProviderKeys) -> str:
    mode = settings.providers.mode
    if mode == "auto":
        return "network" if keys.has_tmdb else "simulator"
    return mode


@contextmanager
def open_providers(settings: Settings, keys: ProviderKeys | None = None) -> Iterator[ProviderSession]:
    keys = keys if keys is not None else ProviderKeys.from_env()
    mode = resolve_mode(settings, keys)
    p = settings.providers
    simulator = None
    if mode == "simulator":
        from metarr_pipeline.simulator import Simulator, SimulatorConfig

        simulator = Simulator(SimulatorConfig(image_cache_dir=settings.cache_dir / "simulator")).start()
        tmdb_api, tmdb_images, fanart_api = simulator.tmdb_api_url, simulator.tmdb_image_url, simulator.fanart_api_url
        image_hosts = tuple(simulator.image_hosts)
        fanart_assets = simulator.fanart_assets_host
        keys = ProviderKeys(tmdb_api_key="simulator", fanart_api_key="simulator")
        log.info("providers: using the built-in simulator (no TMDB key in the environment)")
    else:
        tmdb_api, tmdb_images, fanart_api = p.tmdb.api_url, p.tmdb.image_url, p.fanart.api_url
        image_hosts = p.image_hosts
        fanart_assets = next((h for h in image_hosts if h != host_of(tmdb_images)), "assets.fanart.tv")
        if not keys.has_tmdb:
            log.warning("providers: no TMDB_API_KEY or TMDB_READ_ACCESS_TOKEN in the environment")

    policies = {
        host_of(tmdb_api): HostPolicy(p.tmdb.requests_per_second, p.tmdb.max_connections, p.tmdb.timeout_seconds),
        host_of(tmdb_images): HostPolicy(p.tmdb.image_requests_per_second, p.tmdb.image_max_connections,
                                         p.tmdb.timeout_seconds),
        host_of(fanart_api): HostPolicy(p.fanart.requests_per_second, p.fanart.max_connections,
                                        p.fanart.timeout_seconds),
        fanart_assets.lower(): HostPolicy(p.fanart.image_requests_per_second, p.fanart.image_max_connections,
                                          p.fanart.timeout_seconds),
    }
    fetcher = HttpFetcher(policies, max_attempts=p.max_attempts, backoff_seconds=p.backoff_seconds,
                          secrets=keys.secrets())
    fanart = None
    if p.fanart.enabled and keys.fanart_api_key:
        fanart = FanartClient(fetcher, fanart_api, keys)
    elif p.fanart.enabled:
        log.warning("providers: fanart.tv is enabled but FANART_API_KEY is not set: skipping fanart.tv")
    session = ProviderSession(
        mode=mode,
        tmdb=TmdbClient(fetcher, tmdb_api, keys, settings.languages.preferred),
        fanart=fanart,
        fetcher=fetcher,
        image_hosts=image_hosts,
        tmdb_image_url=tmdb_images,
        simulator=simulator,
    )
    try:
        yield session
    finally:
        fetcher.close()
        if simulator is not None:
            simulator.stop()
