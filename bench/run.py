"""``make bench``: a synthetic N-movie library (default 1,000) run end to end through Dagster against the
provider simulator, measured per stage and compared with the bound the providers' limits impose.

    python bench/run.py [--n 1000] [--work bench/work] [--results bench/results] [--profile missed]

What it does (see bench/README.md for what is measured and how the bound is computed):

1. generates the library: N movie folders named like Radarr/Jellyfin do (``Title (Year) {tmdb-ID}``, one in
   twenty ``Title (Year)`` only, identified by a TMDB search), each holding a copy of one of five tiny real
   videos (h264/hevc/HDR10/mpeg4; mkv/mp4/avi), so the scan probes N real files;
2. starts ONE simulator process (``python -m metarr_pipeline.simulator``): 40 ms latency per request, TMDB
   API 40 requests/s, 20 connections per host; its request log is read back with SIGUSR1;
3. primes the simulator's rendered-image cache once per library size (an unmeasured run into a scratch
   state), because drawing real-sized originals is the simulator's CPU, not ours, and a CDN has none;
4. runs the stages, each in a fresh worker process that drives Dagster like a user does (an on-disk
   instance in a bench DAGSTER_HOME, library-wide batched runs over a partition range):
   ``cold`` scan → enrich → publish on an empty state; ``warm`` the same again with nothing changed;
   ``rescore`` the enrich job again after a ``[scoring.weights]`` change (a backfill);
5. measures wall, CPU (worker, and the simulator separately), peak RSS, provider requests by kind (from the
   simulator's log), bytes, images analysed, files written, Dagster runs and overhead; measures image
   analysis alone (candidates/s per CPU-second); checks the targets; profiles with py-spy every stage
   that misses one (a second, profiled run of that stage);
6. writes ``bench/results/<date>.json`` and ``<date>.md`` (``<date>-n<N>.*`` when N is not 1,000) and
   prints the table.

The worker half of this file (``_worker``) runs inside the measured process; it is internal.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import gzip
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
LIBRARY_VERSION = "1"

# --- the provider limits the simulator enforces (what "the providers allow") ----------------------------
LATENCY = 0.04
TMDB_RPS = 40.0
CONNECTIONS = 20
HOSTS = ("tmdb_api", "fanart_api", "tmdb_images", "fanart_assets")

# --- targets (for 1,000 movies; time targets scale linearly with N) ----------------------------------------
COLD_BOUND_RATIO = 1.5
WARM_SECONDS_PER_1000 = 30.0
RESCORE_SECONDS_PER_1000 = 20.0
ANALYSIS_PER_CPU_SECOND = 1000.0
PEAK_RSS_MB = 1536.0
DAGSTER_MS_PER_MOVIE = 50.0

RESCORE_WEIGHTS = {"resolution": 15.0, "aspect": 20.0, "language": 25.0, "community": 30.0, "provider": 10.0}
ORIGINAL_WEIGHTS = {"resolution": 30.0, "aspect": 20.0, "language": 20.0, "community": 20.0, "provider": 10.0}

# Five templates, copied round-robin: the probes see different codecs, containers and stream layouts.
TEMPLATES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("mkv", {"seconds": 2.0, "width": 320, "height": 134, "audio": (("ac3", 6, "eng"), ("aac", 2, "eng")),
             "subtitles": (("eng", False), ("fre", False))}),
    ("mkv", {"seconds": 2.0, "video_codec": "hevc", "audio": (("aac", 2, "fre"), ("aac", 2, "eng"))}),
    ("mp4", {"seconds": 2.0, "width": 320, "height": 136, "audio": (("aac", 2, "eng"),)}),
    ("avi", {"seconds": 2.0, "video_codec": "mpeg4", "audio": (("mp2", 2, ""),)}),
    ("mkv", {"seconds": 2.0, "video_codec": "hevc", "hdr10": True, "width": 320, "height": 134,
             "audio": (("eac3", 6, "eng"), ("ac3", 6, "ger"))}),
)


# =========================================================================================================
# library


def _safe(title: str) -> str:
    """A folder-safe title that still searches the same (words survive; tags and separators do not)."""
    text = re.sub(r'[/\\:*?"<>|{}\[\]()]', " ", title)
    return re.sub(r"\s+", " ", text).strip().rstrip(".") or "Untitled"


def library_plan(n: int) -> list[dict[str, Any]]:
    """The N movies: TMDB id, folder and file name, template. Deterministic, and a prefix for smaller N."""
    from metarr_pipeline.simulator import Catalog
    from metarr_pipeline.simulator.variety import REDIRECTS, is_removed

    catalog = Catalog(seed=0)
    known = set(Catalog.known_ids())
    plan: list[dict[str, Any]] = []
    seen_folders: set[str] = set()
    candidate = 101
    while len(plan) < n:
        tmdb_id, candidate = candidate, candidate + 37
        if tmdb_id in known or tmdb_id in REDIRECTS or is_removed(tmdb_id):
            continue
        movie = catalog.movie(tmdb_id)
        if movie is None or not movie.release_date[:4].isdigit():
            continue
        title, year = _safe(movie.title), int(movie.release_date[:4])
        tagged = True
        if len(plan) % 20 == 7 and catalog.search(title, year) == [tmdb_id]:
            tagged = False  # identified by a TMDB search, as an untagged library would be
        folder = f"{title} ({year})" + (f" {{tmdb-{tmdb_id}}}" if tagged else "")
        if folder in seen_folders:
            continue
        seen_folders.add(folder)
        template = len(plan) % len(TEMPLATES)
        plan.append({"tmdb_id": tmdb_id, "folder": folder, "file": f"{title} ({year}).{TEMPLATES[template][0]}",
                     "template": template, "tagged": tagged})
    return plan


def make_templates(folder: Path) -> list[Path]:
    from metarr_pipeline.demo.media import write_video

    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"version-{LIBRARY_VERSION}"
    paths = [folder / f"template{i}.{ext}" for i, (ext, _) in enumerate(TEMPLATES)]
    if not marker.exists() or not all(p.exists() for p in paths):
        for path, (_, spec) in zip(paths, TEMPLATES, strict=True):
            write_video(path, **spec)
        marker.touch()
    return paths


def make_library(root: Path, plan: list[dict[str, Any]], templates: list[Path]) -> None:
    """A pristine library (anything published by an earlier run is gone). Copies get their own mtime."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for movie in plan:
        folder = root / movie["folder"]
        folder.mkdir()
        shutil.copyfile(templates[movie["template"]], folder / movie["file"])


def library_snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """path → (size, mtime_ns, inode): a write, even of identical bytes, changes it."""
    out: dict[str, tuple[int, int, int]] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            st = os.stat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return out


def snapshot_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    return {"created": sum(1 for p in after if p not in before),
            "removed": sum(1 for p in before if p not in after),
            "modified": sum(1 for p, v in after.items() if p in before and before[p] != v)}


# =========================================================================================================
# simulator process


class SimulatorProcess:
    def __init__(self, work: Path, cache_dir: Path) -> None:
        self.log_path = work / "simulator-requests.jsonl"
        self.stdout_path = work / "simulator.out"
        args = [PY, "-m", "metarr_pipeline.simulator", "--latency", str(LATENCY), "--tmdb-rps", str(TMDB_RPS),
                "--max-connections", str(CONNECTIONS), "--image-cache-dir", str(cache_dir),
                "--request-log", str(self.log_path)]
        self.log_path.unlink(missing_ok=True)
        self._out = self.stdout_path.open("w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._out, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.urls: dict[str, str] = {}
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        for line in self.proc.stdout:
            self._out.write(line)
            for label, key in (("TMDB API", "tmdb_api"), ("TMDB images", "tmdb_images"),
                               ("fanart.tv API", "fanart_api"), ("fanart.tv assets", "fanart_assets")):
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
        deadline = time.monotonic() + 30
        while not self.log_path.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("the simulator did not write its request log")
            time.sleep(0.05)
        with self.log_path.open() as handle:
            return [json.loads(line) for line in handle]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


def classify(record: dict[str, Any]) -> str:
    host, path = record["host"], record["path"]
    if host == "tmdb_images":
        size = path.split("/")[3] if path.count("/") >= 4 else "?"
        return {"w300": "tmdb_preview", "original": "tmdb_original", "h632": "headshot"}.get(size, f"tmdb_{size}")
    if host == "fanart_assets":
        return "fanart_preview" if path.startswith("/preview/") else "fanart_original"
    if host == "fanart_api":
        return "fanart_movie"
    return f"tmdb_{record['kind']}"


def request_stats(records: list[dict[str, Any]]) -> dict[str, Any]:
    by_kind: collections.Counter[str] = collections.Counter()
    answered: collections.Counter[str] = collections.Counter()  # by kind, without 429 refusals (not calls made)
    by_host: collections.Counter[str] = collections.Counter()
    necessary: dict[str, set[str]] = {h: set() for h in HOSTS}
    status: collections.Counter[str] = collections.Counter()
    bytes_by_host: collections.Counter[str] = collections.Counter()
    for r in records:
        by_kind[classify(r)] += 1
        if r["status"] != 429:
            answered[classify(r)] += 1
        by_host[r["host"]] += 1
        bytes_by_host[r["host"]] += r["bytes_sent"]
        status[str(r["status"])] += 1
        if r["status"] != 429 and r["status"] < 500:
            necessary[r["host"]].add(r["path"] + "?" + re.sub(r"(api_key|client_key)=[^&]*", "", r["query"]))
    duplicates = sum(by_host[h] for h in HOSTS) - sum(len(s) for s in necessary.values()) \
        - status.get("429", 0) - sum(v for k, v in status.items() if k.startswith("5"))
    return {
        "total": len(records),
        "by_host": dict(sorted(by_host.items())),
        "by_kind": dict(sorted(by_kind.items())),
        "answered_by_kind": dict(sorted(answered.items())),
        "by_status": dict(sorted(status.items())),
        "necessary_by_host": {h: len(s) for h, s in necessary.items()},
        "repeated": duplicates,
        "bytes_by_host": dict(sorted(bytes_by_host.items())),
        "bytes": sum(bytes_by_host.values()),
        "image_downloads": sum(by_host[h] for h in ("tmdb_images", "fanart_assets")),
        "image_bytes": sum(bytes_by_host[h] for h in ("tmdb_images", "fanart_assets")),
    }


def provider_bound(necessary: dict[str, int]) -> dict[str, Any]:
    """The least time the providers' limits allow for these requests (see bench/README.md)."""
    per_host = {}
    for host in HOSTS:
        n = necessary.get(host, 0)
        by_rate = n / TMDB_RPS if host == "tmdb_api" else 0.0
        by_connections = n * LATENCY / CONNECTIONS
        per_host[host] = round(max(by_rate, by_connections), 2)
    api = max(per_host["tmdb_api"], per_host["fanart_api"])
    images = max(per_host["tmdb_images"], per_host["fanart_assets"])
    return {"per_host_s": per_host, "api_s": round(api, 2), "images_s": round(images, 2),
            "bound_s": round(api + images, 2), "overlapped_bound_s": round(max(per_host.values()), 2)}


# =========================================================================================================
# configuration


def write_config(path: Path, state: Path, library: Path, sim: SimulatorProcess,
                 weights: dict[str, float] | None = None) -> None:
    """The bench's metarr.toml: the simulator's URLs, and client limits equal to the providers' limits (the
    defaults are more conservative for fanart.tv and the image CDNs; see bench/README.md)."""
    hosts = [sim.urls["tmdb_images"].split("/")[2], sim.urls["fanart_assets"].split("/")[2]]
    text = f"""# generated by bench/run.py
[data]
dir = "{state}"

[library]
roots = ["{library}"]

[providers]
mode = "network"
image_hosts = {json.dumps(hosts)}

[providers.tmdb]
api_url = "{sim.urls['tmdb_api']}"
image_url = "{sim.urls['tmdb_images']}"
requests_per_second = {TMDB_RPS}
max_connections = {CONNECTIONS}
image_requests_per_second = 1000.0
image_max_connections = {CONNECTIONS}

[providers.fanart]
api_url = "{sim.urls['fanart_api']}"
requests_per_second = 1000.0
max_connections = {CONNECTIONS}
image_requests_per_second = 1000.0
image_max_connections = {CONNECTIONS}

[publish]
auto_publish = true
"""
    if weights:
        text += "\n[scoring.weights]\n" + "".join(f"{k} = {v}\n" for k, v in weights.items())
    path.write_text(text, encoding="utf-8")


def worker_env(config: Path, dagster_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMDB_", "FANART_", "METARR_"))}
    env.update({"METARR_CONFIG": str(config), "DAGSTER_HOME": str(dagster_home), "TMDB_API_KEY": "bench-key",
                "FANART_API_KEY": "bench-key", "PYTHONUNBUFFERED": "1"})
    env.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")  # as the Makefile sets it
    return env


def fresh_dagster_home(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    shutil.copyfile(ROOT / "dagster.yaml", path / "dagster.yaml")


# =========================================================================================================
# stages (driver side)


def run_worker(name: str, jobs: list[str], config: Path, dagster_home: Path, work: Path,
               sim: SimulatorProcess, *, profile_to: Path | None = None, extra: dict[str, Any] | None = None
               ) -> dict[str, Any]:
    plan = {"stage": name, "jobs": jobs, **(extra or {})}
    if profile_to is not None:
        plan["pyinstrument"] = str(profile_to.parent / f"{profile_to.name}-pyinstrument.txt")
    plan_path = work / f"plan-{name}.json"
    out_path = work / f"result-{name}.json"
    plan_path.write_text(json.dumps(plan))
    out_path.unlink(missing_ok=True)
    cmd = [PY, str(Path(__file__).resolve()), "_worker", str(plan_path), str(out_path)]
    spies: list[subprocess.Popen[bytes]] = []
    if profile_to is not None:
        spy = str(Path(PY).with_name("py-spy"))
        cmd = [spy, "record", "--rate", "100", "--format", "raw", "--nonblocking", "-o",
               str(profile_to.with_suffix(".pipeline.raw")), "--", *cmd]
        spies.append(subprocess.Popen([spy, "record", "--rate", "50", "--format", "raw", "--nonblocking",
                                       "--pid", str(sim.pid), "-o", str(profile_to.with_suffix(".simulator.raw"))],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    log = (work / f"worker-{name}.log").open("w")
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sim_cpu_before = sim.cpu_seconds()
    busy_before = machine_busy_seconds()
    started_mono = time.monotonic()
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=worker_env(config, dagster_home), stdout=log, stderr=subprocess.STDOUT,
                          check=False)
    wall = time.perf_counter() - started
    sim_cpu = sim.cpu_seconds() - sim_cpu_before
    busy = machine_busy_seconds() - busy_before
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    log.close()
    for spy_proc in spies:
        spy_proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            spy_proc.wait(timeout=60)
    if proc.returncode != 0 or not out_path.exists():
        raise SystemExit(f"stage {name} failed (exit {proc.returncode}): see {work / f'worker-{name}.log'}")
    result = json.loads(out_path.read_text())
    records = [r for r in sim.requests() if r["started"] >= started_mono]
    result.update({
        "wall_s": round(wall, 2),
        "cpu_s": round((children_after.ru_utime - children_before.ru_utime)
                       + (children_after.ru_stime - children_before.ru_stime), 2),
        "simulator_cpu_s": round(sim_cpu, 2),
        # CPU the rest of the machine used meanwhile (other programs sharing the 2 cores distort the timings)
        "other_processes_cpu_s": round(busy - sim_cpu - (children_after.ru_utime - children_before.ru_utime)
                                       - (children_after.ru_stime - children_before.ru_stime), 1),
        "requests": request_stats(records),
    })
    return result


def machine_busy_seconds() -> float:
    """Non-idle CPU time of the whole machine so far (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def summarise_stage(result: dict[str, Any], n: int) -> dict[str, Any]:
    runs = result["runs"]
    partitioned = [r for r in runs if r["partitions"]]
    run_wall = sum(r["wall_s"] for r in runs)
    domain = sum(r["domain_s"] for r in runs)
    part_overhead = sum(r["wall_s"] - r["domain_s"] for r in partitioned)
    by_job: dict[str, list[float]] = {}
    for r in partitioned:
        acc = by_job.setdefault(r["job"], [0.0, 0.0])
        acc[0] += r["wall_s"] - r["domain_s"]
        acc[1] += r["partitions"]
    counters: dict[str, Any] = collections.defaultdict(int)
    for r in runs:
        for k, v in r["counters"].items():
            if isinstance(v, int | float):
                counters[k] += v
    return {
        "dagster_runs": result["dagster_runs_launched"],
        "run_wall_s": round(run_wall, 2),
        "domain_s": round(domain, 2),
        "dagster_overhead_s": round(run_wall - domain, 2),
        "dagster_overhead_ms_per_movie": round(1000 * part_overhead / max(1, n), 1),
        # per library-wide run: a job's overhead over the movies its runs covered
        "dagster_overhead_ms_per_movie_by_job": {job: round(1000 * o / max(1, p), 1) for job, (o, p) in by_job.items()},
        "process_startup_s": round(result["wall_s"] - run_wall, 2),
        "counters": dict(counters),
    }


# =========================================================================================================
# profiles


def summarise_profile(raw: Path, top: int = 30) -> str:
    """Self and inclusive samples per function from py-spy's collapsed stacks, plus a stage breakdown."""
    if not raw.exists():
        return f"(no profile at {raw.name})\n"
    self_samples: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    buckets: collections.Counter[str] = collections.Counter()
    total = 0
    markers = (
        ("image analysis (decode + pHash)", ("analyse_rendition",)),
        ("original verification (full decode)", ("verify_original",)),
        ("blob writes (sha256, fsync)", ("put (metarr_pipeline/artwork/blobs.py",)),
        ("HTTP client (httpx, limiter)", ("httpx/", "httpcore/", "providers/http.py")),
        ("scan (walk, identify, probe)", ("scan_library",)),
        ("publish (NFO, artwork files)", ("publish_movies",)),
        ("state store (DuckDB)", ("store/store.py", "duckdb")),
        ("scoring/selection (polars)", ("score_candidates", "artwork/selection.py", "polars/")),
        ("Dagster framework", ("dagster/",)),
    )
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        leaf = frames[-1]
        self_samples[_short(leaf)] += n
        for f in set(_short(f) for f in frames):
            incl[f] += n
        for label, needles in markers:
            if any(needle in stack for needle in needles):
                buckets[label] += n
                break
        else:
            buckets["other"] += n
    lines = [f"py-spy samples: {total} (non-idle, all threads; 100 Hz pipeline, 50 Hz simulator)", "",
             "where the samples fall (first match, in this order):"]
    lines += [f"  {v / max(1, total):6.1%}  {k}" for k, v in buckets.most_common()]
    lines += ["", f"top {top} functions by own samples:"]
    lines += [f"  {v / max(1, total):6.1%}  {k}" for k, v in self_samples.most_common(top)]
    lines += ["", f"top {top} functions by inclusive samples:"]
    lines += [f"  {v / max(1, total):6.1%}  {k}" for k, v in incl.most_common(top)]
    return "\n".join(lines) + "\n"


def _short(frame: str) -> str:
    frame = re.sub(r"\(/[^)]*?/site-packages/", "(", frame)
    return re.sub(re.escape(str(ROOT)) + "/", "", frame)


# =========================================================================================================
# report


def verdicts(results: dict[str, Any], n: int) -> list[dict[str, Any]]:
    scale = n / 1000
    stages = results["stages"]
    out = []

    def add(name: str, measured: Any, target: str, ok: bool, stage: str) -> None:
        out.append({"target": name, "measured": measured, "goal": target, "met": bool(ok), "stage": stage})

    cold = stages.get("cold")
    if cold:
        b = cold["bound"]
        add("cold: wall ≤ 1.5 × provider bound", f"{cold['wall_s']} s = {cold['ratio_to_bound']} × {b['bound_s']} s",
            "≤ 1.5 ×", cold["ratio_to_bound"] <= COLD_BOUND_RATIO, "cold")
        per = cold["per_movie_calls"]
        add("cold: ≤ 1 TMDB + 1 fanart.tv call per movie (+ collections)",
            f"{per['tmdb_movie']} + {per['fanart_movie']} (+ {per['tmdb_collection']} collections)"
            + (f"; {cold['requests']['by_status']['429']} refused with 429 and retried"
               if cold["requests"]["by_status"].get("429") else ""),
            "≤ 1 + 1", per["tmdb_movie"] <= 1.0 and per["fanart_movie"] <= 1.0, "cold")
    warm = stages.get("warm")
    if warm:
        writes = warm["library_writes"]
        add("warm: zero provider requests, downloads, library writes",
            f"{warm['requests']['total']} requests, {warm['requests']['image_downloads']} downloads, "
            f"{writes} writes", "0 / 0 / 0",
            warm["requests"]["total"] == 0 and writes == 0, "warm")
        add(f"warm: ≤ {WARM_SECONDS_PER_1000 * scale:.1f} s", f"{warm['wall_s']} s",
            f"≤ {WARM_SECONDS_PER_1000 * scale:.1f} s", warm["wall_s"] <= WARM_SECONDS_PER_1000 * scale, "warm")
    rescore = stages.get("rescore")
    if rescore:
        add("rescore: zero network", f"{rescore['requests']['total']} requests "
            f"({', '.join(f'{k} {v}' for k, v in rescore['requests']['by_kind'].items()) or 'none'})",
            "0", rescore["requests"]["total"] == 0, "rescore")
        add(f"rescore: ≤ {RESCORE_SECONDS_PER_1000 * scale:.1f} s", f"{rescore['wall_s']} s",
            f"≤ {RESCORE_SECONDS_PER_1000 * scale:.1f} s",
            rescore["wall_s"] <= RESCORE_SECONDS_PER_1000 * scale, "rescore")
    analysis = results.get("analysis")
    if analysis:
        add("image analysis ≥ 1,000 candidates/s per CPU-second", f"{analysis['per_cpu_second']:.0f}/s",
            "≥ 1000", analysis["per_cpu_second"] >= ANALYSIS_PER_CPU_SECOND, "analysis")
    peak = max((s["peak_rss_mb"] for s in stages.values()), default=0)
    add("peak memory ≤ 1.5 GB (pipeline process)", f"{peak:.0f} MB", "≤ 1536 MB", peak <= PEAK_RSS_MB,
        max(stages, key=lambda k: stages[k]["peak_rss_mb"]) if stages else "")
    per_run = [(ms, stage, job) for stage, st in stages.items()
               for job, ms in st["dagster"].get("dagster_overhead_ms_per_movie_by_job", {}).items()]
    if per_run:
        ms, stage, job = max(per_run)
        add("Dagster overhead ≤ 50 ms/movie (per library-wide run)", f"{ms} ms ({stage} {job} runs)", "≤ 50 ms",
            ms <= DAGSTER_MS_PER_MOVIE, stage)
    return out


def markdown(results: dict[str, Any]) -> str:
    n = results["n_movies"]
    lines = [f"**{n} movies**, {results['date']}, {results['machine']['cpus']} cores, simulator on the same "
             f"machine ({int(LATENCY * 1000)} ms latency, TMDB {int(TMDB_RPS)} req/s, {CONNECTIONS} connections "
             f"per host).", "",
             "| stage | wall s | bound s (ratio) | CPU s pipeline / simulator | peak RSS MB | requests API / images "
             "| MB down | images analysed | files written | Dagster runs | Dagster ms/movie |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in results["stages"].items():
        req = s["requests"]
        api = req["by_host"].get("tmdb_api", 0) + req["by_host"].get("fanart_api", 0)
        bound = f"{s['bound']['bound_s']} ({s['ratio_to_bound']}×)" if s.get("bound") else "–"
        c = s["dagster"]["counters"]
        lines.append(
            f"| {name} | {s['wall_s']} | {bound} | {s['cpu_s']} / {s['simulator_cpu_s']} | {s['peak_rss_mb']:.0f} "
            f"| {api} / {req['image_downloads']} | {req['image_bytes'] / 1e6:.1f} | {c.get('previews_analysed', 0)} "
            f"| {c.get('files_written', 0)} | {s['dagster']['dagster_runs']} "
            f"| {s['dagster']['dagster_overhead_ms_per_movie']} |")
    other = {name: s["other_processes_cpu_s"] for name, s in results["stages"].items()
             if s.get("other_processes_cpu_s", 0) > 10}
    if other:
        lines += ["", "Other programs on the machine used CPU during the stages (timings are inflated): "
                  + ", ".join(f"{k} {v:.0f} s" for k, v in other.items()) + "."]
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {v['target']} | {v['measured']} | {'yes' if v['met'] else '**no**'} |" for v in results["verdicts"]]
    if results.get("profiles"):
        lines += ["", "Profiles of the stages that missed a target: " + ", ".join(
            f"`{Path(p).name}`" for p in results["profiles"].values())]
    return "\n".join(lines) + "\n"


def write_results(folder: Path, stem: str, results: dict[str, Any]) -> str:
    table = markdown(results)
    (folder / f"{stem}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (folder / f"{stem}.md").write_text(table)
    return table


def update_readme(table: str) -> bool:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start not in text or end not in text:
        return False
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{table}{end}{tail}", encoding="utf-8")
    return True


# =========================================================================================================
# driver


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=int(os.environ.get("N", "1000")), help="movies (default 1000)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--profile", choices=("never", "missed", "always"), default="missed",
                        help="py-spy profile of stages that miss a target (a second run of that stage)")
    parser.add_argument("--stages", default="cold,warm,rescore",
                        help="without cold, warm/rescore run on the state an earlier run left")
    parser.add_argument("--label", default="", help="added to the result files' names (no README update)")
    args = parser.parse_args(argv)
    n = args.n
    work = args.work.resolve() / f"n{n}"
    work.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    stages_wanted = args.stages.split(",")
    date = dt.date.today().isoformat()
    stem = (date if n == 1000 else f"{date}-n{n}") + (f"-{args.label}" if args.label else "")

    print(f"bench: {n} movies, work dir {work}")
    t = time.perf_counter()
    plan = library_plan(n)
    templates = make_templates(args.work.resolve() / "templates")
    library = work / "library"
    if "cold" in stages_wanted or not library.exists():
        make_library(library, plan, templates)
    print(f"bench: library generated in {time.perf_counter() - t:.1f} s "
          f"({sum(1 for m in plan if not m['tagged'])} folders without an id tag)")

    sim_cache = args.work.resolve() / "simulator-cache"
    sim = SimulatorProcess(work, sim_cache)
    results: dict[str, Any] = {
        "date": date, "n_movies": n,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "limits": {"latency_s": LATENCY, "tmdb_api_rps": TMDB_RPS, "connections_per_host": CONNECTIONS,
                   "client": "limits set equal to the simulator's (see bench/README.md)"},
        "library": {"movies": n, "untagged": sum(1 for m in plan if not m["tagged"]),
                    "templates": [spec for _, spec in TEMPLATES]},
        "stages": {}, "profiles": {},
    }
    try:
        # --- priming: render the images once, so the simulator's drawing is not measured -------------------
        primed_marker = sim_cache / "primed.json"
        primed = json.loads(primed_marker.read_text()).get("n", 0) if primed_marker.exists() else 0
        if primed < n:
            print("bench: priming the simulator's image cache (unmeasured; once per library size) ...")
            scratch = work / "prime"
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir()
            write_config(scratch / "metarr.toml", scratch / "state", library, sim)
            fresh_dagster_home(scratch / "dagster")
            prime = run_worker("prime", ["scan", "enrich"], scratch / "metarr.toml", scratch / "dagster", work, sim)
            print(f"bench: primed in {prime['wall_s']} s ({prime['requests']['total']} requests)")
            results["prime_s"] = prime["wall_s"]
            shutil.rmtree(scratch, ignore_errors=True)
            sim_cache.mkdir(parents=True, exist_ok=True)
            primed_marker.write_text(json.dumps({"n": n}))

        state, dagster_home, config = work / "state", work / "dagster", work / "metarr.toml"
        weights_file = work / "weights.json"
        if "cold" in stages_wanted:
            shutil.rmtree(state, ignore_errors=True)
            fresh_dagster_home(dagster_home)
            weights_file.write_text("null")
        elif not state.exists():
            raise SystemExit("without the cold stage, an earlier run's state is needed in " + str(state))

        def stage(name: str, jobs: list[str], weights: dict[str, float] | str | None = "current",
                  profile_to: Path | None = None) -> dict[str, Any]:
            if weights == "current":
                weights = json.loads(weights_file.read_text()) if weights_file.exists() else None
            write_config(config, state, library, sim, weights)  # type: ignore[arg-type]
            weights_file.write_text(json.dumps(weights))
            before = library_snapshot(library)
            print(f"bench: stage {name}{' (profiled)' if profile_to else ''}: {' → '.join(jobs)} ...", flush=True)
            result = run_worker(name, jobs, config, dagster_home, work, sim, profile_to=profile_to)
            diff = snapshot_diff(before, library_snapshot(library))
            result["library_changes"] = diff
            result["library_writes"] = diff["created"] + diff["modified"] + diff["removed"]
            result["dagster"] = summarise_stage(result, n)
            print(f"bench:   {result['wall_s']} s wall, {result['cpu_s']} s CPU, "
                  f"{result['requests']['total']} requests, peak {result['peak_rss_mb']:.0f} MB", flush=True)
            return result

        if "cold" in stages_wanted:
            cold = stage("cold", ["scan", "enrich", "publish"], None)
            req = cold["requests"]
            cold["bound"] = provider_bound(req["necessary_by_host"])
            cold["ratio_to_bound"] = round(cold["wall_s"] / max(0.01, cold["bound"]["bound_s"]), 2)
            cold["ratio_to_overlapped_bound"] = round(cold["wall_s"] / max(0.01, cold["bound"]["overlapped_bound_s"]),
                                                      2)
            movies = max(1, cold["dagster"]["counters"].get("identified", n))
            answered = req["answered_by_kind"]
            cold["per_movie_calls"] = {k: round(answered.get(f"tmdb_{k}" if k != "fanart_movie" else k, 0) / movies, 3)
                                       for k in ("movie", "fanart_movie", "collection", "search")}
            cold["per_movie_calls"]["tmdb_movie"] = cold["per_movie_calls"].pop("movie")
            cold["per_movie_calls"]["tmdb_collection"] = cold["per_movie_calls"].pop("collection")
            results["stages"]["cold"] = cold
        if "warm" in stages_wanted:
            results["stages"]["warm"] = stage("warm", ["scan", "enrich", "publish"])
        if "rescore" in stages_wanted:
            results["stages"]["rescore"] = stage("rescore", ["backfill"], RESCORE_WEIGHTS)

        # --- image analysis alone -----------------------------------------------------------------------------
        previews = [f"{sim.urls['tmdb_images'].rsplit('/t/p', 1)[0]}{r['path']}" if r["host"] == "tmdb_images"
                    else f"http://{sim.urls['fanart_assets'].split('/')[2]}{r['path']}"
                    for r in sim.requests() if classify(r) in ("tmdb_preview", "fanart_preview") and r["status"] == 200]
        previews = list(dict.fromkeys(previews))[:3000]
        analysis = run_worker("analysis", [], config, dagster_home, work, sim, extra={"previews": previews})
        results["analysis"] = analysis["analysis"]

        results["verdicts"] = verdicts(results, n)
        results["simulator_peak_rss_mb"] = round(sim.peak_rss_mb(), 1)
        write_results(args.results, stem, results)

        # --- profiles of the stages that missed a target ------------------------------------------------------
        missed = {v["stage"] for v in results["verdicts"] if not v["met"]} & {"cold", "warm", "rescore"}
        to_profile = {"never": set(), "missed": missed, "always": {"cold", "warm", "rescore"}}[args.profile]
        to_profile &= set(results["stages"])
        for name in ("cold", "warm", "rescore"):
            if name not in to_profile:
                continue
            target = args.results / f"{stem}-{name}"
            if name == "cold":  # a cold run needs an empty state and a pristine library
                make_library(library, plan, templates)
                shutil.rmtree(state, ignore_errors=True)
                fresh_dagster_home(dagster_home)
                weights_file.write_text("null")
                profiled = stage("cold", ["scan", "enrich", "publish"], None, profile_to=target)
            elif name == "warm":
                profiled = stage("warm", ["scan", "enrich", "publish"], profile_to=target)
            else:  # flip the weights: the same amount of re-scoring
                now = json.loads(weights_file.read_text())
                profiled = stage("rescore", ["backfill"], ORIGINAL_WEIGHTS if now == RESCORE_WEIGHTS
                                 else RESCORE_WEIGHTS, profile_to=target)
            summary = (f"# {name}, profiled run: {profiled['wall_s']} s wall, {profiled['cpu_s']} s CPU "
                       f"(unprofiled: {results['stages'][name]['wall_s']} s)\n\n## pipeline process\n\n"
                       + summarise_profile(target.with_suffix(".pipeline.raw"))
                       + "\n## simulator process\n\n" + summarise_profile(target.with_suffix(".simulator.raw"), 15))
            wall_profile = target.parent / f"{target.name}-pyinstrument.txt"
            if wall_profile.exists():
                summary += ("\n## pipeline main thread, wall clock (pyinstrument; the step runs on this thread, "
                            "its pools' waits show as the domain call)\n\n" + wall_profile.read_text())
                wall_profile.unlink()
            (target.parent / f"{target.name}-profile.txt").write_text(summary)
            for part in ("pipeline", "simulator"):
                raw = target.with_suffix(f".{part}.raw")
                if raw.exists():
                    with raw.open("rb") as src, gzip.open(f"{target}-{part}.pyspy.txt.gz", "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    raw.unlink()
            results["profiles"][name] = str((target.parent / f"{target.name}-profile.txt").relative_to(ROOT))
            results["stages"][name]["profiled_run"] = {"wall_s": profiled["wall_s"], "cpu_s": profiled["cpu_s"]}
    finally:
        sim.stop()

    table = write_results(args.results, stem, results)
    print()
    print(table)
    print(f"bench: wrote {args.results / (stem + '.json')} and .md")
    if n == 1000 and not args.label and set(stages_wanted) >= {"cold", "warm", "rescore"} and update_readme(table):
        print("bench: README.md's Benchmark table updated")
    return 0


# =========================================================================================================
# worker: runs inside the measured process


def _metadata_values(materialization: Any) -> dict[str, Any]:
    out = {}
    for key, value in (materialization.metadata or {}).items():
        raw = getattr(value, "value", value)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            out[key] = raw
    return out


def _worker(plan_path: str, out_path: str) -> int:
    plan = json.loads(Path(plan_path).read_text())
    if plan["stage"] == "analysis":
        return _analysis_worker(plan, out_path)
    import warnings

    import dagster as dg

    from dagster_project.definitions import auto_publish_sensor, config_change_sensor, defs, enrich_schedule
    from dagster_project.resources import MetarrResource

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    resources = {"metarr": MetarrResource()}  # $METARR_CONFIG, as in the user's code location

    def requests_for(step: str, instance: dg.DagsterInstance) -> list[tuple[str, dict[str, str], int, Any]]:
        """(job, tags, partitions) of the runs a user's automation launches for this step, asked of the real
        schedule and sensors: the nightly enrichment schedule, the auto-publish sensor, the config-change
        backfill sensor. Nothing due → no run."""
        if step == "scan":
            return [("scan_library_job", {}, 0, None)]
        if step == "enrich":
            result = enrich_schedule.evaluate_tick(dg.build_schedule_context(
                instance=instance, resources=resources, scheduled_execution_time=dt.datetime.now()))
            reqs, default_job = list(result.run_requests or []), "enrich_job"
        else:
            sensor = auto_publish_sensor if step == "publish" else config_change_sensor
            result = sensor(dg.build_sensor_context(instance=instance, resources=resources))
            reqs = result if isinstance(result, list) else list(getattr(result, "run_requests", None) or [])
            default_job = "publish_job"
        keys = instance.get_dynamic_partitions("movies")
        position = {k: i for i, k in enumerate(keys)}
        return [(r.job_name or default_job, dict(r.tags),
                 position[r.tags["dagster/asset_partition_range_end"]]
                 - position[r.tags["dagster/asset_partition_range_start"]] + 1, r.asset_selection) for r in reqs]
    # asset → the metadata key that holds the domain function's own time (its report's ``seconds``)
    domain_seconds_of = {"library_scan": "seconds", "provider_metadata": "seconds", "cached_artwork": "seconds",
                         "published_library_files": "seconds"}
    runs = []
    profiler = None
    if plan.get("pyinstrument"):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    with dg.DagsterInstance.get() as instance:
        runs_before = instance.get_runs_count()
        for step in plan["jobs"]:
            for job_name, tags, partitions, assets in requests_for(step, instance):
                job = {"scan_library_job": "scan", "enrich_job": "enrich", "publish_job": "publish"}[job_name]
                job_def = defs.resolve_job_def(job_name)
                cpu0 = resource.getrusage(resource.RUSAGE_SELF)
                t0 = time.perf_counter()
                result = job_def.execute_in_process(instance=instance, tags=tags, raise_on_error=False,
                                                    asset_selection=assets)
                wall = time.perf_counter() - t0
                cpu1 = resource.getrusage(resource.RUSAGE_SELF)
                per_asset: dict[str, dict[str, Any]] = {}
                for event in result.get_asset_materialization_events():
                    materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
                    key = materialization.asset_key.to_user_string()
                    values = _metadata_values(materialization)
                    merged = per_asset.setdefault(key, {})
                    for k, v in values.items():  # run-level numbers repeat on every partition: keep one
                        merged[k] = max(merged.get(k, v), v)
                domain = sum(per_asset.get(a, {}).get(k, 0.0) for a, k in domain_seconds_of.items())
                counters: dict[str, Any] = {}
                for asset in ("library_scan", "provider_metadata", "artwork_candidates", "artwork_selection",
                              "cached_artwork", "actor_thumbnails", "published_library_files"):
                    for k, v in per_asset.get(asset, {}).items():
                        if k != "seconds":
                            counters[k] = counters.get(k, 0) + v
                runs.append({"job": job, "partitions": partitions, "success": result.success,
                             "wall_s": round(wall, 3), "domain_s": round(domain, 3),
                             "cpu_s": round(cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime, 2),
                             "domain_s_by_asset": {a: per_asset.get(a, {}).get(k) for a, k in domain_seconds_of.items()
                                                   if a in per_asset},
                             "counters": counters,
                             "peak_rss_mb_so_far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
                print(f"{job}: {partitions} partitions, {wall:.1f} s, success={result.success}", flush=True)
                if not result.success:
                    raise SystemExit(f"the {job} run failed; see the log above")
        launched = instance.get_runs_count() - runs_before
    if profiler is not None:
        profiler.stop()
        Path(plan["pyinstrument"]).write_text(profiler.output_text(unicode=True, color=False))
    Path(out_path).write_text(json.dumps({
        "runs": runs, "dagster_runs_launched": launched,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    return 0


def _analysis_worker(plan: dict[str, Any], out_path: str) -> int:
    """Image analysis alone: the previews fetched first (not timed), then analysed on one thread."""
    import httpx

    from metarr_pipeline.artwork.imaging import analyse_rendition

    with httpx.Client(timeout=30) as client:
        blobs = [client.get(url).content for url in plan["previews"]]
    for data in blobs[:50]:  # warm-up: imports, numpy, first decodes
        analyse_rendition(data)
    cpu0, t0 = time.thread_time(), time.perf_counter()
    failures = 0
    for data in blobs:
        try:
            analyse_rendition(data)
        except Exception:
            failures += 1
    cpu, wall = time.thread_time() - cpu0, time.perf_counter() - t0
    Path(out_path).write_text(json.dumps({
        "runs": [], "dagster_runs_launched": 0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "analysis": {"previews": len(blobs), "failures": failures, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
                     "per_cpu_second": round(len(blobs) / max(cpu, 1e-9), 1),
                     "bytes": sum(len(b) for b in blobs)},
    }))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_worker":
        sys.exit(_worker(sys.argv[2], sys.argv[3]))
    sys.exit(main())
