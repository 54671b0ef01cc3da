"""What publishing wrote: ``library_files``, ``publish_log`` and ``nfo_backups``.

Every file the pipeline writes into a movie folder is recorded (its intent before the write, its final row
after), so a later publish removes only its own stale files and skips files whose bytes are already right.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from metarr_pipeline.store.connection import StoreBase
from metarr_pipeline.store.frames import drop_frame, json_list, load_frame
from metarr_pipeline.store.rows import LibraryFileRow, NfoBackupRow, PublishState


class LibraryStore(StoreBase):
    """Reads and writes of the library file records, the publish log and NFO backups."""

    def library_files(self, movie_ids: Sequence[int]) -> dict[int, dict[str, LibraryFileRow]]:
        """movie → path → the file we wrote there (sha256, bytes, mtime_ns, role)."""
        with self._connect(write=False) as con:
            cur = con.execute("SELECT * FROM library_files WHERE movie_id"
                              " IN (SELECT UNNEST(?::JSON::BIGINT[]))", [json_list(movie_ids)])
            names = [d[0] for d in cur.description]
            out: dict[int, dict[str, LibraryFileRow]] = {}
            for r in cur.fetchall():
                row = LibraryFileRow(**dict(zip(names, r, strict=True)))
                out.setdefault(row.movie_id, {})[row.path] = row
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
                con.execute("DELETE FROM library_files WHERE movie_id"
                            " IN (SELECT UNNEST(?::JSON::BIGINT[]))", [json_list(by_movie)])
            if frame is not None:
                load_frame(con, "new_files", frame)
                if not replace_all:
                    con.execute("DELETE FROM library_files USING new_files n"
                                " WHERE library_files.movie_id = n.movie_id AND library_files.path = n.path")
                con.execute("INSERT INTO library_files BY NAME SELECT * FROM new_files")
                drop_frame(con, "new_files")

    def log_publish_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """One transaction for a batch's publish log (a crash before it only means those movies count as not
        yet published: publishing them again finds their files already right and writes nothing)."""
        if not rows:
            return
        with self._connect(write=True) as con:
            frame = pl.DataFrame(list(rows))
            load_frame(con, "new_log", frame)
            con.execute("INSERT INTO publish_log BY NAME SELECT * FROM new_log")
            drop_frame(con, "new_log")

    def publish_state(self, movie_ids: Sequence[int] | None = None) -> dict[int, PublishState]:
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
            sql += " WHERE m.id IN (SELECT UNNEST(?::JSON::BIGINT[]))"
            params.append(json_list(movie_ids))
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
            out[movie_id] = PublishState(published_at=published, changed_at=changed, state=state,
                                         enriched=enriched is not None, last_error=error or "")
        return out

    def publish_fingerprints(self, movie_ids: Sequence[int]) -> dict[int, str]:
        """The config fingerprint of each movie's last successful publish."""
        with self._connect(write=False) as con:
            rows = con.execute(
                "SELECT movie_id, arg_max(config_fingerprint, published_at) FROM publish_log"
                " WHERE status = 'published' AND movie_id IN (SELECT UNNEST(?::JSON::BIGINT[])) GROUP BY movie_id",
                [json_list(movie_ids)]).fetchall()
        return {r[0]: r[1] or "" for r in rows}

    def record_nfo_backup(self, movie_id: int, path: str, blob: dict[str, Any], saved_at: datetime) -> None:
        with self._connect(write=True) as con:
            con.execute("INSERT INTO blobs VALUES (?, ?, ?, NULL, NULL, 'nfo', ?, ?) ON CONFLICT DO NOTHING",
                        [blob["sha256"], blob["ext"], blob["bytes"], blob["source_url"], saved_at])
            con.execute("INSERT INTO nfo_backups VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [movie_id, path, blob["sha256"], saved_at])

    def nfo_backups(self, movie_id: int) -> list[NfoBackupRow]:
        """The user's NFOs publishing backed up for this movie, oldest first (for ``metarr backups``)."""
        with self._connect(write=False) as con:
            rows = con.execute(
                "SELECT n.path, n.sha256, n.saved_at, b.ext, b.bytes FROM nfo_backups n"
                " LEFT JOIN blobs b ON b.sha256 = n.sha256 WHERE n.movie_id = ? ORDER BY n.saved_at, n.sha256",
                [movie_id]).fetchall()
        return [NfoBackupRow(path=r[0], sha256=r[1], saved_at=r[2], ext=r[3] or "nfo", bytes=r[4]) for r in rows]

    def forget_library_file(self, movie_id: int, path: str) -> None:
        """The file at ``path`` is no longer ours (a restored user NFO): publishing treats it as the user's."""
        with self._connect(write=True) as con:
            con.execute("DELETE FROM library_files WHERE movie_id = ? AND path = ?", [movie_id, path])
