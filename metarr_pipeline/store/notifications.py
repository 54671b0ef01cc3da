"""Player notifications (``notifications``): the queue of what each media player still has to be told.

Publishing queues, delivery records outcomes; one undelivered row per player and movie, its events merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import polars as pl

from metarr_pipeline.store.connection import StoreBase
from metarr_pipeline.store.frames import drop_frame, json_list, load_frame
from metarr_pipeline.store.rows import NotificationRow, RemovedMovie

_NOTIFICATION_SELECT = ", ".join(
    "coalesce(m.partition_key, '') AS partition_key" if f.name == "partition_key" else f"n.{f.name}"
    for f in fields(NotificationRow))


class NotificationsStore(StoreBase):
    """Reads and writes of the player notification queue."""

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
            load_frame(con, "new_notifications", frame)
            open_events = con.execute(
                "SELECT n.player, n.movie_id, list(n.event) FROM notifications n"
                " JOIN new_notifications w ON w.player = n.player AND w.movie_id = n.movie_id"
                " WHERE n.status IN ('pending', 'deferred', 'failed') GROUP BY n.player, n.movie_id"
            ).fetchall()
            drop_frame(con, "new_notifications")
            earlier = {(r[0], r[1]): set(r[2]) for r in open_events}
            merged = []
            latest = frame.unique(subset=["player", "movie_id"], keep="last", maintain_order=True)
            for row in latest.iter_rows(named=True):
                if row["event"] == "modified" and "created" in earlier.get((row["player"], row["movie_id"]), ()):
                    row["event"] = "created"
                merged.append({**row, "status": "pending", "attempts": 0, "detail": "",
                               "next_attempt_at": row["queued_at"]})
            load_frame(con, "merged_notifications", pl.DataFrame(merged, schema={
                **schema, "status": pl.String, "attempts": pl.Int32, "detail": pl.String,
                "next_attempt_at": pl.Datetime("us")}))
            con.execute("DELETE FROM notifications WHERE status IN ('pending', 'deferred', 'failed')"
                        " AND (player, movie_id) IN (SELECT (player, movie_id) FROM merged_notifications)")
            con.execute("INSERT INTO notifications BY NAME SELECT * FROM merged_notifications")
            drop_frame(con, "merged_notifications")
        return len(merged)

    def due_notifications(self, now: datetime, players: Sequence[str], *, movie_ids: Sequence[int] | None = None,
                          force: bool = False) -> list[NotificationRow]:
        """Undelivered notifications of these players that are due (all undelivered ones with ``force``)."""
        sql = (f"SELECT {_NOTIFICATION_SELECT} FROM notifications n LEFT JOIN movies m ON m.id = n.movie_id"
               " WHERE n.status IN ('pending', 'deferred', 'failed') AND n.player"
               " IN (SELECT UNNEST(?::JSON::VARCHAR[]))"
               " AND (? OR n.next_attempt_at <= ?)")
        params: list[Any] = [json_list(players), force, now]
        if movie_ids is not None:
            sql += " AND n.movie_id IN (SELECT UNNEST(?::JSON::BIGINT[]))"
            params.append(json_list(movie_ids))
        with self._connect(write=False) as con:
            rows = con.execute(sql + " ORDER BY n.player, n.folder, n.id", params).fetchall()
        return [NotificationRow(*r) for r in rows]

    def record_notification_results(self, rows: Sequence[dict[str, Any]]) -> None:
        """Apply delivery outcomes (id, status, attempts, detail, last_attempt_at, next_attempt_at, sent_at)."""
        if not rows:
            return
        frame = pl.DataFrame(list(rows), schema={
            "id": pl.Int64, "status": pl.String, "attempts": pl.Int32, "detail": pl.String,
            "last_attempt_at": pl.Datetime("us"), "next_attempt_at": pl.Datetime("us"), "sent_at": pl.Datetime("us")},
            orient="row")
        with self._connect(write=True) as con:
            load_frame(con, "results", frame)
            con.execute("UPDATE notifications SET status = r.status, attempts = r.attempts, detail = r.detail,"
                        " last_attempt_at = r.last_attempt_at, next_attempt_at = r.next_attempt_at,"
                        " sent_at = r.sent_at FROM results r WHERE notifications.id = r.id")
            drop_frame(con, "results")

    def notifications(self, *, movie_ids: Sequence[int] | None = None, undelivered: bool = False,
                      limit: int | None = None) -> list[NotificationRow]:
        """Notifications, newest first, with the movie's partition key."""
        sql = (f"SELECT {_NOTIFICATION_SELECT} FROM notifications n"
               " LEFT JOIN movies m ON m.id = n.movie_id WHERE true")
        params: list[Any] = []
        if movie_ids is not None:
            sql += " AND n.movie_id IN (SELECT UNNEST(?::JSON::BIGINT[]))"
            params.append(json_list(movie_ids))
        if undelivered:
            sql += " AND n.status IN ('pending', 'deferred', 'failed')"
        sql += " ORDER BY n.queued_at DESC, n.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._connect(write=False) as con:
            rows = con.execute(sql, params).fetchall()
        return [NotificationRow(*r) for r in rows]

    def notification_counts(self) -> dict[tuple[str, str], int]:
        """(player, status) → number of notifications."""
        with self._connect(write=False) as con:
            rows = con.execute("SELECT player, status, count(*) FROM notifications GROUP BY ALL").fetchall()
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def removed_movies_to_notify(self, players: Sequence[str]) -> list[RemovedMovie]:
        """Movies gone from disk that metarr once published and these players were not told about since."""
        if not players:
            return []
        with self._connect(write=False) as con:
            rows = con.execute("""
                SELECT p.player, m.id AS movie_id, m.folder, coalesce(m.video_file, '') AS video_file, m.gone_at
                FROM movies m CROSS JOIN (SELECT UNNEST(?::JSON::VARCHAR[]) AS player) p
                WHERE m.gone_at IS NOT NULL
                  AND EXISTS (SELECT 1 FROM publish_log l WHERE l.movie_id = m.id AND l.status = 'published')
                  AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.movie_id = m.id AND n.player = p.player
                                  AND n.event = 'deleted' AND n.queued_at >= m.gone_at)
                ORDER BY p.player, m.folder""", [json_list(players)]).fetchall()
        return [RemovedMovie(*r) for r in rows]
