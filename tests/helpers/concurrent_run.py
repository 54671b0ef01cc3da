"""One Dagster run of enrich_job over a partition range, under the multiprocess executor, in its own process.

Usage: python concurrent_run.py DAGSTER_HOME START END   (METARR_CONFIG names the shared settings file)
Prints "ok" or "failed" and the step errors; any lock error would surface as a failed step.
"""

import sys
import warnings

import dagster as dg


def enrich_job_def() -> dg.JobDefinition:
    from dagster_project.definitions import defs

    return defs.resolve_job_def("enrich_job")


def main() -> None:
    warnings.filterwarnings("ignore")
    home, start, end, keys = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
    with dg.DagsterInstance.from_config(home) as instance:
        instance.add_dynamic_partitions("movies", keys)
        result = dg.execute_job(
            dg.reconstructable(enrich_job_def), instance=instance,
            tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
        )
        errors = [str(e.event_specific_data.error) for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        print("ok" if result.success else "failed", len(errors))
        for error in errors:
            print(error[-2000:])


if __name__ == "__main__":
    main()
