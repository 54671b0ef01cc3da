"""Profiles of a stage that missed a target: where its CPU went (py-spy) and where it waited (pyinstrument).

A profiled stage is a second run of that stage (profiling slows it), so the measured numbers stay unprofiled.
py-spy samples every thread of the worker and of the simulator; the summary groups the samples by what the
pipeline was doing. pyinstrument times the worker's main thread by the wall clock, where the step waits for
its pools.
"""

from __future__ import annotations

import collections
import gzip
import re
import shutil
from pathlib import Path
from typing import Any

from bench import ROOT

MARKERS = (
    ("image analysis (decode + pHash)", ("analyse_rendition",)),
    ("original verification (full decode)", ("verify_original",)),
    ("blob writes (sha256, fsync)", ("put (metarr_pipeline/blobs/blobstore.py",)),
    ("HTTP client (httpx, limiter)", ("httpx/", "httpcore/", "providers/http.py")),
    ("scan (walk, identify, probe)", ("scan_library",)),
    ("publish (NFO, artwork files)", ("publish_movies",)),
    ("state store (DuckDB)", ("metarr_pipeline/store/", "duckdb")),
    ("scoring/selection (polars)", ("score_candidates", "artwork/selection.py", "polars/")),
    ("Dagster framework", ("dagster/",)),
)
"""A sample counts for the first activity one of whose needles is in its stack."""


def summarise_profile(raw: Path, top: int = 30) -> str:
    """Self and inclusive samples per function from py-spy's collapsed stacks, plus a stage breakdown."""
    if not raw.exists():
        return f"(no profile at {raw.name})\n"
    self_samples: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    buckets: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        self_samples[_short(frames[-1])] += n
        for f in set(_short(f) for f in frames):
            incl[f] += n
        label = next((label for label, needles in MARKERS if any(needle in stack for needle in needles)), "other")
        buckets[label] += n
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


def write_profile(name: str, target: Path, profiled: dict[str, Any], unprofiled_wall_s: float) -> Path:
    """``<target>-profile.txt`` (the summary), ``<target>-{pipeline,simulator}.pyspy.txt.gz`` (the stacks);
    the raw files are removed. Returns the summary's path."""
    summary = (f"# {name}, profiled run: {profiled['wall_s']} s wall, {profiled['cpu_s']} s CPU "
               f"(unprofiled: {unprofiled_wall_s} s)\n\n## pipeline process\n\n"
               + summarise_profile(target.with_suffix(".pipeline.raw"))
               + "\n## simulator process\n\n" + summarise_profile(target.with_suffix(".simulator.raw"), 15))
    wall_profile = target.parent / f"{target.name}-pyinstrument.txt"
    if wall_profile.exists():
        summary += ("\n## pipeline main thread, wall clock (pyinstrument; the step runs on this thread, "
                    "its pools' waits show as the domain call)\n\n" + wall_profile.read_text())
        wall_profile.unlink()
    path = target.parent / f"{target.name}-profile.txt"
    path.write_text(summary)
    for part in ("pipeline", "simulator"):
        raw = target.with_suffix(f".{part}.raw")
        if raw.exists():
            with raw.open("rb") as src, gzip.open(f"{target}-{part}.pyspy.txt.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            raw.unlink()
    return path
