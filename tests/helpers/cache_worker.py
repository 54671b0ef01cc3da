"""A separate process reading and writing the provider cache while Python threads start and stop around it.

Usage: python cache_worker.py DB WORKER SECONDS
The shape of the hang seen in full test runs: ``Store.provider_responses`` in a process whose other threads
(HTTP servers, fetch pools) come and go, beside other processes queueing on the same file lock, with polars
frames registered by the writes. Prints a JSON line with what it did; any exception exits non-zero.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from metarr_pipeline.store import ProviderResponse, Store


def main() -> None:
    db, worker, seconds = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    store = Store(db, lock_timeout=60)
    keys = [("tmdb_movie", f"w{worker}-{i}") for i in range(30)]
    stop = threading.Event()

    def churn() -> None:  # threads starting and stopping, like a ThreadingHTTPServer under requests
        while not stop.is_set():
            threads = [threading.Thread(target=sum, args=(range(200),)) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

    churner = threading.Thread(target=churn)
    churner.start()
    reads = writes = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            now = datetime.now().replace(microsecond=0)
            store.save_fetch([ProviderResponse(p, k, now, 200, json.dumps({"n": writes})) for p, k in keys], [])
            writes += 1
            for _ in range(3):
                got = store.provider_responses(keys)
                if len(got) != len(keys):
                    raise AssertionError(f"worker {worker} wrote {len(keys)} responses but reads {len(got)}")
                reads += 1
    finally:
        stop.set()
        churner.join()
    print(json.dumps({"worker": worker, "writes": writes, "reads": reads}))


if __name__ == "__main__":
    main()
