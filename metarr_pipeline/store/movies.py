"""Movies and what the scan knows about them: ``movies``, ``streams`` and ``scan_runs``.

The scan hands over one :class:`ScanWrite` per run, written in one short transaction (changed movies are
replaced whole, streams per folder), so a repeated scan writes the same rows again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, fields
from typing import Any

import polars as pl

from metarr_pipeline.models import AudioStream, StreamDetails, SubtitleStream, VideoStream
from metarr_pipeline.store.connection import StoreBase, store_now
from metarr_pipeline.store.frames import drop_frame, json_list, load_frame
from metarr_pipeline.store.rows import MovieRecord, ScanRun, ScanWrite

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
    "external": pl.Boolean, "path": pl.String, "container": pl.String, "profile": pl.String,
}
_STREAM_COLUMNS = tuple(c for c in _STREAM_SCHEMA if c != "folder")

class MoviesStore(StoreBase):
    """Reads and writes of ``movies``, ``streams`` and ``scan_runs``."""

    def movies(self, *, include_gone: bool = True, partition_keys: Sequence[str] | None = None) -> list[MovieRecord]:
        """Movies ordered by folder; only those with the given partition keys when keys are given."""
        sql = f"SELECT {', '.join(_MOVIE_COLUMNS)} FROM movies WHERE true"
        params: list[Any] = []
        if not include_gone:
            sql += " AND gone_at IS NULL"
        if partition_keys is not None:
            sql += " AND partition_key IN (SELECT UNNEST(?::JSON::VARCHAR[]))"
            params.append(json_list(partition_keys))
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
               + ("" if movie_ids is None else " WHERE movie_id IN (SELECT UNNEST(?::JSON::BIGINT[]))")
               + " ORDER BY movie_id, kind, position")
        params = [] if movie_ids is None else [json_list(movie_ids)]
        with self._connect(write=False) as con:
            rows = con.execute(sql, params).fetchall()
        grouped: dict[int, list[tuple[Any, ...]]] = {}
        for row in rows:
            grouped.setdefault(row[0], []).append(row[1:])
        return {movie_id: _details(stream_rows) for movie_id, stream_rows in grouped.items()}

    def apply_scan(self, write: ScanWrite) -> None:
        """Write one scan's changes in a single short transaction (idempotent)."""
        now = write.seen_at or store_now()
        existing = [m for m in write.movies if m.id is not None]
        new = [m for m in write.movies if m.id is None]
        with self._connect(write=True) as con:
            if existing:
                frame = _movie_frame(existing)
                load_frame(con, "changed_movies", frame)
                con.execute("DELETE FROM movies WHERE id IN (SELECT id FROM changed_movies)")
                con.execute(f"INSERT INTO movies ({', '.join(_MOVIE_COLUMNS)}) "
                            f"SELECT {', '.join(_MOVIE_COLUMNS)} FROM changed_movies")
                drop_frame(con, "changed_movies")
            if new:
                cols = [c for c in _MOVIE_COLUMNS if c != "id"]
                load_frame(con, "new_movies", _movie_frame(new).drop("id"))
                con.execute(f"INSERT INTO movies ({', '.join(cols)}) SELECT {', '.join(cols)} FROM new_movies")
                drop_frame(con, "new_movies")
            if write.streams:
                frame = _stream_frame(write.streams)
                load_frame(con, "new_streams", frame)
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
                drop_frame(con, "new_streams")
            if write.seen_ids:
                con.execute("UPDATE movies SET last_seen = ? WHERE id IN (SELECT UNNEST(?::JSON::BIGINT[]))",
                            [now, json_list(write.seen_ids)])
            if write.gone_ids:
                con.execute("UPDATE movies SET gone_at = ? WHERE gone_at IS NULL AND id"
                            " IN (SELECT UNNEST(?::JSON::BIGINT[]))",
                            [now, json_list(write.gone_ids)])
            if write.started_at is not None:
                con.execute("INSERT INTO scan_runs VALUES (?, ?, ?, ?)",
                            [write.started_at, now, list(write.roots), json.dumps(write.summary, sort_keys=True)])

    def last_scan(self) -> ScanRun | None:
        with self._connect(write=False) as con:
            row = con.execute(
                "SELECT started_at, finished_at, roots, summary_json FROM scan_runs"
                " ORDER BY finished_at DESC LIMIT 1"
            ).fetchone()
        if not row:
            return None
        return ScanRun(started_at=row[0], finished_at=row[1], roots=tuple(row[2]), summary=json.loads(row[3]))

    def set_identity(self, movie: MovieRecord) -> None:
        """Write a movie's identification chosen by hand (``id_source = 'manual'``). When the TMDB id changed,
        what was fetched and chosen for the old film (metadata, candidates, choices, actors, enrichment) is
        forgotten, so nothing of one film leaks into the other; files already published stay recorded."""
        assert movie.id is not None
        with self._connect(write=True) as con:
            row = con.execute("SELECT tmdb_id FROM movies WHERE id = ?", [movie.id]).fetchone()
            if row is not None and row[0] is not None and row[0] != movie.tmdb_id:
                for table in ("movie_metadata", "artwork_candidates", "artwork_choices", "artwork_locks",
                              "movie_actors", "enrichment"):
                    con.execute(f"DELETE FROM {table} WHERE movie_id = ?", [movie.id])
            con.execute(
                "UPDATE movies SET status = ?, reason = ?, tmdb_id = ?, imdb_id = ?, id_source = ?, title = ?,"
                " year = ?, partition_key = ? WHERE id = ?",
                [movie.status, movie.reason, movie.tmdb_id, movie.imdb_id, movie.id_source, movie.title, movie.year,
                 movie.partition_key, movie.id])

    def set_manual(self, partition_key: str, manual: bool) -> bool:
        with self._connect(write=True) as con:
            row = con.execute("UPDATE movies SET manual = ? WHERE partition_key = ? RETURNING id",
                              [manual, partition_key]).fetchone()
        return row is not None


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
            "forced": False, "external": False, "path": "", "container": details.container, "profile": "",
        }
        if details.video:
            v = details.video
            rows.append(base | {"kind": "video", "position": 0, "codec": v.codec, "width": v.width,
                                "height": v.height, "aspect": v.aspect, "duration_s": v.duration_seconds,
                                "hdr_type": v.hdr_type, "stereo_mode": v.stereo_mode})
        for i, a in enumerate(details.audio):
            rows.append(base | {"kind": "audio", "position": i, "codec": a.codec, "channels": a.channels,
                                "language": a.language, "profile": a.profile})
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
            audio.append(AudioStream(codec=r["codec"], channels=r["channels"], language=r["language"],
                                     profile=r["profile"] or ""))
        elif r["kind"] == "subtitle":
            subs.append(SubtitleStream(language=r["language"], external=r["external"], forced=r["forced"],
                                       codec=r["codec"], path=r["path"]))
    return StreamDetails(video=video, audio=tuple(audio), subtitles=tuple(subs), container=container)
