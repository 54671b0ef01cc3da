"""The one simulator process every stage talks to, so its CPU and memory are measured apart from ours.

It enforces the limits in ``targets`` per host, as the real services do; its request log (every request,
oldest first) is dumped on SIGUSR1 and read back after each stage.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import PY
from bench.targets import CONNECTIONS, LATENCY, TMDB_RPS

IMAGE_SETS: dict[str, int | None] = {"full": None, "light": 3}
"""``--images``: the simulator's ``--max-images-per-kind`` (None: every image the catalog has). ``light`` keeps the
first (best-voted) 3 of every TMDB images list and fanart.tv art list: a movie's best candidates, and the hostile
posters, stay; a 10,000-movie run downloads and draws about two thirds of the images."""


def image_set_note(images: str) -> str:
    """How the results name the image set (the first line of the table)."""
    cap = IMAGE_SETS[images]
    return "full image set" if cap is None else f"lighter image set: at most {cap} images per kind"


def primed_marker(cache_dir: Path, images: str) -> Path:
    """The file that says up to which library size the cache is primed, one per image set: a light prime fetched
    fewer images than a full run needs, so the two never count for each other."""
    return cache_dir / ("primed.json" if images == "full" else f"primed-{images}.json")


def primed_up_to(cache_dir: Path, images: str) -> int:
    """The library size the cache holds every image of, for this image set (0: not primed)."""
    marker = primed_marker(cache_dir, images)
    return int(json.loads(marker.read_text()).get("n", 0)) if marker.exists() else 0


def mark_primed(cache_dir: Path, images: str, n: int) -> None:
    """After a prime, or a cold stage run without one (``--prime skip``: it fetched all a prime would)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    primed_marker(cache_dir, images).write_text(json.dumps({"n": max(n, primed_up_to(cache_dir, images))}))


LOG_PER_MOVIE = 200
"""Requests the simulator's log keeps per movie of the library: a full image set's priming run and cold stage make
about 70 each, and a stage's requests must all still be in the log when the driver reads it."""


def request_log_limit(n: int) -> int:
    return max(500_000, LOG_PER_MOVIE * n)


def stage_records(records: list[dict[str, Any]], started: float, limit: int) -> list[dict[str, Any]]:
    """The requests made since ``started`` (the simulator's monotonic clock), or an error when the log, full, may
    have dropped some of them: a stage's counts are never silently short."""
    if len(records) >= limit and records[0]["started"] >= started:
        raise SystemExit(f"the simulator's request log ({limit:,} records) dropped requests of this stage: "
                         "raise bench.simulator.LOG_PER_MOVIE")
    return [r for r in records if r["started"] >= started]


URL_LABELS = (("TMDB API", "tmdb_api"), ("TMDB images", "tmdb_images"), ("fanart.tv API", "fanart_api"),
              ("fanart.tv assets", "fanart_assets"))
"""The simulator's start-up lines that announce each host's URL."""


class SimulatorProcess:
    def __init__(self, work: Path, cache_dir: Path, images: str = "full", log_limit: int = 500_000) -> None:
        self.log_path = work / "simulator-requests.jsonl"
        self.stdout_path = work / "simulator.out"
        self.log_limit = log_limit
        args = [PY, "-m", "metarr_pipeline.simulator", "--latency", str(LATENCY), "--tmdb-rps", str(TMDB_RPS),
                "--max-connections", str(CONNECTIONS), "--image-cache-dir", str(cache_dir),
                "--request-log", str(self.log_path), "--request-log-limit", str(log_limit)]
        if IMAGE_SETS[images] is not None:
            args += ["--max-images-per-kind", str(IMAGE_SETS[images])]
        self.log_path.unlink(missing_ok=True)
        self._out = self.stdout_path.open("w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._out, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.urls: dict[str, str] = {}
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        for line in self.proc.stdout:
            self._out.write(line)
            for label, key in URL_LABELS:
                if line.strip().startswith(label + " "):
                    self.urls[key] = line.split()[-1]
            if "Press Ctrl-C" in line or time.monotonic() > deadline:
                break
        if len(self.urls) != 4:
            self.stop()
            raise SystemExit(f"the simulator did not start: see {self.stdout_path}")
        self._out.flush()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def requests(self) -> list[dict[str, Any]]:
        """The whole request log (oldest first), dumped by the simulator on SIGUSR1."""
        self.log_path.unlink(missing_ok=True)
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 300  # a 10,000-movie log (~1 million records) takes tens of seconds to write
        while not self.log_path.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("the simulator did not write its request log")
            time.sleep(0.05)
        with self.log_path.open() as handle:
            return [json.loads(line) for line in handle]

    def requests_since(self, started: float) -> list[dict[str, Any]]:
        """The requests of a stage that started at ``started`` (``time.monotonic()``), all of them."""
        return stage_records(self.requests(), started, self.log_limit)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
