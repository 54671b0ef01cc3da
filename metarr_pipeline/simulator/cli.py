"""Running the simulator by hand: ``python -m metarr_pipeline.simulator`` or ``metarr simulator``.

A thin wrapper over :class:`Simulator`: start it on chosen (or ephemeral) ports, print the base URLs a
client needs, serve until Ctrl-C.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from metarr_pipeline.simulator.service import Simulator, SimulatorError
from metarr_pipeline.simulator.settings import HOST_NAMES, Faults, SimulatorConfig


def write_request_log(sim: Simulator, path: Path) -> int:
    """The whole request log as JSON lines (``RequestRecord`` fields), written atomically; the count."""
    records = sim.requests()
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(dataclasses.asdict(record)) + "\n")
    os.replace(temporary, path)
    return len(records)


def serve_forever(config: SimulatorConfig, ports: Mapping[str, int] | None = None, *,
                  stop: threading.Event | None = None, out: Callable[[str], None] = print,
                  request_log: Path | None = None) -> None:
    """Serve until Ctrl-C (or ``stop`` is set). ``ports``: host name → port; missing or 0 = ephemeral.

    ``request_log``: the request log is written there (JSON lines) on SIGUSR1 and when stopping, so another
    process (the benchmark) can read what was asked of the simulator."""
    dump = threading.Event()
    if request_log is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGUSR1, lambda _signum, _frame: dump.set())
    with Simulator(config, ports=ports) as sim:
        out("metarr provider simulator: a loopback test double of TMDB v3 and fanart.tv v3 (not the real services)")
        out(f"  TMDB API         {sim.tmdb_api_url}")
        out(f"  TMDB images      {sim.tmdb_image_url}")
        out(f"  fanart.tv API    {sim.fanart_api_url}")
        out(f"  fanart.tv assets http://{sim.fanart_assets_host}")
        out(f"  OMDb API         {sim.omdb_api_url}")
        out(f"  IMDb ratings     {sim.imdb_dataset_url}")
        out("Any non-empty API key is accepted." if config.api_key is None else "Only the configured API key works.")
        out("Press Ctrl-C to stop.")
        waiter = stop or threading.Event()
        try:
            while not waiter.wait(0.1):
                if dump.is_set() and request_log is not None:
                    dump.clear()
                    write_request_log(sim, request_log)
        except KeyboardInterrupt:
            out("stopping")
        if request_log is not None:
            write_request_log(sim, request_log)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metarr simulator",
        description="Run the provider simulator, a loopback test double of TMDB v3 and fanart.tv v3 with a "
                    "generated catalog and images, for offline demos, tests and benchmarks.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port-base", type=int, default=0, metavar="PORT",
                        help="first of 5 consecutive ports: TMDB API, TMDB images, fanart.tv API, fanart.tv "
                             "assets, ratings (OMDb and the IMDb dataset) (default: 0 = ephemeral ports)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                        help="delay added to every request (default: %(default)s)")
    parser.add_argument("--tmdb-rps", type=float, default=40.0, metavar="N",
                        help="TMDB API requests per second before 429s; 0 = unlimited (default: %(default)s)")
    parser.add_argument("--max-connections", type=int, default=0, metavar="N",
                        help="concurrent requests per host before 429s; 0 = unlimited (default: %(default)s)")
    parser.add_argument("--error-rate", type=float, default=0.0, metavar="P",
                        help="share of requests, on every host, answered with a 5xx (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="catalog and fault seed (default: %(default)s)")
    parser.add_argument("--image-cache-dir", type=Path, default=None, metavar="DIR",
                        help="keep rendered images here (default: a temporary folder)")
    parser.add_argument("--max-images-per-kind", type=int, default=None, metavar="K",
                        help="serve at most K images per kind in every TMDB images list and fanart.tv art list, "
                             "the best-voted first: a lighter catalog for big benchmarks (default: all)")
    parser.add_argument("--request-log-limit", type=int, default=500_000, metavar="N",
                        help="keep the newest N requests in the log (default: %(default)s)")
    parser.add_argument("--request-log", type=Path, default=None, metavar="FILE",
                        help="write the request log to FILE as JSON lines on SIGUSR1 and at exit (for benchmarks)")
    return parser


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    return SimulatorConfig(
        host=args.host,
        latency_seconds=args.latency,
        rate_limit={"tmdb_api": args.tmdb_rps} if args.tmdb_rps > 0 else {},
        max_connections={name: args.max_connections for name in HOST_NAMES} if args.max_connections > 0 else {},
        faults={name: Faults(error_rate=args.error_rate) for name in HOST_NAMES} if args.error_rate > 0 else {},
        seed=args.seed,
        image_cache_dir=args.image_cache_dir,
        max_images_per_kind=args.max_images_per_kind,
        request_log_limit=args.request_log_limit,
    )


def run_cli(argv: Sequence[str] | None = None) -> int:
    """Exit status: 0 after Ctrl-C, 2 for bad arguments or a simulator that cannot start."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    ports = {name: args.port_base + offset for offset, name in enumerate(HOST_NAMES)} if args.port_base else None
    try:
        serve_forever(config, ports, request_log=args.request_log)
    except SimulatorError as exc:
        print(f"metarr simulator: {exc}", file=sys.stderr)
        return 2
    return 0
