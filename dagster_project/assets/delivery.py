"""Delivering player notifications from a Dagster step, and how a delivery is shown.

Shared by ``player_notifications`` (the notify step of ``publish_job``), the retry op, and a publish run that
has no notify step: a publish launched by materialising ``published_library_files`` from its asset page runs
as an ad-hoc asset job of that asset alone, and tells the players itself (``notify_step_in_run`` says which
case a run is), so the players hear of a publish in the run that made it, not minutes later from the sensor.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from dagster_project.metadata import markdown_table
from metarr_pipeline.players.deliver import DeliveryReport

NOTIFICATIONS = dg.AssetKey("player_notifications")


def notify_step_in_run(context: dg.AssetExecutionContext) -> bool:
    """Whether this run also materialises ``player_notifications`` (``publish_job`` does; an asset-page
    materialisation of ``published_library_files`` alone does not)."""
    # A run of a subset names its assets; a run of a whole job names none (empty): the job's own selection.
    selected = context.run.asset_selection or context.job_def.asset_layer.selected_asset_keys
    return NOTIFICATIONS in selected


def delivery_totals(report: DeliveryReport) -> dict[str, Any]:
    """The run's delivery: totals and a table of sent / deferred / failed per player with the reasons."""
    s = report.summary()
    metadata: dict[str, dg.RawMetadataValue] = {
        "enabled_players": s["enabled_players"], "sent": s["sent"], "deferred": s["deferred"],
        "failed": s["failed"], "requests": s["requests"], "removals_queued": s["removals_queued"],
        "seconds": s["seconds"],
    }
    if report.players:
        rows = [(f"{p.type} '{p.player}'", str(p.sent), str(p.deferred), str(p.failed), str(p.requests),
                 "; ".join(p.reasons)[:500]) for p in report.players]
        metadata["players"] = dg.MetadataValue.md(markdown_table(
            ("player", "sent", "deferred", "failed", "requests", "reasons"), rows))
    else:
        metadata["players"] = "no player enabled" if not report.enabled_players else "nothing due"
    return metadata


def log_player_failures(context: dg.OpExecutionContext | dg.AssetExecutionContext, report: DeliveryReport) -> None:
    for p in report.players:
        if p.failed:
            context.log.warning("%s '%s': %d notifications failed: %s", p.type, p.player, p.failed,
                                "; ".join(p.reasons))
