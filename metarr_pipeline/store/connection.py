"""Connections to the state file: the file lock, bounded retries on DuckDB's own lock, and migrations.

DuckDB lets one process at a time open a database file read-write, and Dagster runs every step in a process
of its own. So every read or write of the store goes through :meth:`StoreBase._connect`, which takes an
exclusive file lock beside the database (our processes queue instead of failing), opens DuckDB retrying with
backoff while something outside that lock still holds the file, and closes the connection when the block
ends. The per-area classes of this package inherit from :class:`StoreBase` and reach the file only that way.

Every wait is bounded: the thread lock, the file lock and DuckDB's own lock share one budget (``timeout``,
default :data:`DEFAULT_TIMEOUT` or ``$METARR_STORE_TIMEOUT``), and the statements of a block get the same
budget again, enforced by :mod:`.watchdog` (it interrupts the connection). Running out of either raises
:class:`~metarr_pipeline.errors.StoreBusyError` naming the file and how long we waited: a nightly run that
fails with a reason is better than one that hangs for ever.

The schema is the numbered ``migrations/NNN_name.sql`` files, applied once per process and file before the
first connection, each in its own transaction and recorded in ``schema_migrations``.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock, Timeout

from metarr_pipeline.errors import StoreBusyError, StoreError
from metarr_pipeline.store.watchdog import WATCHDOG

log = logging.getLogger(__name__)

# Long enough for any healthy queue of our own processes, short enough that a stuck run fails with a reason
# well before a scheduler's or a test runner's own timeout would kill it without one.
DEFAULT_TIMEOUT = 120.0
TIMEOUT_ENV = "METARR_STORE_TIMEOUT"

_MIGRATED: set[Path] = set()
_MIGRATE_GUARD = threading.Lock()
_THREAD_LOCKS: dict[Path, threading.Lock] = {}


def default_timeout() -> float:
    """``$METARR_STORE_TIMEOUT`` (seconds, > 0) or :data:`DEFAULT_TIMEOUT`."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 86400:
        raise StoreError(f"{TIMEOUT_ENV}={raw!r}: expected a number of seconds between 0 and 86400")
    return value


class StoreBase:
    """The DuckDB state file and the only way to it: short, serialised connections. Opens nothing until used."""

    def __init__(self, path: Path, *, lock_timeout: float | None = None) -> None:
        self.path = Path(path)
        self.lock_timeout = default_timeout() if lock_timeout is None else float(lock_timeout)
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        started = time.monotonic()
        self._ensure_migrated(started)
        with self._locked(started):
            con = self._open(started)
            with WATCHDOG.guard(con, self.lock_timeout) as fired:
                try:
                    if write:
                        con.execute("BEGIN TRANSACTION")
                    yield con
                    if write:
                        con.execute("COMMIT")
                except duckdb.Error as exc:
                    if write:
                        _rollback(con)
                    if fired():
                        raise self._busy(started, "its statements did not finish") from exc
                    raise StoreError(f"state database {self.path}: {exc}") from exc
                except BaseException:
                    if write:
                        _rollback(con)
                    raise
                finally:
                    con.close()

    def _busy(self, started: float, what: str) -> StoreBusyError:
        waited = time.monotonic() - started
        return StoreBusyError(f"state database {self.path}: {what} within {waited:.1f}s (limit "
                              f"{self.lock_timeout:g}s, ${TIMEOUT_ENV}); gave up rather than wait for ever")

    def _remaining(self, started: float) -> float:
        return max(0.0, started + self.lock_timeout - time.monotonic())

    @contextmanager
    def _locked(self, started: float | None = None) -> Iterator[None]:
        # flock() is per open file, so threads of one process would also exclude each other; the thread
        # lock just keeps them from spinning on the file lock. One budget covers both waits.
        started = time.monotonic() if started is None else started
        key = self.path.absolute()
        thread_lock = _THREAD_LOCKS.setdefault(key, threading.Lock())
        if not thread_lock.acquire(timeout=self._remaining(started)):
            raise self._busy(started, "another thread of this process held it; not free")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                with FileLock(str(self._lock_path), timeout=self._remaining(started)):
                    yield
            except Timeout as exc:
                raise self._busy(started, f"another process held the lock file {self._lock_path}; not free") \
                    from exc
        finally:
            thread_lock.release()

    def _open(self, started: float | None = None) -> duckdb.DuckDBPyConnection:
        """Open the file, retrying while a process outside our file lock still holds DuckDB's own lock."""
        started = time.monotonic() if started is None else started
        delay = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise StoreError(f"cannot open state database {self.path}: {exc}") from exc
                if self._remaining(started) <= 0:
                    raise self._busy(started, f"another program held DuckDB's own lock ({exc}); not free") \
                        from exc
                time.sleep(min(delay * (1 + random.random()), self._remaining(started)))
                delay = min(delay * 2, 1.0)
            except duckdb.Error as exc:
                raise StoreError(f"cannot open state database {self.path}: {exc}") from exc

    def _ensure_migrated(self, started: float) -> None:
        key = self.path.resolve() if self.path.exists() else self.path.absolute()
        if key in _MIGRATED:
            return
        if not _MIGRATE_GUARD.acquire(timeout=self._remaining(started)):
            raise self._busy(started, "another thread was migrating it; not done")
        try:
            if key in _MIGRATED:
                return
            self.migrate(started)
            _MIGRATED.add(key)
        finally:
            _MIGRATE_GUARD.release()

    def migrate(self, started: float | None = None) -> list[int]:
        """Apply pending numbered migrations, each in its own transaction, and record them."""
        applied: list[int] = []
        started = time.monotonic() if started is None else started
        with self._locked(started):
            con = self._open(started)
            try:
                con.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
                )
                done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
                for version, name, sql in available_migrations():
                    if version in done:
                        continue
                    con.execute("BEGIN TRANSACTION")
                    try:
                        con.execute(sql)
                        con.execute(
                            "INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, store_now()]
                        )
                        con.execute("COMMIT")
                    except duckdb.Error as exc:
                        _rollback(con)
                        raise StoreError(f"state database {self.path}: migration {name} failed: {exc}") from exc
                    applied.append(version)
                    log.info("state database %s: applied migration %s", self.path, name)
            except duckdb.Error as exc:
                raise StoreError(f"state database {self.path}: {exc}") from exc
            finally:
                con.close()
        return applied

    def schema_version(self) -> int:
        with self._connect(write=False) as con:
            row = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # a tiny key/value table used by the concurrency test and, later, by run bookkeeping

    def execute_script(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement in a write transaction; for tests and maintenance, never with user data."""
        with self._connect(write=True) as con:
            cur = con.execute(sql, list(params))
            try:
                return cur.fetchall()
            except duckdb.InvalidInputError:
                return []



def available_migrations() -> list[tuple[int, str, str]]:
    """Numbered ``NNN_name.sql`` files shipped with the package, in order."""
    folder = resources.files("metarr_pipeline.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"two migrations share a number: {versions}")
    return found


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):
        con.execute("ROLLBACK")


def store_now() -> datetime:
    """The clock for timestamps the store sets itself (migrations applied, artwork choices made).

    Microseconds, like every stage's clock: published-vs-outdated and the order of choices are decided by
    comparing these, and two events in one second must not look simultaneous."""
    return datetime.now()
