"""A deadline for the statements of one store block: past it, the connection is interrupted.

DuckDB runs a statement with the GIL released, on its own worker threads; if that ever stalls (a scan stuck
waiting for the GIL, a file system that stopped answering) the calling thread waits inside ``execute`` with
no timeout of its own. One daemon thread per process watches every open block and calls
``connection.interrupt()`` on a block that outlives its deadline, so the statement ends with DuckDB's
``InterruptException`` and :class:`~metarr_pipeline.store.connection.StoreBase` turns it into a
``StoreBusyError`` naming the file and the time waited. A single thread, not a timer per block: store calls
are frequent and short, and starting threads is not free.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import duckdb

log = logging.getLogger(__name__)


class Watchdog:
    """Interrupts connections whose block outlives its deadline. Thread-safe; survives ``fork``."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._active: dict[int, tuple[float, duckdb.DuckDBPyConnection]] = {}
        self._fired: set[int] = set()
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    @contextmanager
    def guard(self, con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[Callable[[], bool]]:
        """Watch ``con`` for ``seconds``; yields a function telling whether the deadline fired."""
        with self._cond:
            token = next(self._tokens)
            self._active[token] = (time.monotonic() + seconds, con)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="metarr-store-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
        try:
            yield lambda: token in self._fired
        finally:
            with self._cond:
                self._active.pop(token, None)
                self._fired.discard(token)

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                due = [(t, con) for t, (deadline, con) in self._active.items()
                       if deadline <= now and t not in self._fired]
                if not due:
                    pending = [d for t, (d, _) in self._active.items() if t not in self._fired]
                    self._cond.wait(timeout=max(0.01, min(pending) - now) if pending else None)
                    continue
                self._fired.update(t for t, _ in due)
            for _, con in due:
                log.warning("a state database statement outlived its deadline: interrupting it")
                with suppress(duckdb.Error, RuntimeError):
                    con.interrupt()


WATCHDOG = Watchdog()
# A forked child inherits the registry but not the thread (nor a sane lock state): start afresh.
os.register_at_fork(after_in_child=WATCHDOG._reset)
