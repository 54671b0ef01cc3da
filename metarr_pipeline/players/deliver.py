"""Delivering queued notifications: batched per player, recorded, retried with backoff.

States of a notification (table ``notifications``)::

    pending ──deliver──> sent
       │  └────────────> deferred  (Kodi is playing; due again after defer_seconds; not an attempt)
       └───────────────> failed    (reason recorded; due again after retry_seconds × 2^(attempts-1), capped at
                                    an hour, until max_attempts; an unmapped path is not retried)
    deferred / failed ──deliver when due──> sent | deferred | failed

Every due notification of one player goes to it in one batch (Kodi: a lookup, one JSON-RPC batch of
refreshes and removals, scans one at a time, a verifying lookup; Jellyfin: one POST; Plex: one refresh per
folder), players are told concurrently, and the outcomes are written in one short transaction. Nothing here
ever raises because a player failed: that is data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from metarr_pipeline.config import PlayerSettings, Settings
from metarr_pipeline.players.errors import PlayerError
from metarr_pipeline.players.queue import queue_removals
from metarr_pipeline.players.registry import open_player
from metarr_pipeline.players.types import Notification, Outcome
from metarr_pipeline.redaction import redact
from metarr_pipeline.store import Store

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600.0


@dataclass
class PlayerDelivery:
    """What one player was told in one delivery."""

    player: str
    type: str
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    requests: int = 0
    results: list[tuple[Notification, Outcome]] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        """Distinct reasons for failures and deferrals, in order of appearance."""
        return list(dict.fromkeys(o.detail for _, o in self.results if o.status != "sent"))


@dataclass
class DeliveryReport:
    players: list[PlayerDelivery] = field(default_factory=list)
    enabled_players: int = 0
    removals_queued: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(p.failed for p in self.players)

    def by_partition(self) -> dict[str, dict[str, str]]:
        """partition key → player → ``sent: ...`` / ``deferred: ...`` / ``failed: ...``."""
        out: dict[str, dict[str, str]] = {}
        for p in self.players:
            for n, o in p.results:
                if n.partition_key:
                    out.setdefault(n.partition_key, {})[p.player] = f"{o.status}: {n.event}, {o.detail}"
        return out

    def summary(self) -> dict[str, Any]:
        return {"players": len(self.players), "enabled_players": self.enabled_players,
                "sent": sum(p.sent for p in self.players), "deferred": sum(p.deferred for p in self.players),
                "failed": self.failed, "requests": sum(p.requests for p in self.players),
                "removals_queued": self.removals_queued, "seconds": round(self.seconds, 3)}


def backoff(attempts: int, base_seconds: float) -> float:
    """Seconds before the next try after ``attempts`` failed deliveries: doubling, capped at an hour."""
    return min(base_seconds * 2 ** max(0, attempts - 1), MAX_BACKOFF_SECONDS)


def deliver_notifications(
    settings: Settings,
    store: Store,
    partition_keys: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    force: bool = False,
    removals: bool = True,
    env: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> DeliveryReport:
    """Deliver the due notifications (of these movies only, when keys are given) to every enabled player.

    ``force`` delivers every undelivered notification now, including those given up on. ``removals`` first
    queues ``deleted`` for published movies that left the library.
    """
    started = time.perf_counter()
    now = now or datetime.now()  # not truncated: the sensor compares due times with the clock too
    players = {p.label: p for p in settings.enabled_players}
    report = DeliveryReport(enabled_players=len(players))
    if not players:
        return report
    if removals and partition_keys is None:
        report.removals_queued = queue_removals(store, settings, now)
    movie_ids = None
    if partition_keys is not None:
        movie_ids = [m.id for m in store.movies(partition_keys=partition_keys) if m.id is not None]
    rows = store.due_notifications(now, list(players), movie_ids=movie_ids, force=force)
    batches: dict[str, list[Notification]] = {}
    for r in rows:
        batches.setdefault(r.player, []).append(Notification(
            id=r.id, player=r.player, movie_id=r.movie_id, partition_key=r.partition_key, event=r.event,
            folder=r.folder, video_file=r.video_file, status=r.status, attempts=r.attempts))
    if not batches:
        report.seconds = time.perf_counter() - started
        return report
    with ThreadPoolExecutor(max_workers=len(batches), thread_name_prefix="metarr-player") as pool:
        futures = [pool.submit(_deliver_one, players[name], batch, env, transport, settings.movie_sets_path)
                   for name, batch in batches.items()]
        report.players = [f.result() for f in futures]
    store.record_notification_results([
        _transition(n, o, players[p.player], now) for p in report.players for n, o in p.results])
    report.seconds = time.perf_counter() - started
    return report


def _deliver_one(player: PlayerSettings, batch: list[Notification], env: Mapping[str, str] | None,
                 transport: httpx.BaseTransport | None, sets_folder: Path | None = None) -> PlayerDelivery:
    delivery = PlayerDelivery(player.label, player.type)
    client = None
    try:
        client = open_player(player, env, transport, sets_folder=sets_folder)
        outcomes = client.notify(batch)
    except PlayerError as exc:
        outcomes = [Outcome(n.id, "failed", str(exc), retryable=exc.retryable) for n in batch]
    except Exception as exc:  # a bug must not lose the queue: recorded like a failure, and logged
        secrets = client.http.secrets if client is not None and hasattr(client, "http") else ()
        text = redact(f"unexpected error: {type(exc).__name__}: {exc}", secrets)
        log.error("%s '%s': %s", player.type, player.label, text, exc_info=False)
        outcomes = [Outcome(n.id, "failed", text) for n in batch]
    finally:
        if client is not None:
            delivery.requests = client.requests
            client.close()
    by_id = {o.id: o for o in outcomes}
    for n in batch:
        outcome = by_id.get(n.id) or Outcome(n.id, "failed", "no outcome reported (a bug)")
        delivery.results.append((n, outcome))
        setattr(delivery, outcome.status, getattr(delivery, outcome.status) + 1)
    reasons = "; ".join(delivery.reasons)
    log.info("%s '%s': %d sent, %d deferred, %d failed in %d requests%s", player.type, player.label,
             delivery.sent, delivery.deferred, delivery.failed, delivery.requests,
             f" ({reasons})" if reasons else "")
    return delivery


def _transition(n: Notification, o: Outcome, player: PlayerSettings, now: datetime) -> dict[str, Any]:
    """The row update for one outcome: the state machine of the module docstring."""
    row: dict[str, Any] = {"id": n.id, "status": o.status, "attempts": n.attempts, "detail": o.detail,
                           "last_attempt_at": now, "next_attempt_at": None, "sent_at": None}
    if o.status == "sent":
        row["attempts"] = n.attempts + 1
        row["sent_at"] = now
    elif o.status == "deferred":
        row["next_attempt_at"] = now + timedelta(seconds=player.defer_seconds)
    else:
        row["attempts"] = n.attempts + 1
        if not o.retryable:
            row["detail"] = f"{o.detail} (not retried: fix the config, then 'metarr players notify --now')"
        elif row["attempts"] >= player.max_attempts:
            row["detail"] = f"gave up after {row['attempts']} attempts: {o.detail}"
        else:
            row["next_attempt_at"] = now + timedelta(seconds=backoff(row["attempts"], player.retry_seconds))
    return row
