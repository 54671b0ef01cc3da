"""Queueing notifications: a cheap state-store write, so a publish is never slowed or failed by a player.

- :func:`queue_notifications` is called by the publish for every movie it changed (files written or
  removed): ``created`` when it was the movie's first publish, else ``modified``; one row per enabled player.
- :func:`queue_removals` finds movies gone from disk that metarr had published and queues ``deleted`` for
  the players not told yet; delivery calls it first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.store import MovieRecord, Store

log = logging.getLogger(__name__)


def queue_notifications(store: Store, settings: Settings, movies: Sequence[tuple[MovieRecord, str]],
                        now: datetime) -> int:
    """Queue ``(movie, event)`` for every enabled player; never raises (a failure is logged)."""
    players = settings.enabled_players
    rows = [{"player": p.label, "movie_id": m.id, "event": event, "folder": m.folder,
             "video_file": m.video_file or "", "queued_at": now}
            for p in players for m, event in movies if m.id is not None]
    if not rows:
        return 0
    try:
        queued = store.queue_notifications(rows)
    except MetarrError as exc:
        log.warning("could not queue player notifications (the publish is not affected): %s", exc)
        return 0
    log.info("queued %d player notifications for %d movies", queued, len(movies))
    return queued


def queue_removals(store: Store, settings: Settings, now: datetime) -> int:
    """Queue ``deleted`` for published movies that left the library and that a player was not told about."""
    players = [p.label for p in settings.enabled_players]
    rows = [{"player": r.player, "movie_id": r.movie_id, "event": "deleted", "folder": r.folder,
             "video_file": r.video_file, "queued_at": max(now, r.gone_at)}
            for r in store.removed_movies_to_notify(players)]
    return store.queue_notifications(rows) if rows else 0
