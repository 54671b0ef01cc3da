"""A separate process hammering the state store, for the concurrency test.

Usage: python store_worker.py DB WORKER SECONDS
Writes new movies through the real scan write path and reads through the real read paths until the time is
up, then prints a JSON line with what it did. Any exception escapes and makes the process exit non-zero.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

from metarr_pipeline.store import MovieRecord, ScanWrite, Store


def movie(worker: int, seq: int) -> MovieRecord:
    now = datetime.now().replace(microsecond=0)
    return MovieRecord(
        id=None, library_root="/lib", folder=f"/lib/w{worker}/m{seq}", kind="file", video_file="m.mkv",
        basename="m", video_size=seq, video_mtime_ns=seq, status="identified", reason="", warnings=(),
        tmdb_id=worker * 100000 + seq, imdb_id=None, id_source="name", title=f"W{worker} {seq}", year=2000,
        partition_key=f"w{worker}-m{seq}", nfo_file="", nfo_json="{}", lockdata=False, locked_fields=(),
        probe_key="", probe_error="", manual=False, first_seen=now, last_seen=now, changed_at=now, gone_at=None,
    )


def main() -> None:
    db, worker, seconds = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    store = Store(db, lock_timeout=60)
    deadline = time.monotonic() + seconds
    writes = reads = 0
    seq = 0
    while time.monotonic() < deadline:
        batch = [movie(worker, seq + i) for i in range(3)]
        store.apply_scan(ScanWrite(movies=batch))
        seq += 3
        writes += 3
        keys = store.partition_keys()
        mine = [k for k in keys if k.startswith(f"w{worker}-")]
        if len(mine) != seq:  # read-your-writes must hold across processes
            raise AssertionError(f"worker {worker} wrote {seq} movies but reads back {len(mine)}")
        reads += 1
    print(json.dumps({"worker": worker, "writes": writes, "reads": reads}))


if __name__ == "__main__":
    main()
