"""Sensors: keep the movie partitions equal to what the state database knows.

A scan run from the CLI (``metarr scan``) writes only the state database; this sensor brings the
Dagster instance's partitions in line within one tick, without launching runs.
"""


import dagster as dg

from dagster_project.partitions import movies_partitions, partition_requests
from dagster_project.resources import MetarrResource
from metarr_pipeline.errors import MetarrError


@dg.sensor(
    name="movie_partitions_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition for every newly identified movie and removes those of movies gone from disk.",
)
def movie_partitions_sensor(context: dg.SensorEvaluationContext, metarr: MetarrResource) -> dg.SensorResult:
    try:
        desired = metarr.store().partition_keys()
    except MetarrError as exc:
        return dg.SensorResult(skip_reason=f"state database not readable: {exc}")
    current = context.instance.get_dynamic_partitions(movies_partitions.name)
    requests = partition_requests(current, desired)
    if not requests:
        return dg.SensorResult(skip_reason=f"{len(desired)} movie partitions already in sync")
    return dg.SensorResult(dynamic_partitions_requests=requests)
