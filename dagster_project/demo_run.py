"""Materialise the pipeline in the local Dagster instance the way a user would, for ``make demo``.

One run scans the library and registers the movie partitions; one batched run then enriches every movie
(a partition range in a single run, not a run per movie), and one publishes them. Everything it needs is
already cached by ``metarr demo``, so this is quick, and afterwards the Dagster UI shows every movie's review
metadata.
"""

import sys
import warnings

import dagster as dg

warnings.filterwarnings("ignore", category=dg.BetaWarning)  # before the definitions import: they emit them

from dagster_project.definitions import defs, enrich_job, publish_job, scan_job  # noqa: E402
from dagster_project.partitions import movies_partitions  # noqa: E402
from dagster_project.run_tags import RANGE_END, RANGE_START  # noqa: E402


def main() -> int:
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    with dg.DagsterInstance.get() as instance:
        scan = defs.resolve_job_def(scan_job.name).execute_in_process(instance=instance)
        print(f"library_scan: {'ok' if scan.success else 'FAILED'} (run {scan.run_id})")
        keys = instance.get_dynamic_partitions(movies_partitions.name)
        if not keys:
            print("no movie partitions: nothing to enrich")
            return 0 if scan.success else 1
        tags = {RANGE_START: keys[0], RANGE_END: keys[-1]}
        ok = scan.success
        for job in (enrich_job, publish_job):
            result = defs.resolve_job_def(job.name).execute_in_process(instance=instance, tags=tags)
            print(f"{job.name} over {len(keys)} movie partitions in one run: "
                  f"{'ok' if result.success else 'FAILED'} (run {result.run_id})")
            ok = ok and result.success
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
