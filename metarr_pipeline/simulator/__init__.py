"""A provider simulator: a loopback **test double** of TMDB v3 and fanart.tv v3.

It serves a deterministic, generated catalog (every movie id below 10,000,000, with the demo library's
films hand-written) and generated images, with knobs for latency, rate limits, connection caps and
faults, and records every request. It powers the offline demo, the integration tests and the
benchmark; it is never a substitute for the real providers when real keys are configured.

    with Simulator(SimulatorConfig(latency_seconds=0.01)) as sim:
        client = TmdbClient(base_url=sim.tmdb_api_url, image_base_url=sim.tmdb_image_url, ...)

This package must not import Dagster.
"""

from metarr_pipeline.simulator.catalog import Catalog
from metarr_pipeline.simulator.records import RequestRecord
from metarr_pipeline.simulator.service import Simulator, SimulatorError
from metarr_pipeline.simulator.settings import Faults, SimulatorConfig

__all__ = ["Catalog", "Faults", "RequestRecord", "Simulator", "SimulatorConfig", "SimulatorError"]
