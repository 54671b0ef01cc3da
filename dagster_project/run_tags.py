"""The run tags the automation sets and the assets read: one name for each, so the two cannot drift apart.

A run's ``metarr/trigger`` says who launched it. Runs launched by automation (``AUTOMATIC_TRIGGERS``) skip
movies marked manual and movies already up to date when they publish; a config-change backfill re-scores
offline. A run without the tag was launched by a person (the UI, ``make demo``) and does exactly what it
was asked. The range tags are Dagster's own: one run over a contiguous range of movie partitions.
"""

TRIGGER_TAG = "metarr/trigger"

SCHEDULE = "schedule"
"""Launched by the enrichment schedule."""
AUTO_PUBLISH = "auto_publish"
"""Launched by the auto-publish sensor."""
CONFIG_CHANGE = "config_change"
"""Launched by the config-change backfill sensor: re-score offline, originals of new winners left for publish."""

AUTOMATIC_TRIGGERS = frozenset({SCHEDULE, AUTO_PUBLISH, CONFIG_CHANGE})

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"

RUN_KEY = "dagster/run_key"
"""Dagster's own tag holding a sensor run's run key (a run key it has seen is never launched again)."""
