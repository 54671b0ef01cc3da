"""The ``ticks`` step: what a user's automation and UI ask of a big library between runs, each timed in its own
worker process (so its peak memory is its own) on the state and Dagster instance the stages left.

- ``schedule``: ``library_enrichment_schedule`` evaluated once (the run requests it makes);
- ``auto_publish_sensor`` and ``config_change_sensor`` (``config_change_backfill_sensor``): one tick each;
- ``graphql``: the partition status of ``cached_artwork`` as the Dagster UI asks for it, a GraphQL query run in
  process against the project's Definitions and the bench's instance; its ``numMaterialized`` must be N, or
  the bench fails (:func:`partition_count_problem`);
- ``review_page``: the review page's library (first page, the "needs review" filter, a search) on the real
  state, median server time (``bench.review_page.measure``).

The measuring code runs inside the worker (``bench.tick_worker``); this module only starts it and checks answers.
"""

from __future__ import annotations

from typing import Any

from bench.stages import StageRunner, run_worker

TICKS = ("schedule", "auto_publish_sensor", "config_change_sensor", "graphql", "review_page")
PARTITIONED_ASSET = "cached_artwork"
REVIEW_ROUNDS = 10


def run_ticks(runner: StageRunner) -> dict[str, dict[str, Any]]:
    """Each measurement in a fresh worker: its own time, the process's wall and peak RSS, requests made."""
    runner.configure()  # this simulator's URLs, the weights in force
    out: dict[str, dict[str, Any]] = {}
    for name in TICKS:
        print(f"bench: ticks: {name} ...", flush=True)
        result = run_worker(f"ticks-{name}", [], runner.config, runner.dagster_home, runner.work, runner.sim,
                            extra={"measure": [name], "asset": PARTITIONED_ASSET, "rounds": REVIEW_ROUNDS})
        tick = result["ticks"][name]
        tick.update(process_wall_s=result["wall_s"], peak_rss_mb=round(result["peak_rss_mb"], 1),
                    requests=result["requests"]["total"])
        print(f"bench:   {tick['seconds']} s ({tick['process_wall_s']} s with start-up), "
              f"peak {tick['peak_rss_mb']:.0f} MB", flush=True)
        out[name] = tick
    return out


def partition_count_problem(answer: dict[str, Any], n: int) -> str | None:
    """None when the GraphQL answer counts every movie's partition materialised, else what is wrong (the bench
    then fails: a fast wrong answer is not a measurement)."""
    stats = answer.get("partition_stats")
    if answer.get("typename") != "AssetNode" or not stats:
        return f"GraphQL partition status of {PARTITIONED_ASSET}: no partition stats in the answer " \
               f"({answer.get('typename')}: {answer.get('message', '')})"
    if stats["numMaterialized"] != n or answer.get("materialized_listed") != n:
        return (f"GraphQL partition status of {PARTITIONED_ASSET}: numMaterialized {stats['numMaterialized']} "
                f"({answer.get('materialized_listed')} listed) of {stats['numPartitions']} partitions, expected "
                f"{n} (numFailed {stats['numFailed']})")
    return None
