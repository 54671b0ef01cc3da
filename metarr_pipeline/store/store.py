"""All SQL of metarr-pipeline lives in this module (and the numbered migrations beside it).

DuckDB lets one process at a time open a database file read-write. Dagster runs every run, and under the
multiprocess executor every step, in its own process, so the store follows one rule (ARCHITECTURE.md):
**connections are short and serialised**. Every read or write goes through :meth:`Store._connect`, which

1. takes an exclusive file lock next to the database (so our own processes queue instead of failing),
2. opens DuckDB, retrying with backoff while something else (a user's DuckDB shell, a crashed process
   whose lock the OS has not released yet) still holds the file, and
3. closes the connection as soon as the block ends.

Network, image and probe work therefore happens with no connection open; callers hand the store whole
batches (polars frames) that are written in one short transaction, delete-then-insert per movie, so a
repeated write is idempotent. Readers use the same path and simply wait their turn.

Moving the state to a server database later means replacing this module, nothing else.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from filelock import FileLock, Timeout

from metarr_pipeline.errors import StoreBusyError, StoreError
from metarr_pipeline.models import AudioStream, StreamDetails, SubtitleStream, VideoStream

log = logging.getLogger(__name__)

_MIGRATED: set[Path] = set()
_MIGRATE_GUARD = threading.Lock()
_THREAD_LOCKS: dict[Path, threading.Lock] = {}


@dataclass(frozen=True)
class MovieRecord:
    """One row of ``movies``: a movie folder and everything the scan knows about it."""

    id: int | None
    library_root: str
    folder: str
    kind: str
    video_file: str | None
    basename: str | None
    video_size: int | None
    video_mtime_ns: int | None
    status: str
    reason: str
    warnings: tuple[str, ...]
    tmdb_id: int | None
    imdb_id: str | None
    id_source: str
    title: str
    year: int | None
    partition_key: str | None
    nfo_file: str
    nfo_json: str
    lockdata: bool
    locked_fields: tuple[str, ...]
    probe_key: str
    probe_error: str
    manual: bool
    first_seen: datetime
    last_seen: datetime
    changed_at: datetime
    gone_at: datetime | None

    @property
    def is_partition(self) -> bool:
        """Movies that get a Dagster partition: identified and still on disk."""
        return self.status == "identified" and self.gone_at is None and bool(self.partition_key)

    @property
    def video_path(self) -> Path | None:
        return Path(self.folder) / self.video_file if self.video_file else None

    def nfo(self) -> dict[str, Any]:
        return json.loads(self.nfo_json or "{}")


_MOVIE_COLUMNS = tuple(f.name for f in fields(MovieRecord))
_MOVIE_SCHEMA: dict[str, Any] = {
    "id": pl.Int64, "library_root": pl.String, "folder": pl.String, "kind": pl.String,
    "video_file": pl.String, "basename": pl.String, "video_size": pl.Int64, "video_mtime_ns": pl.Int64,
    "status": pl.String, "reason": pl.String, "warnings": pl.List(pl.String), "tmdb_id": pl.Int64,
    "imdb_id": pl.String, "id_source": pl.String, "title": pl.String, "year": pl.Int32,
    "partition_key": pl.String, "nfo_file": pl.String, "nfo_json": pl.String, "lockdata": pl.Boolean,
    "locked_fields": pl.List(pl.String), "probe_key": pl.String, "probe_error": pl.String,
    "manual": pl.Boolean, "first_seen": pl.Datetime("us"), "last_seen": pl.Datetime("us"),
    "changed_at": pl.Datetime("us"), "gone_at": pl.Datetime("us"),
}
_STREAM_SCHEMA: dict[str, Any] = {
    "folder": pl.String, "kind": pl.String, "position": pl.Int32, "codec": pl.String, "width": pl.Int32,
    "height": pl.Int32, "aspect": pl.Float64, "duration_s": pl.Int32, "hdr_type": pl.String,
    "stereo_mode": pl.String, "channels": pl.Int32, "language": pl.String, "forced": pl.Boolean,
    "external": pl.Boolean, "path": pl.String, "container": pl.String,
}
_STREAM_COLUMNS = tuple(c for c in _STREAM_SCHEMA if c != "folder")


@dataclass(frozen=True)
class ScanWrite:
    """Everything one scan changes, written in a single transaction.

    ``movies`` holds only rows that are new or changed (``id`` None for new ones); ``streams`` replaces
    the stored streams of the movies (by folder) it names; ``seen_ids`` get ``last_seen``; ``gone_ids``
    are marked gone, never deleted.
    """

    movies: Sequence[MovieRecord] = ()
    streams: dict[str, StreamDetails] = field(default_factory=dict)
    seen_ids: Sequence[int] = ()
    gone_ids: Sequence[int] = ()
    seen_at: datetime | None = None
    started_at: datetime | None = None
    roots: Sequence[str] = ()
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderResponse:
    provider: str
    item_key: str
    fetched_at: datetime
    status: int
    body: str | None


@dataclass(frozen=True)
class MetadataRow:
    movie_id: int
    fields_json: str = "{}"
    decisions_json: str = "{}"
    tmdb_id: int | None = None
    fetched_at: datetime | None = None
    merged_at: datetime | None = None
    fetch_error: str = ""
    failed_at: datetime | None = None

    def fields(self) -> dict[str, Any]:
        return json.loads(self.fields_json or "{}")


_METADATA_COLUMNS = tuple(f.name for f in fields(MetadataRow))


class Store:
    """The DuckDB state file. Cheap to construct; opens nothing until used."""

    def __init__(self, path: Path, *, lock_timeout: float = 300.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    # ----------------------------------------------------------------------------------------------
    # connections

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        self._ensure_migrated()
        with self._locked():
            con = self._open()
            try:
                if write:
                    con.execute("BEGIN TRANSACTION")
                yield con
                if write:
                    con.execute("COMMIT")
            except duckdb.Error as exc:
                if write:
                    _rollback(con)
                raise StoreError(f"state database {self.path}: {exc}") from exc
            except BaseException:
                if write:
                    _rollback(con)
                raise
            finally:
                con.close()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # flock() is per open file, so threads of one process would also exclude each other; the thread
        # lock just keeps them from spinning on the file lock.
        thread_lock = _THREAD_LOCKS.setdefault(self.path, threading.Lock())
        if not thread_lock.acquire(timeout=self.lock_timeout):
            raise StoreBusyError(f"state database {self.path} stayed busy for {self.lock_timeout:.0f}s")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                with FileLock(str(self._lock_path), timeout=self.lock_timeout):
                    yield
            except Timeout as exc:
                raise StoreBusyError(
                    f"state database {self.path} stayed locked by another process for "
                    f"{self.lock_timeout:.0f}s (lock file {self._lock_path})"
                ) from exc
        finally:
            thread_lock.release()

    def _open(self) -> duckdb.DuckDBPyConnection:
        """Open the file, retrying while a process outside our file lock still holds DuckDB's own lock."""
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise StoreBusyError(f"cannot open state database {self.path}: {exc}") from exc
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)
            except duckdb.Error as exc:
                raise StoreError(f"cannot open state database {self.path}: {exc}") from exc

    # ----------------------------------------------------------------------------------------------
    # migrations

    def _ensure_migrated(self) -> None:
        key = self.path.resolve() if self.path.exists() else self.path.absolute()
        if key in _MIGRATED:
            return
        with _MIGRATE_GUARD:
            if key in _MIGRATED:
                return
            self.migrate()
            _MIGRATED.add(key)

    def migrate(self) -> list[int]:
        """Apply pending numbered migrations, each in its own transaction, and record them."""
        applied: list[int] = []
        with self._locked():
            con = self._open()
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
                            "INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, _now()]
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

    # ----------------------------------------------------------------------------------------------
    # movies

    def movies(self, *, include_gone: bool = True, partition_keys: Sequence[str] | None = None) -> list[MovieRecord]:
        """Movies ordered by folder; only those with the given partition keys when keys are given."""
        sql = f"SELECT {', '.join(_MOVIE_COLUMNS)} FROM movies WHERE true"
        params: list[Any] = []
        if not include_gone:
            sql += " AND gone_at IS NULL"
        if partition_keys is not None:
            sql += " AND partition_key IN (SELECT UNNEST(?))"
            params.append(list(partition_keys))
        sql += " ORDER BY folder"
        with self._connect(write=False) as con:
            rows = con.execute(sql, params).fetchall()
        return [_movie(row) for row in rows]

    def movie_by_partition(self, partition_key: str) -> MovieRecord | None:
        sql = f"SELECT {', '.join(_MOVIE_COLUMNS)} FROM movies WHERE partition_key = ?"
        with self._connect(write=False) as con:
            row = con.execute(sql, [partition_key]).fetchone()
        return _movie(row) if row else None

    def partition_keys(self) -> list[str]:
        """Keys of movies that should exist as Dagster partitions, in a stable order."""
        with self._connect(write=False) as con:
            rows = con.execute(
                "SELECT partition_key FROM movies WHERE status = 'identified' AND gone_at IS NULL"
                " AND partition_key IS NOT NULL ORDER BY partition_key"
            ).fetchall()
        return [r[0] for r in rows]

    def streams(self, movie_ids: Sequence[int] | None = None) -> dict[int, StreamDetails]:
        """Stored stream details per movie id (all movies when ``movie_ids`` is None)."""
        sql = (f"SELECT movie_id, {', '.join(_STREAM_COLUMNS)} FROM streams"
               + ("" if movie_ids is None else " WHERE movie_id IN (SELECT UNNEST(?))")
               + " ORDER BY movie_id, kind, position")
        params = [] if movie_ids is None else [list(movie_ids)]
        with self._connect(write=False) as con:
            rows = con.execute(sql, params).fetchall()
        grouped: dict[int, list[tuple[Any, ...]]] = {}
        for row in rows:
            grouped.setdefault(row[0], []).append(row[1:])
        return {movie_id: _details(stream_rows) for movie_id, stream_rows in grouped.items()}

    def apply_scan(self, write: ScanWrite) -> None:
        """Write one scan's changes in a single short transaction (idempotent)."""
        now = write.seen_at or _now()
        existing = [m for m in write.movies if m.id is not None]
        new = [m for m in write.movies if m.id is None]
        with self._connect(write=True) as con:
            if existing:
                frame = _movie_frame(existing)
                con.register("changed_movies", frame)
                con.execute("DELETE FROM movies WHERE id IN (SELECT id FROM changed_movies)")
                con.execute(f"INSERT INTO movies ({', '.join(_MOVIE_COLUMNS)}) "
                            f"SELECT {', '.join(_MOVIE_COLUMNS)} FROM changed_movies")
                con.unregister("changed_movies")
            if new:
                cols = [c for c in _MOVIE_COLUMNS if c != "id"]
                con.register("new_movies", _movie_frame(new).drop("id"))
                con.execute(f"INSERT INTO movies ({', '.join(cols)}) SELECT {', '.join(cols)} FROM new_movies")
                con.unregister("new_movies")
            if write.streams:
                frame = _stream_frame(write.streams)
                con.register("new_streams", frame)
                con.execute(
                    "DELETE FROM streams WHERE movie_id IN (SELECT m.id FROM movies m"
                    " WHERE m.folder IN (SELECT DISTINCT folder FROM new_streams))"
                )
                # Movies whose probe now yields nothing still get their old streams cleared above.
                con.execute(
                    f"INSERT INTO streams (movie_id, {', '.join(_STREAM_COLUMNS)}) "
                    f"SELECT m.id, {', '.join('s.' + c for c in _STREAM_COLUMNS)} "
                    "FROM new_streams s JOIN movies m ON m.folder = s.folder WHERE s.kind <> ''"
                )
                con.unregister("new_streams")
            if write.seen_ids:
                con.execute("UPDATE movies SET last_seen = ? WHERE id IN (SELECT UNNEST(?))",
                            [now, list(write.seen_ids)])
            if write.gone_ids:
                con.execute("UPDATE movies SET gone_at = ? WHERE gone_at IS NULL AND id IN (SELECT UNNEST(?))",
                            [now, list(write.gone_ids)])
            if write.started_at is not None:
                con.execute("INSERT INTO scan_runs VALUES (?, ?, ?, ?)",
                            [write.started_at, now, list(write.roots), json.dumps(write.summary, sort_keys=True)])

    # ----------------------------------------------------------------------------------------------
    # provider cache and merged metadata

    def provider_responses(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ProviderResponse]:
        if not keys:
            return {}
        frame = pl.DataFrame({"provider": [k[0] for k in keys], "item_key": [k[1] for k in keys]},
                             schema={"provider": pl.String, "item_key": pl.String})
        with self._connect(write=False) as con:
            con.register("wanted", frame)
            rows = con.execute(
                "SELECT r.provider, r.item_key, r.fetched_at, r.status, r.body FROM provider_responses r"
                " JOIN wanted w ON w.provider = r.provider AND w.item_key = r.item_key"
            ).fetchall()
        return {(r[0], r[1]): ProviderResponse(*r) for r in rows}

    def movie_metadata(self, movie_ids: Sequence[int] | None = None) -> dict[int, MetadataRow]:
        sql = f"SELECT {', '.join(_METADATA_COLUMNS)} FROM movie_metadata"
        params: list[Any] = []
        if movie_ids is not None:
            sql += " WHERE movie_id IN (SELECT UNNEST(?))"
            params = [list(movie_ids)]
        with self._connect(write=False) as con:
            rows = con.execute(sql, params).fetchall()
        return {r[0]: MetadataRow(*r) for r in rows}

    def save_fetch(self, responses: Sequence[ProviderResponse], metadata: Sequence[MetadataRow]) -> None:
        """Store fetched responses and merged metadata rows in one transaction (delete-then-insert)."""
        if not responses and not metadata:
            return
        with self._connect(write=True) as con:
            if responses:
                frame = pl.DataFrame(
                    [(r.provider, r.item_key, r.fetched_at, r.status, r.body) for r in responses],
                    schema={"provider": pl.String, "item_key": pl.String, "fetched_at": pl.Datetime("us"),
                            "status": pl.Int32, "body": pl.String}, orient="row",
                ).unique(subset=["provider", "item_key"], keep="last")
                con.register("new_responses", frame)
                con.execute("DELETE FROM provider_responses WHERE (provider, item_key) IN "
                            "(SELECT (provider, item_key) FROM new_responses)")
                con.execute("INSERT INTO provider_responses SELECT provider, item_key, fetched_at, status, body "
                            "FROM new_responses")
                con.unregister("new_responses")
            if metadata:
                frame = pl.DataFrame(
                    [tuple(getattr(m, c) for c in _METADATA_COLUMNS) for m in metadata],
                    schema={"movie_id": pl.Int64, "fields_json": pl.String, "decisions_json": pl.String,
                            "tmdb_id": pl.Int64, "fetched_at": pl.Datetime("us"), "merged_at": pl.Datetime("us"),
                            "fetch_error": pl.String, "failed_at": pl.Datetime("us")}, orient="row",
                )
                con.register("new_metadata", frame)
                con.execute("DELETE FROM movie_metadata WHERE movie_id IN (SELECT movie_id FROM new_metadata)")
                con.execute(f"INSERT INTO movie_metadata ({', '.join(_METADATA_COLUMNS)}) "
                            f"SELECT {', '.join(_METADATA_COLUMNS)} FROM new_metadata")
                con.unregister("new_metadata")

    # ----------------------------------------------------------------------------------------------
    # artwork

    def image_analysis(self, preview_urls: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        """preview URL → (format, width, height, phash, error) for renditions analysed before."""
        if not preview_urls:
            return {}
        frame = pl.DataFrame({"preview_url": list(dict.fromkeys(preview_urls))}, schema={"preview_url": pl.String})
        with self._connect(write=False) as con:
            con.register("wanted", frame)
            rows = con.execute(
                "SELECT a.preview_url, a.format, a.width, a.height, a.phash, a.error FROM image_analysis a"
                " JOIN wanted w ON w.preview_url = a.preview_url"
            ).fetchall()
        return {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows}

    def artwork_candidates(self, movie_ids: Sequence[int]) -> pl.DataFrame:
        with self._connect(write=False) as con:
            return con.execute(
                "SELECT * FROM artwork_candidates WHERE movie_id IN (SELECT UNNEST(?))"
                " ORDER BY movie_id, type, rank", [list(movie_ids)]
            ).pl()

    def artwork_choices(self, movie_ids: Sequence[int]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(choices (movie, type, candidate, action) in time order, locks (movie, type))."""
        with self._connect(write=False) as con:
            choices = con.execute(
                "SELECT movie_id, type, candidate_id, action FROM artwork_choices"
                " WHERE movie_id IN (SELECT UNNEST(?)) ORDER BY chosen_at, candidate_id", [list(movie_ids)]
            ).fetchall()
            locks = con.execute(
                "SELECT movie_id, type FROM artwork_locks WHERE movie_id IN (SELECT UNNEST(?))", [list(movie_ids)]
            ).fetchall()
        return [tuple(c) for c in choices], [tuple(lk) for lk in locks]  # type: ignore[misc]

    def record_choice(self, movie_id: int, kind: str, candidate_id: str | None, action: str) -> None:
        """pick / reject a candidate (a pick also locks its type), or lock / unlock a type."""
        now = _now()
        with self._connect(write=True) as con:
            if action in ("pick", "reject"):
                con.execute("DELETE FROM artwork_choices WHERE movie_id = ? AND type = ? AND candidate_id = ?",
                            [movie_id, kind, candidate_id])
                con.execute("INSERT INTO artwork_choices VALUES (?, ?, ?, ?, ?)",
                            [movie_id, kind, candidate_id, action, now])
            if action in ("pick", "lock"):
                con.execute("DELETE FROM artwork_locks WHERE movie_id = ? AND type = ?", [movie_id, kind])
                con.execute("INSERT INTO artwork_locks VALUES (?, ?, ?)", [movie_id, kind, now])
            if action == "unlock":
                con.execute("DELETE FROM artwork_locks WHERE movie_id = ? AND type = ?", [movie_id, kind])
                con.execute("DELETE FROM artwork_choices WHERE movie_id = ? AND type = ? AND action = 'pick'",
                            [movie_id, kind])

    def enrichment_rows(self, movie_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        with self._connect(write=False) as con:
            cur = con.execute("SELECT * FROM enrichment WHERE movie_id IN (SELECT UNNEST(?))", [list(movie_ids)])
            names = [d[0] for d in cur.description]
            return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}

    def people(self, person_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        if not person_ids:
            return {}
        with self._connect(write=False) as con:
            cur = con.execute("SELECT * FROM people WHERE person_id IN (SELECT UNNEST(?))", [list(person_ids)])
            names = [d[0] for d in cur.description]
            return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}

    def movie_actors(self, movie_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        with self._connect(write=False) as con:
            cur = con.execute(
                "SELECT a.movie_id, a.position, a.person_id, a.name, a.role, p.profile_path, p.thumb_url, p.blob_sha"
                " FROM movie_actors a LEFT JOIN people p USING (person_id)"
                " WHERE a.movie_id IN (SELECT UNNEST(?)) ORDER BY a.movie_id, a.position", [list(movie_ids)])
            names = [d[0] for d in cur.description]
            out: dict[int, list[dict[str, Any]]] = {}
            for r in cur.fetchall():
                out.setdefault(r[0], []).append(dict(zip(names, r, strict=True)))
            return out

    def blob_rows(self, shas: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not shas:
            return {}
        with self._connect(write=False) as con:
            cur = con.execute("SELECT * FROM blobs WHERE sha256 IN (SELECT UNNEST(?))", [list(shas)])
            names = [d[0] for d in cur.description]
            return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}

    def save_enrichment(
        self,
        *,
        analysis: pl.DataFrame | None,
        candidates: pl.DataFrame | None,
        movie_ids: Sequence[int],
        actors: pl.DataFrame | None,
        people: pl.DataFrame | None,
        blobs: pl.DataFrame | None,
        enrichment: pl.DataFrame | None,
    ) -> None:
        """One transaction per batch: new analyses, and for the movies that changed, delete-then-insert."""
        with self._connect(write=True) as con:
            if analysis is not None and analysis.height:
                con.register("new_analysis", analysis)
                con.execute("DELETE FROM image_analysis WHERE preview_url IN (SELECT preview_url FROM new_analysis)")
                con.execute("INSERT INTO image_analysis BY NAME SELECT * FROM new_analysis")
                con.unregister("new_analysis")
            if blobs is not None and blobs.height:
                con.register("new_blobs", blobs)
                con.execute("INSERT INTO blobs BY NAME SELECT * FROM new_blobs"
                            " WHERE sha256 NOT IN (SELECT sha256 FROM blobs)")
                con.unregister("new_blobs")
            if people is not None and people.height:
                con.register("new_people", people)
                con.execute("DELETE FROM people WHERE person_id IN (SELECT person_id FROM new_people)")
                con.execute("INSERT INTO people BY NAME SELECT * FROM new_people")
                con.unregister("new_people")
            if movie_ids:
                ids = [list(movie_ids)]
                con.execute("DELETE FROM artwork_candidates WHERE movie_id IN (SELECT UNNEST(?))", ids)
                con.execute("DELETE FROM movie_actors WHERE movie_id IN (SELECT UNNEST(?))", ids)
                con.execute("DELETE FROM enrichment WHERE movie_id IN (SELECT UNNEST(?))", ids)
            if candidates is not None and candidates.height:
                con.register("new_candidates", candidates)
                con.execute("INSERT INTO artwork_candidates BY NAME SELECT * FROM new_candidates")
                con.unregister("new_candidates")
            if actors is not None and actors.height:
                con.register("new_actors", actors)
                con.execute("INSERT INTO movie_actors BY NAME SELECT * FROM new_actors")
                con.unregister("new_actors")
            if enrichment is not None and enrichment.height:
                con.register("new_enrichment", enrichment)
                con.execute("INSERT INTO enrichment BY NAME SELECT * FROM new_enrichment")
                con.unregister("new_enrichment")

    # ----------------------------------------------------------------------------------------------
    # publishing

    def library_files(self, movie_ids: Sequence[int]) -> dict[int, dict[str, dict[str, Any]]]:
        """movie → path → the file we wrote there (sha256, bytes, mtime_ns, role)."""
        with self._connect(write=False) as con:
            cur = con.execute("SELECT * FROM library_files WHERE movie_id IN (SELECT UNNEST(?))", [list(movie_ids)])
            names = [d[0] for d in cur.description]
            out: dict[int, dict[str, dict[str, Any]]] = {}
            for r in cur.fetchall():
                row = dict(zip(names, r, strict=True))
                out.setdefault(row["movie_id"], {})[row["path"]] = row
            return out

    def record_library_files_many(self, by_movie: Mapping[int, Sequence[dict[str, Any]]], *,
                                  replace_all: bool) -> None:
        """Upsert file records of several movies in one transaction (publish records a chunk of movies' intents
        before writing any of their files, then their final rows); with ``replace_all`` each movie's records
        become exactly its rows."""
        if not by_movie:
            return
        rows = [{**r, "movie_id": movie_id} for movie_id, movie_rows in by_movie.items() for r in movie_rows]
        frame = pl.DataFrame(rows, schema={
            "movie_id": pl.Int64, "path": pl.String, "role": pl.String, "sha256": pl.String,
            "bytes": pl.Int64, "mtime_ns": pl.Int64, "written_at": pl.Datetime("us")}) if rows else None
        with self._connect(write=True) as con:
            if replace_all:
                con.execute("DELETE FROM library_files WHERE movie_id IN (SELECT UNNEST(?))", [list(by_movie)])
            if frame is not None:
                con.register("new_files", frame)
                if not replace_all:
                    con.execute("DELETE FROM library_files USING new_files n"
                                " WHERE library_files.movie_id = n.movie_id AND library_files.path = n.path")
                con.execute("INSERT INTO library_files BY NAME SELECT * FROM new_files")
                con.unregister("new_files")

    def log_publish_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """One transaction for a batch's publish log (a crash before it only means those movies count as not
        yet published: publishing them again finds their files already right and writes nothing)."""
        if not rows:
            return
        with self._connect(write=True) as con:
            frame = pl.DataFrame(list(rows))
            con.register("new_log", frame)
            con.execute("INSERT INTO publish_log BY NAME SELECT * FROM new_log")
            con.unregister("new_log")

    def set_candidate_blobs(self, rows: Sequence[tuple[int, str, str]], blobs: pl.DataFrame | None = None) -> None:
        """Attach cached originals ``(movie_id, candidate_id, sha256)`` to selected candidates, without touching
        the enrichment state: fetching the bytes of an already chosen image changes no choice (originals of
        winners chosen by an offline re-score are fetched later, by the next enrichment or by publish)."""
        if not rows:
            return
        with self._connect(write=True) as con:
            if blobs is not None and blobs.height:
                con.register("new_blobs", blobs)
                con.execute("INSERT INTO blobs BY NAME SELECT * FROM new_blobs"
                            " WHERE sha256 NOT IN (SELECT sha256 FROM blobs)")
                con.unregister("new_blobs")
            frame = pl.DataFrame(list(rows), schema={"movie_id": pl.Int64, "candidate_id": pl.String,
                                                     "blob_sha": pl.String}, orient="row")
            con.register("new_blob_refs", frame)
            con.execute("UPDATE artwork_candidates SET blob_sha = n.blob_sha FROM new_blob_refs n"
                        " WHERE artwork_candidates.movie_id = n.movie_id"
                        " AND artwork_candidates.candidate_id = n.candidate_id")
            con.unregister("new_blob_refs")

    def publish_state(self, movie_ids: Sequence[int] | None = None) -> dict[int, dict[str, Any]]:
        """Per movie: last successful publish, last enrichment / metadata change, and the derived state."""
        sql = """
            SELECT m.id,
                   (SELECT max(published_at) FROM publish_log p WHERE p.movie_id = m.id AND p.status = 'published')
                       AS published_at,
                   e.enriched_at, md.merged_at,
                   (SELECT error FROM publish_log p WHERE p.movie_id = m.id ORDER BY published_at DESC LIMIT 1)
                       AS last_error
            FROM movies m
            LEFT JOIN enrichment e ON e.movie_id = m.id
            LEFT JOIN movie_metadata md ON md.movie_id = m.id
        """
        params: list[Any] = []
        if movie_ids is not None:
            sql += " WHERE m.id IN (SELECT UNNEST(?))"
            params.append(list(movie_ids))
        with self._connect(write=False) as con:
            rows = con.execute(sql, params).fetchall()
        out = {}
        for movie_id, published, enriched, merged, error in rows:
            changed = max((t for t in (enriched, merged) if t is not None), default=None)
            if published is None:
                state = "unpublished"
            elif changed is not None and changed > published:
                state = "outdated"
            else:
                state = "published"
            out[movie_id] = {"published_at": published, "changed_at": changed, "state": state,
                             "enriched": enriched is not None, "last_error": error or ""}
        return out

    def publish_fingerprints(self, movie_ids: Sequence[int]) -> dict[int, str]:
        """The config fingerprint of each movie's last successful publish."""
        with self._connect(write=False) as con:
            rows = con.execute(
                "SELECT movie_id, arg_max(config_fingerprint, published_at) FROM publish_log"
                " WHERE status = 'published' AND movie_id IN (SELECT UNNEST(?)) GROUP BY movie_id",
                [list(movie_ids)]).fetchall()
        return {r[0]: r[1] or "" for r in rows}

    def record_nfo_backup(self, movie_id: int, path: str, blob: dict[str, Any], saved_at: datetime) -> None:
        with self._connect(write=True) as con:
            con.execute("INSERT INTO blobs VALUES (?, ?, ?, NULL, NULL, 'nfo', ?, ?) ON CONFLICT DO NOTHING",
                        [blob["sha256"], blob["ext"], blob["bytes"], blob["source_url"], saved_at])
            con.execute("INSERT INTO nfo_backups VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [movie_id, path, blob["sha256"], saved_at])

    def unreferenced_blobs(self) -> list[tuple[str, str, int]]:
        """Blobs no selection, actor, NFO backup or library file refers to: (sha256, ext, bytes)."""
        with self._connect(write=False) as con:
            return [tuple(r) for r in con.execute("""
                SELECT sha256, ext, bytes FROM blobs b
                WHERE NOT EXISTS (SELECT 1 FROM artwork_candidates c WHERE c.blob_sha = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM people p WHERE p.blob_sha = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM nfo_backups n WHERE n.sha256 = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM library_files f WHERE f.sha256 = b.sha256)
                ORDER BY sha256""").fetchall()]

    def forget_blobs(self, shas: Sequence[str]) -> list[str]:
        """Delete blob rows that are still unreferenced at commit time; returns the ones deleted."""
        if not shas:
            return []
        with self._connect(write=True) as con:
            rows = con.execute("""
                DELETE FROM blobs b WHERE sha256 IN (SELECT UNNEST(?))
                  AND NOT EXISTS (SELECT 1 FROM artwork_candidates c WHERE c.blob_sha = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM people p WHERE p.blob_sha = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM nfo_backups n WHERE n.sha256 = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM library_files f WHERE f.sha256 = b.sha256)
                RETURNING sha256""", [list(shas)]).fetchall()
        return [r[0] for r in rows]

    # ----------------------------------------------------------------------------------------------
    # notifications

    def queue_notifications(self, rows: Sequence[dict[str, Any]]) -> int:
        """Queue player notifications (player, movie_id, event, folder, video_file, queued_at), one transaction.

        A movie that still has an undelivered notification for that player gets one row, not two: the old row
        is replaced and the events merged (``created`` then ``modified`` stays ``created``: the player still
        has to find the movie). Returns the number of rows queued.
        """
        if not rows:
            return 0
        schema: dict[str, Any] = {"player": pl.String, "movie_id": pl.Int64, "event": pl.String,
                                  "folder": pl.String, "video_file": pl.String, "queued_at": pl.Datetime("us")}
        frame = pl.DataFrame(list(rows), schema=schema, orient="row")
        with self._connect(write=True) as con:
            con.register("new_notifications", frame)
            open_events = con.execute(
                "SELECT n.player, n.movie_id, list(n.event) FROM notifications n"
                " JOIN new_notifications w ON w.player = n.player AND w.movie_id = n.movie_id"
                " WHERE n.status IN ('pending', 'deferred', 'failed') GROUP BY n.player, n.movie_id"
            ).fetchall()
            con.unregister("new_notifications")
            earlier = {(r[0], r[1]): set(r[2]) for r in open_events}
            merged = []
            latest = frame.unique(subset=["player", "movie_id"], keep="last", maintain_order=True)
            for row in latest.iter_rows(named=True):
                if row["event"] == "modified" and "created" in earlier.get((row["player"], row["movie_id"]), ()):
                    row["event"] = "created"
                merged.append({**row, "status": "pending", "attempts": 0, "detail": "",
                               "next_attempt_at": row["queued_at"]})
            con.register("merged_notifications", pl.DataFrame(merged, schema={
                **schema, "status": pl.String, "attempts": pl.Int32, "detail": pl.String,
                "next_attempt_at": pl.Datetime("us")}))
            con.execute("DELETE FROM notifications WHERE status IN ('pending', 'deferred', 'failed')"
                        " AND (player, movie_id) IN (SELECT (player, movie_id) FROM merged_notifications)")
            con.execute("INSERT INTO notifications BY NAME SELECT * FROM merged_notifications")
            con.unregister("merged_notifications")
        return len(merged)

    def due_notifications(self, now: datetime, players: Sequence[str], *, movie_ids: Sequence[int] | None = None,
                          force: bool = False) -> list[dict[str, Any]]:
        """Undelivered notifications of these players that are due (all undelivered ones with ``force``)."""
        sql = ("SELECT n.id, n.player, n.movie_id, coalesce(m.partition_key, '') AS partition_key, n.event,"
               " n.folder, n.video_file, n.status, n.attempts, n.detail, n.queued_at, n.next_attempt_at"
               " FROM notifications n LEFT JOIN movies m ON m.id = n.movie_id"
               " WHERE n.status IN ('pending', 'deferred', 'failed') AND n.player IN (SELECT UNNEST(?))"
               " AND (? OR n.next_attempt_at <= ?)")
        params: list[Any] = [list(players), force, now]
        if movie_ids is not None:
            sql += " AND n.movie_id IN (SELECT UNNEST(?))"
            params.append(list(movie_ids))
        with self._connect(write=False) as con:
            cur = con.execute(sql + " ORDER BY n.player, n.folder, n.id", params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def record_notification_results(self, rows: Sequence[dict[str, Any]]) -> None:
        """Apply delivery outcomes (id, status, attempts, detail, last_attempt_at, next_attempt_at, sent_at)."""
        if not rows:
            return
        frame = pl.DataFrame(list(rows), schema={
            "id": pl.Int64, "status": pl.String, "attempts": pl.Int32, "detail": pl.String,
            "last_attempt_at": pl.Datetime("us"), "next_attempt_at": pl.Datetime("us"), "sent_at": pl.Datetime("us")},
            orient="row")
        with self._connect(write=True) as con:
            con.register("results", frame)
            con.execute("UPDATE notifications SET status = r.status, attempts = r.attempts, detail = r.detail,"
                        " last_attempt_at = r.last_attempt_at, next_attempt_at = r.next_attempt_at,"
                        " sent_at = r.sent_at FROM results r WHERE notifications.id = r.id")
            con.unregister("results")

    def notifications(self, *, movie_ids: Sequence[int] | None = None, undelivered: bool = False,
                      limit: int | None = None) -> list[dict[str, Any]]:
        """Notifications, newest first, with the movie's partition key."""
        sql = ("SELECT n.*, coalesce(m.partition_key, '') AS partition_key FROM notifications n"
               " LEFT JOIN movies m ON m.id = n.movie_id WHERE true")
        params: list[Any] = []
        if movie_ids is not None:
            sql += " AND n.movie_id IN (SELECT UNNEST(?))"
            params.append(list(movie_ids))
        if undelivered:
            sql += " AND n.status IN ('pending', 'deferred', 'failed')"
        sql += " ORDER BY n.queued_at DESC, n.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._connect(write=False) as con:
            cur = con.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def notification_counts(self) -> dict[tuple[str, str], int]:
        """(player, status) → number of notifications."""
        with self._connect(write=False) as con:
            rows = con.execute("SELECT player, status, count(*) FROM notifications GROUP BY ALL").fetchall()
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def removed_movies_to_notify(self, players: Sequence[str]) -> list[dict[str, Any]]:
        """Movies gone from disk that metarr once published and these players were not told about since."""
        if not players:
            return []
        with self._connect(write=False) as con:
            cur = con.execute("""
                SELECT p.player, m.id AS movie_id, m.folder, coalesce(m.video_file, '') AS video_file, m.gone_at
                FROM movies m CROSS JOIN (SELECT UNNEST(?) AS player) p
                WHERE m.gone_at IS NOT NULL
                  AND EXISTS (SELECT 1 FROM publish_log l WHERE l.movie_id = m.id AND l.status = 'published')
                  AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.movie_id = m.id AND n.player = p.player
                                  AND n.event = 'deleted' AND n.queued_at >= m.gone_at)
                ORDER BY p.player, m.folder""", [list(players)])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def last_scan(self) -> dict[str, Any] | None:
        with self._connect(write=False) as con:
            row = con.execute(
                "SELECT started_at, finished_at, roots, summary_json FROM scan_runs"
                " ORDER BY finished_at DESC LIMIT 1"
            ).fetchone()
        if not row:
            return None
        return {"started_at": row[0], "finished_at": row[1], "roots": row[2], "summary": json.loads(row[3])}

    def set_manual(self, partition_key: str, manual: bool) -> bool:
        with self._connect(write=True) as con:
            row = con.execute("UPDATE movies SET manual = ? WHERE partition_key = ? RETURNING id",
                              [manual, partition_key]).fetchone()
        return row is not None

    # ----------------------------------------------------------------------------------------------
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


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _movie(row: Sequence[Any]) -> MovieRecord:
    values = dict(zip(_MOVIE_COLUMNS, row, strict=True))
    values["warnings"] = tuple(values["warnings"] or ())
    values["locked_fields"] = tuple(values["locked_fields"] or ())
    return MovieRecord(**values)


def _movie_frame(movies: Sequence[MovieRecord]) -> pl.DataFrame:
    rows = []
    for m in movies:
        row = asdict(m)
        row["warnings"] = list(m.warnings)
        row["locked_fields"] = list(m.locked_fields)
        rows.append(row)
    return pl.DataFrame(rows, schema=_MOVIE_SCHEMA, orient="row")


def _stream_frame(streams: dict[str, StreamDetails]) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    for folder, details in streams.items():
        before = len(rows)
        base = {c: None for c in _STREAM_SCHEMA} | {
            "folder": folder, "codec": "", "hdr_type": "", "stereo_mode": "", "language": "",
            "forced": False, "external": False, "path": "", "container": details.container,
        }
        if details.video:
            v = details.video
            rows.append(base | {"kind": "video", "position": 0, "codec": v.codec, "width": v.width,
                                "height": v.height, "aspect": v.aspect, "duration_s": v.duration_seconds,
                                "hdr_type": v.hdr_type, "stereo_mode": v.stereo_mode})
        for i, a in enumerate(details.audio):
            rows.append(base | {"kind": "audio", "position": i, "codec": a.codec, "channels": a.channels,
                                "language": a.language})
        for i, s in enumerate(details.subtitles):
            rows.append(base | {"kind": "subtitle", "position": i, "codec": s.codec, "language": s.language,
                                "forced": s.forced, "external": s.external, "path": s.path})
        if len(rows) == before:  # nothing probed: a marker row so the old streams are still cleared
            rows.append(base | {"kind": "", "position": 0})
    return pl.DataFrame(rows, schema=_STREAM_SCHEMA, orient="row")


def _details(rows: list[tuple[Any, ...]]) -> StreamDetails:
    video = None
    audio: list[AudioStream] = []
    subs: list[SubtitleStream] = []
    container = ""
    for row in rows:
        r = dict(zip(_STREAM_COLUMNS, row, strict=True))
        container = r["container"] or container
        if r["kind"] == "video":
            video = VideoStream(codec=r["codec"], width=r["width"], height=r["height"], aspect=r["aspect"],
                                duration_seconds=r["duration_s"], hdr_type=r["hdr_type"],
                                stereo_mode=r["stereo_mode"])
        elif r["kind"] == "audio":
            audio.append(AudioStream(codec=r["codec"], channels=r["channels"], language=r["language"]))
        elif r["kind"] == "subtitle":
            subs.append(SubtitleStream(language=r["language"], external=r["external"], forced=r["forced"],
                                       codec=r["codec"], path=r["path"]))
    return StreamDetails(video=video, audio=tuple(audio), subtitles=tuple(subs), container=container)
