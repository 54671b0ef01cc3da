"""Opening the providers for one process: which endpoints, which keys, which limits.

``providers.mode`` decides where requests go:

- ``auto`` (default) and ``network``: the configured URLs (real TMDB/fanart.tv, a proxy, or a simulator
  started elsewhere). A TMDB key is required: without one, opening the providers fails naming the variables.
  ``auto`` never falls back to the simulator, because invented metadata and artwork would be written into a
  real library (with auto-publish on, unattended);
- ``simulator``: a simulator started inside this process on loopback ports; only a config that says so (the
  offline demo, tests) uses it.

Every process opens its own session (Dagster runs steps in separate processes), so each simulator binds
ephemeral ports; their generated images are shared through an on-disk cache under the data dir.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import ProviderAuthError, ProviderUnavailable
from metarr_pipeline.providers.fanart import FanartClient
from metarr_pipeline.providers.http import HostPolicy, HttpFetcher, Route, check_allowed, host_of
from metarr_pipeline.providers.images import FANART_ASSETS, TMDB_IMAGE_BASE
from metarr_pipeline.providers.images import url_map as image_url_map
from metarr_pipeline.providers.keys import ProviderKeys
from metarr_pipeline.providers.tmdb import TmdbClient

log = logging.getLogger(__name__)


@dataclass
class ProviderSession:
    """Clients plus the URL mapping between what we store and where requests really go.

    Everything stored (candidate URLs, the analysis cache, fanart.tv responses) uses canonical image URLs
    (``https://image.tmdb.org/t/p/...``, ``https://assets.fanart.tv/...``: see :mod:`.images`), so the state
    stays valid when the configured image endpoint changes (``METARR_TMDB_IMAGE_URL``, a caching proxy) or
    the simulator of another process listened on other ports; :meth:`image_url` maps them to the live
    endpoint just before a request. With the real providers and the default endpoints it is the identity.
    """

    mode: str
    tmdb: TmdbClient
    fanart: FanartClient | None
    fetcher: HttpFetcher
    image_hosts: tuple[str, ...]
    tmdb_image_url: str
    simulator: Any = None  # the in-process simulator, when mode == "simulator"
    url_map: dict[str, str] = field(default_factory=dict)  # canonical prefix → actual prefix
    # The rating sources' endpoints ("omdb", "imdb_dataset") when not the configured ones (the simulator's),
    # and the OMDb key ("" when OMDB_API_KEY is unset: OMDb is skipped).
    ratings_urls: dict[str, str] = field(default_factory=dict)
    omdb_api_key: str = ""

    def actual(self, url: str) -> str:
        for canonical, actual in self.url_map.items():
            if url.startswith(canonical + "/"):
                return actual + url[len(canonical):]
        return url

    def image_url(self, url: str) -> str:
        """Where to fetch a stored image name from (:func:`map_image_url`)."""
        return map_image_url(url, self.url_map, self.image_hosts)

    def canonical(self, url: str) -> str:
        for canonical, actual in self.url_map.items():
            if url.startswith(actual + "/"):
                return canonical + url[len(actual):]
        return url

    def canonical_text(self, text: str) -> str:
        """Canonicalise every mapped URL inside a JSON text (fanart.tv responses embed image URLs)."""
        for canonical, actual in self.url_map.items():
            text = text.replace(actual + "/", canonical + "/")
        return text

    def describe(self) -> str:
        if self.mode == "simulator":
            return "providers: built-in simulator on loopback (offline; providers.mode = \"simulator\")"
        return f"providers: {self.tmdb.api_url}" + (f" + {self.fanart.api_url}" if self.fanart else " (fanart.tv off)")


def map_image_url(url: str, url_map: Mapping[str, str], image_hosts: Sequence[str]) -> str:
    """Where to fetch a stored image name from. A canonical name goes to its configured endpoint (the
    configuration chose it); any other URL a provider handed us must be on the image host allowlist."""
    actual = next((to + url[len(canonical):] for canonical, to in url_map.items() if url.startswith(canonical + "/")),
                  url)
    if actual == url:
        check_allowed(url, tuple(image_hosts))
    return actual


def _start_simulator(settings: Settings) -> Any:
    """The embedded simulator, through its one entry point; its errors become provider errors here, once."""
    from metarr_pipeline.simulator import SimulatorError, start  # only the demo pays for importing it

    try:
        return start(image_cache_dir=settings.cache_dir / "simulator")
    except SimulatorError as exc:
        raise ProviderUnavailable(str(exc)) from exc


MISSING_TMDB_KEY = (
    "no TMDB key: set TMDB_READ_ACCESS_TOKEN (or TMDB_API_KEY) in the environment; "
    "for the offline demo, set providers.mode = \"simulator\" in the config instead"
)


def resolve_mode(settings: Settings, keys: ProviderKeys) -> str:
    """``simulator`` only when the config says so; otherwise the network, which needs a TMDB key."""
    mode = settings.providers.mode
    if mode == "simulator":
        return mode
    if not keys.has_tmdb:
        raise ProviderAuthError(MISSING_TMDB_KEY)
    return "network"


def provider_routes(settings: Settings, tmdb_api: str, tmdb_images: str, fanart_api: str, fanart_assets: str,
                    image_hosts: tuple[str, ...]) -> list[Route]:
    """Politeness keyed by provider purpose, the configured (or simulator) base URL only telling them apart:
    two of them behind one host keep their own limits. API redirects stay on the API's own host; image
    redirects may go to any allowlisted image host."""
    p = settings.providers
    assets = fanart_assets if "://" in fanart_assets else f"https://{fanart_assets}"
    return [
        Route("tmdb_api", tmdb_api, HostPolicy(p.tmdb.requests_per_second, p.tmdb.max_connections,
                                               p.tmdb.timeout_seconds)),
        Route("tmdb_images", tmdb_images, HostPolicy(
            p.tmdb.image_requests_per_second, p.tmdb.image_max_connections, p.tmdb.timeout_seconds), image_hosts),
        Route("fanart_api", fanart_api, HostPolicy(p.fanart.requests_per_second, p.fanart.max_connections,
                                                   p.fanart.timeout_seconds)),
        Route("fanart_assets", assets, HostPolicy(p.fanart.image_requests_per_second,
                                                  p.fanart.image_max_connections, p.fanart.timeout_seconds),
              image_hosts),
    ]


@contextmanager
def open_providers(settings: Settings, keys: ProviderKeys | None = None) -> Iterator[ProviderSession]:
    keys = keys if keys is not None else ProviderKeys.from_env()
    mode = resolve_mode(settings, keys)
    p = settings.providers
    simulator = None
    ratings_urls: dict[str, str] = {}
    if mode == "simulator":
        simulator = _start_simulator(settings)
        tmdb_api, tmdb_images, fanart_api = simulator.tmdb_api_url, simulator.tmdb_image_url, simulator.fanart_api_url
        fanart_assets = f"http://{simulator.fanart_assets_host}"
        image_hosts = (host_of(TMDB_IMAGE_BASE), host_of(FANART_ASSETS))
        fetch_hosts = tuple(simulator.image_hosts)
        mapping = image_url_map(tmdb_images, fanart_assets)
        keys = ProviderKeys(tmdb_api_key="simulator", fanart_api_key="simulator", omdb_api_key="simulator")
        ratings_urls = {"omdb": simulator.omdb_api_url, "imdb_dataset": simulator.imdb_dataset_url}
        log.info("providers: using the built-in simulator (providers.mode = \"simulator\")")
    else:
        tmdb_api, tmdb_images, fanart_api = p.tmdb.api_url, p.tmdb.image_url, p.fanart.api_url
        image_hosts = p.image_hosts
        fanart_assets = next((h for h in image_hosts if h != host_of(tmdb_images)), "assets.fanart.tv")
        fetch_hosts = image_hosts
        mapping = image_url_map(tmdb_images)

    fetcher = HttpFetcher(provider_routes(settings, tmdb_api, tmdb_images, fanart_api, fanart_assets, fetch_hosts),
                          max_attempts=p.max_attempts, backoff_seconds=p.backoff_seconds, secrets=keys.secrets())
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
        url_map=mapping,
        ratings_urls=ratings_urls,
        omdb_api_key=keys.omdb_api_key,
    )
    try:
        yield session
    finally:
        fetcher.close()
        if simulator is not None:
            simulator.stop()
