"""Notify stage: telling Kodi, Jellyfin and Plex about what was published.

- ``player_notifications`` (partitioned like the movies, downstream of ``published_library_files`` and part of
  ``publish_job``): delivers the notifications the publish queued for the batch's movies, one batch per player,
  and shows per movie and per player what each was told, deferred or why it failed. A failing or sleeping
  player never fails this asset (the notification is recorded failed and retried); only an unreadable config
  or state database does. A publish materialised from ``published_library_files``' asset page alone (no notify
  step in its run) delivers its movies' notifications itself, in that run (``delivery``).
- ``player_notification_retry_job``: one op that delivers every notification that is due, launched by
  ``player_notification_sensor`` (in ``automation``); what it told each player is shown on the movie's
  partition of ``player_notifications``.
"""

import dagster as dg

from dagster_project.assets.delivery import delivery_totals, log_player_failures
from dagster_project.assets.publish import published_library_files
from dagster_project.partitions import movies_partitions
from dagster_project.resources import MetarrResource
from dagster_project.step_metadata import PartitionMetadata, report_run_totals
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.players.deliver import deliver_notifications


@dg.asset(
    group_name="notify",
    partitions_def=movies_partitions,
    deps=[published_library_files],
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Kodi, Jellyfin and Plex told about the published movies (Kodi: RefreshMovie or a scan of the "
                "folder; Jellyfin: Media/Updated; Plex: a section refresh of the folder), with path mapping. "
                "Failures are recorded and retried by player_notification_sensor; they never fail a publish.",
    kinds={"python"},
)
def player_notifications(context: dg.AssetExecutionContext, metarr: MetarrResource) -> dg.MaterializeResult:
    keys = list(context.partition_keys)
    try:
        report = deliver_notifications(metarr.settings_without_roots, metarr.store(), keys)
    except MetarrError as exc:
        raise dg.Failure(description=str(exc)) from exc
    told = report.by_partition()
    per_movie = PartitionMetadata(context)
    for key in keys:  # every movie of the run: what each player was told about it, or that nothing was due
        per_movie.add(key, dict(told.get(key) or {"players": "nothing due"}))
    per_movie.attach()
    log_player_failures(context, report)
    report_run_totals(context, delivery_totals(report))
    return dg.MaterializeResult()


@dg.op(description="Deliver every due player notification (retries, deferrals, removed movies).")
def deliver_due_notifications(context: dg.OpExecutionContext, metarr: MetarrResource) -> dg.Output[None]:
    try:
        report = deliver_notifications(metarr.settings_without_roots, metarr.store())
    except MetarrError as exc:
        raise dg.Failure(description=str(exc)) from exc
    existing = set(context.instance.get_dynamic_partitions(movies_partitions.name))
    for key, told in report.by_partition().items():
        if key in existing:  # shown on the movie's partition of player_notifications
            context.log_event(dg.AssetObservation(asset_key=player_notifications.key, partition=key,
                                                  metadata=dict(told)))
    return dg.Output(None, metadata=delivery_totals(report))


@dg.job(description="Deliver the player notifications that are due (launched by player_notification_sensor).")
def player_notification_retry_job() -> None:
    deliver_due_notifications()
