"""``Simulator``: the five fake hosts started together on loopback, with their base URLs and request log.

A test double for TMDB v3, fanart.tv v3 and OMDb (with IMDb's ratings dataset), not a provider: the real
clients point their base URLs at it
(the offline demo, the integration tests, the benchmark) and must work unchanged.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from metarr_pipeline.simulator.assets import FanartAssets, TmdbImages
from metarr_pipeline.simulator.catalog import Catalog
from metarr_pipeline.simulator.fanart_api import FanartApi
from metarr_pipeline.simulator.ratings_api import DATASET_PATH, RatingsApi
from metarr_pipeline.simulator.records import RequestRecord
from metarr_pipeline.simulator.renditions import Renditions
from metarr_pipeline.simulator.server import HostServer, HostService, SharedState
from metarr_pipeline.simulator.settings import HOST_NAMES, SimulatorConfig
from metarr_pipeline.simulator.tmdb_api import TmdbApi


class SimulatorError(Exception):
    """The simulator could not start (a port in use, a bad host, an unusable image cache folder).

    The simulator's own root error, not a ``MetarrError``: the simulator imports nothing from the product.
    The product's one caller that starts it (``providers.session``) translates it into a provider error.
    """


def start(*, image_cache_dir: Path | None = None) -> Simulator:
    """A simulator with the default knobs, started on ephemeral loopback ports: the demo's embedded provider.

    Rendered images are kept in ``image_cache_dir`` (shared by the processes of one run) when given. The
    caller reads the base URLs from the result and calls ``stop()`` when done.
    """
    return Simulator(SimulatorConfig(image_cache_dir=image_cache_dir)).start()


class Simulator:
    """Start with ``start()`` or ``with Simulator(...) as sim:``; read ``sim.tmdb_api_url`` etc."""

    def __init__(self, config: SimulatorConfig | None = None, catalog: Catalog | None = None, *,
                 ports: Mapping[str, int] | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.catalog = catalog or Catalog(seed=self.config.seed)
        self._ports = dict(ports or {})
        unknown = set(self._ports) - set(HOST_NAMES)
        if unknown:
            raise ValueError(f"unknown simulator host name(s) {sorted(unknown)}; expected {HOST_NAMES}")
        self._state = SharedState(self.config)
        self._servers: dict[str, HostServer] = {}
        self._threads: list[threading.Thread] = []
        self._temporary_cache: Path | None = None
        self.hosts: dict[str, str] = {}

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> Simulator:
        if self._servers:
            return self
        try:
            for name in HOST_NAMES:
                self._servers[name] = HostServer((self.config.host, self._ports.get(name, 0)))
        except OSError as exc:
            self._close_servers()
            raise SimulatorError(f"cannot start the provider simulator on {self.config.host}: {exc}") from exc
        self.hosts = {name: f"{self.config.host}:{server.server_address[1]}" for name, server in self._servers.items()}
        renditions = Renditions(self._cache_dir())
        routes = {
            "tmdb_api": TmdbApi(self.catalog, self.hosts["tmdb_images"]),
            "tmdb_images": TmdbImages(self.catalog, renditions),
            "fanart_api": FanartApi(self.catalog, self.hosts["fanart_assets"]),
            "fanart_assets": FanartAssets(self.catalog, renditions),
            "ratings": RatingsApi(self.catalog),
        }
        self._state.stopping.clear()
        for name, server in self._servers.items():
            server.service = HostService(name, routes[name], self._state)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                      name=f"simulator-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _cache_dir(self) -> Path:
        if self.config.image_cache_dir is not None:
            try:
                self.config.image_cache_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self._close_servers()
                raise SimulatorError(f"cannot use image cache folder '{self.config.image_cache_dir}': {exc}") from exc
            return self.config.image_cache_dir
        self._temporary_cache = Path(tempfile.mkdtemp(prefix="metarr-simulator-"))
        return self._temporary_cache

    def stop(self) -> None:
        """Stop serving, cut open connections and wake hanging requests; idempotent."""
        self._state.stopping.set()
        # shutdown() blocks until the serving loop notices; ask all of them at once rather than in turn.
        stoppers = [threading.Thread(target=server.shutdown) for server in self._servers.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        self._close_servers()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        if self._temporary_cache is not None:
            shutil.rmtree(self._temporary_cache, ignore_errors=True)
            self._temporary_cache = None

    def _close_servers(self) -> None:
        for server in self._servers.values():
            server.server_close()
            server.close_connections()
        self._servers.clear()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # -- base URLs, in the shape the clients take ---------------------------------------------------------
    @property
    def tmdb_api_url(self) -> str:
        return f"http://{self._host('tmdb_api')}/3"

    @property
    def tmdb_image_url(self) -> str:
        return f"http://{self._host('tmdb_images')}/t/p"

    @property
    def fanart_api_url(self) -> str:
        return f"http://{self._host('fanart_api')}/v3"

    @property
    def fanart_assets_host(self) -> str:
        return self._host("fanart_assets")

    @property
    def omdb_api_url(self) -> str:
        return f"http://{self._host('ratings')}/omdb/"

    @property
    def imdb_dataset_url(self) -> str:
        return f"http://{self._host('ratings')}{DATASET_PATH}"

    @property
    def image_hosts(self) -> tuple[str, ...]:
        """For the clients' image allowlist."""
        return self._host("tmdb_images"), self._host("fanart_assets")

    def _host(self, name: str) -> str:
        if name not in self.hosts:
            raise SimulatorError("the simulator is not started")
        return self.hosts[name]

    # -- observation and knobs ----------------------------------------------------------------------------
    def requests(self, host: str | None = None) -> list[RequestRecord]:
        """A copy of the request log, oldest first, optionally for one host name."""
        return self._state.log.snapshot(host)

    def clear_log(self) -> None:
        self._state.log.clear()

    def set_config(self, config: SimulatorConfig) -> None:
        """New latency, limits, faults or key, effective from the next request. ``host``, ``seed`` (for the
        catalog) and ``image_cache_dir`` are fixed at start and ignored here."""
        self.config = config
        self._state.config = config
