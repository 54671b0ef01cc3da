"""Words for people about players: delivery, checks and the queue (the CLI prints them; assets reuse them)."""

from __future__ import annotations

from collections.abc import Sequence

from metarr_pipeline.players.deliver import DeliveryReport
from metarr_pipeline.players.types import CheckReport
from metarr_pipeline.store import NotificationRow


def delivery_text(report: DeliveryReport) -> str:
    if not report.enabled_players:
        return "No player is enabled: nothing to notify (see [[players]] in the config)."
    s = report.summary()
    lines = [f"Players: {s['sent']} notifications sent, {s['deferred']} deferred, {s['failed']} failed "
             f"in {s['requests']} requests ({s['seconds']:.2f}s)."
             + (f" {s['removals_queued']} removed movies queued." if s["removals_queued"] else "")]
    if not report.players:
        lines.append("  nothing due.")
    for p in report.players:
        lines.append(f"  {p.type} '{p.player}': {p.sent} sent, {p.deferred} deferred, {p.failed} failed")
        for n, o in p.results:
            lines.append(f"    {n.partition_key or n.folder}: {o.status} ({n.event}) {o.detail}")
    return "\n".join(lines)


def check_text(reports: Sequence[CheckReport]) -> str:
    if not reports:
        return "No player is enabled (see [[players]] in the config; name a disabled one to test it anyway)."
    lines = []
    for r in reports:
        lines.append(f"{r.type} '{r.player}': {'OK' if r.ok else 'PROBLEMS'}")
        lines.extend(f"  {line}" for line in r.lines)
    return "\n".join(lines)


def queue_text(counts: dict[tuple[str, str], int], undelivered: Sequence[NotificationRow]) -> str:
    if not counts:
        return "No notifications yet."
    players = sorted({p for p, _ in counts})
    lines = []
    for p in players:
        parts = ", ".join(f"{counts.get((p, s), 0)} {s}" for s in ("pending", "deferred", "failed", "sent"))
        lines.append(f"{p}: {parts}")
    for row in undelivered:
        due = f"next try {row.next_attempt_at:%Y-%m-%d %H:%M}" if row.next_attempt_at else "not retried"
        lines.append(f"  {row.player} {row.partition_key or row.folder}: {row.status} ({row.event}, "
                     f"{row.attempts} attempts, {due}) {row.detail}")
    return "\n".join(lines)
