"""Where each provider host's connections were busy over a stage: ``python -m bench.hosts LOG [BIN_SECONDS]``.

Reads the simulator's request log of the last stage (``bench/work/n<N>/simulator-requests.jsonl``) and prints a
markdown table: per time bin, the average number of connections busy on each host (each allows
:data:`~bench.targets.CONNECTIONS`) and the requests started (API calls, previews, originals and headshots). A host
idle while another works is time the stage could overlap; ``bench/results/2026-11-30-postgres-session22-hosts.md``
is what decided the prefetch and the split of the enrichment.
"""

from __future__ import annotations

import collections
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.targets import HOSTS

HEADER = ("| s | TMDB API | fanart.tv API | TMDB images | fanart.tv images | requests started: API / previews / "
          "originals and headshots |\n|---|---|---|---|---|---|")


def _what(record: dict[str, Any]) -> str:
    if record["host"].endswith("_api"):
        return "api"
    preview = (record["host"] == "tmdb_images" and "/w300/" in record["path"]) or record["path"].startswith("/preview/")
    return "preview" if preview else "image"


def busy_table(records: Iterable[dict[str, Any]], bin_seconds: float = 10.0) -> str:
    """The markdown table of busy connections per host and bin (time from the first request)."""
    records = list(records)
    if not records:
        return HEADER + "\n"
    t0 = min(r["started"] for r in records)
    busy: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    started: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    last = 0
    for r in records:
        begin, end = r["started"] - t0, r["finished"] - t0
        started[int(begin // bin_seconds)][_what(r)] += 1
        at = begin
        while at < end:  # the request's time, split over the bins it spans
            edge = (int(at // bin_seconds) + 1) * bin_seconds
            busy[int(at // bin_seconds)][r["host"]] += min(end, edge) - at
            at = edge
        last = max(last, int(end // bin_seconds))
    rows = [HEADER]
    for b in range(last + 1):
        cells = " | ".join(f"{busy[b][h] / bin_seconds:.1f}" for h in HOSTS)
        s = started[b]
        rows.append(f"| {b * bin_seconds:.0f} | {cells} | {s['api']} / {s['preview']} / {s['image']} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    lines = Path(argv[0]).read_text(encoding="utf-8").splitlines()
    print(busy_table((json.loads(line) for line in lines if line.strip()), float(argv[1]) if len(argv) > 1 else 10.0),
          end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
