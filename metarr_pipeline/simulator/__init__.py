"""A provider simulator: a loopback **test double** of TMDB v3, fanart.tv v3 and OMDb (plus IMDb's ratings file).

It serves a deterministic, generated catalog (every movie id below 10,000,000, with the demo library's
films hand-written) and generated images, with knobs for latency, rate limits, connection caps and
faults, and records every request. It powers the offline demo, the integration tests and the
benchmark; it is never a substitute for the real providers when real keys are configured.

    with Simulator(SimulatorConfig(latency_seconds=0.01)) as sim:
        client = TmdbClient(base_url=sim.tmdb_api_url, image_base_url=sim.tmdb_image_url, ...)

It stays inside the package (the demo runs offline with nothing else installed) but is self-contained:
it imports nothing from the rest of ``metarr_pipeline`` (nor Dagster), and the product reaches it only
through these entry points, so it could leave the package without touching the product
(``tests/test_simulator_boundary.py`` pins both directions):

- :func:`start` and :class:`SimulatorError`: ``providers.session`` starts the embedded simulator for the
  demo and talks to it only through its URLs, like any provider;
- :func:`run_cli`: ``metarr simulator ...`` (and ``python -m metarr_pipeline.simulator``).

Tests and the benchmark are harnesses, not product: they drive the double directly (:class:`Simulator`,
:class:`SimulatorConfig`, :class:`Faults`, :class:`Catalog`, the request log).

Modules in reading order: :mod:`.settings` (knobs), :mod:`.service` (the five hosts started together),
:mod:`.server` and :mod:`.limits` (serving, latency, rate limits, faults, the request log), :mod:`.tmdb_api`
and :mod:`.fanart_api` and :mod:`.ratings_api` with :mod:`.tmdb_json` and :mod:`.replies` (the API shapes),
:mod:`.catalog` with
:mod:`.known`, :mod:`.generate`, :mod:`.variety`, :mod:`.people`, :mod:`.artwork`, :mod:`.entries`,
:mod:`.videos` and :mod:`.reference` (what exists), :mod:`.assets`, :mod:`.images` and :mod:`.renditions`
(the image hosts), :mod:`.cli` (running it by hand).
"""

from metarr_pipeline.simulator.catalog import Catalog
from metarr_pipeline.simulator.cli import run_cli
from metarr_pipeline.simulator.records import RequestRecord
from metarr_pipeline.simulator.service import Simulator, SimulatorError, start
from metarr_pipeline.simulator.settings import Faults, SimulatorConfig

__all__ = ["Catalog", "Faults", "RequestRecord", "Simulator", "SimulatorConfig", "SimulatorError", "run_cli", "start"]
