"""The request log: what the simulator was asked and what it answered.

Tests and the benchmark assert on it (how many calls per movie, were limits honoured, did a retry
happen), so it is kept per request and is cheap to append to from many threads. Keys are secrets even
in a test double: query strings are stored with ``api_key``/``client_key`` values replaced by ``***``, so
a log dumped into a CI artefact never leaks a real key someone pointed the client at.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass

# A long-running `metarr simulator` must not grow without bound; the newest records are the useful ones.
LOG_LIMIT = 500_000

_SECRET_PARAM = re.compile(r"(^|&)((?:api_key|client_key)=)[^&]*", re.IGNORECASE)


def redact_query(query: str) -> str:
    """``a=1&api_key=s3cret`` → ``a=1&api_key=***``."""
    if "key=" not in query.lower():
        return query
    return _SECRET_PARAM.sub(r"\1\2***", query)


@dataclass(frozen=True)
class RequestRecord:
    host: str  # tmdb_api | tmdb_images | fanart_api | fanart_assets
    method: str
    path: str
    query: str  # secrets redacted
    status: int
    started: float  # time.monotonic()
    finished: float  # time.monotonic()
    bytes_sent: int  # body bytes written (a truncated answer counts what was really sent)
    kind: str  # configuration | movie | collection | search | find | fanart_movie | image | preview | other


class RequestLog:
    """Thread-safe, bounded, append-only list of :class:`RequestRecord`."""

    def __init__(self, limit: int = LOG_LIMIT) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self, host: str | None = None) -> list[RequestRecord]:
        with self._lock:
            records = list(self._records)
        return records if host is None else [r for r in records if r.host == host]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
