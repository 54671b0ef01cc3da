"""Launching ``publish_job`` runs through the Dagster webserver's GraphQL API (plain HTTP, no Dagster import).

The review page publishes the movies a person chose as Dagster runs of ``publish_job`` (the library files and
the player notifications), so every publish shows in the Dagster UI: the run, and each movie's partition of
``published_library_files``. A run covers one contiguous range of movie partitions (Dagster's own range tags,
as the sensors use them), in the instance's partition order; chosen movies that are not adjacent become one
run per stretch, so a run never publishes a movie nobody chose.

A choice made on the review page re-selects the movie's artwork outside Dagster; it is reported to the
instance as a runless materialisation of that movie's ``artwork_selection`` partition, so the Dagster UI shows
the new selection (and ``published_library_files`` downstream of it as out of date) as ``metarr status`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from metarr_pipeline.errors import MetarrError

JOB = "publish_job"
SELECTION_ASSET = "artwork_selection"
PUBLISHED_ASSET = "published_library_files"
RANGE_START = "dagster/asset_partition_range_start"  # the same tags as dagster_project.run_tags
RANGE_END = "dagster/asset_partition_range_end"
TRIGGER_TAG = "metarr/trigger"
TRIGGER = "review_page"


class DagsterUnavailable(MetarrError):
    """No Dagster webserver answers at the configured URL, or it does not know ``publish_job``."""


@dataclass(frozen=True)
class LaunchedRun:
    run_id: str
    first: str
    last: str
    movies: int
    url: str


_REPOS = """query { repositoriesOrError { __typename ... on RepositoryConnection { nodes { name location { name }
  jobs { name } } } ... on PythonError { message } } }"""
_KEYS = """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) { __typename
  ... on AssetNode { partitionKeys } } }"""
_LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } ... on RunConfigValidationInvalid {
  errors { message } } ... on InvalidSubsetError { message } ... on PipelineNotFoundError { message }
  ... on RunConflict { message } ... on UnauthorizedError { message } ... on PresetNotFoundError { message }
  ... on InvalidOutputError { stepKey } ... on InvalidStepError { invalidStepKey } } }"""
_RUN = """query($id: ID!) { runOrError(runId: $id) { __typename
  ... on Run { runId status jobName tags { key value } } } }"""


_REPORT = """mutation($params: ReportRunlessAssetEventsParams!) { reportRunlessAssetEvents(eventParams: $params) {
  __typename ... on PythonError { message } ... on UnauthorizedError { message } } }"""
_LATEST = """query($key: AssetKeyInput!, $partition: String!) { assetOrError(assetKey: $key) { __typename
  ... on Asset { assetMaterializations(partitions: [$partition], limit: 1) { description runId timestamp } } } }"""


class DagsterClient:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def query(self, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = httpx.post(f"{self.url}/graphql", json={"query": text, "variables": variables or {}},
                                  timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DagsterUnavailable(f"no Dagster webserver at {self.url} ({type(exc).__name__}): start it with "
                                     "'make ui' or 'dagster dev'") from None
        if response.status_code != 200:
            raise DagsterUnavailable(f"Dagster at {self.url} answered HTTP {response.status_code}")
        body = response.json()
        if body.get("errors"):
            raise DagsterUnavailable(f"Dagster GraphQL error: {body['errors'][0].get('message', '')[:300]}")
        return body["data"]

    def available(self) -> bool:
        try:
            self._publish_job()
        except DagsterUnavailable:
            return False
        return True

    def _publish_job(self) -> tuple[str, str]:
        """(code location, repository) that holds ``publish_job``."""
        repos = self.query(_REPOS)["repositoriesOrError"]
        for repo in repos.get("nodes") or []:
            if any(job["name"] == JOB for job in repo["jobs"]):
                return repo["location"]["name"], repo["name"]
        raise DagsterUnavailable(f"Dagster at {self.url} has no {JOB} (is the metarr code location loaded?)")

    def partition_order(self) -> list[str]:
        node = self.query(_KEYS, {"key": {"path": [PUBLISHED_ASSET]}})["assetNodeOrError"]
        return list(node.get("partitionKeys") or [])

    def publish(self, keys: Sequence[str]) -> list[LaunchedRun]:
        """One run of ``publish_job`` per contiguous stretch of the chosen movies' partitions."""
        location, repository = self._publish_job()
        order = self.partition_order()
        missing = sorted(set(keys) - set(order))
        if missing:
            raise DagsterUnavailable(f"not yet a Dagster partition (the partitions sensor adds new movies within a "
                                     f"minute): {', '.join(missing[:5])}")
        runs = []
        for first, last, count in stretches(order, keys):
            tags = [{"key": RANGE_START, "value": first}, {"key": RANGE_END, "value": last},
                    {"key": TRIGGER_TAG, "value": TRIGGER}]
            params = {"selector": {"repositoryLocationName": location, "repositoryName": repository,
                                   "jobName": JOB}, "executionMetadata": {"tags": tags}, "runConfigData": {}}
            result = self.query(_LAUNCH, {"params": params})["launchRun"]
            if result["__typename"] != "LaunchRunSuccess":
                detail = result.get("message") or result.get("errors") or result["__typename"]
                raise DagsterUnavailable(f"Dagster refused the {JOB} run for {first}..{last}: {detail}")
            run_id = result["run"]["runId"]
            runs.append(LaunchedRun(run_id, first, last, count, f"{self.url}/runs/{run_id}"))
        return runs

    def report_selection(self, keys: Sequence[str], description: str) -> None:
        """Record on the instance that these movies' artwork selection changed outside a run."""
        self.report_materializations(SELECTION_ASSET, keys, description)

    def report_materializations(self, asset: str, keys: Sequence[str], description: str) -> None:
        """Record on the instance that this asset's partitions were made outside a run (the CLI, the review page),
        in one request, so Dagster's UI and ``metarr status`` agree on what is current (no Dagster: raises
        :class:`DagsterUnavailable`; the caller decides whether that matters)."""
        if not keys:
            return
        params = {"eventType": "ASSET_MATERIALIZATION", "assetKey": {"path": [asset]},
                  "partitionKeys": list(keys), "description": description[:500]}
        result = self.query(_REPORT, {"params": params})["reportRunlessAssetEvents"]
        if result["__typename"] != "ReportRunlessAssetEventsSuccess":
            raise DagsterUnavailable(f"Dagster refused the report of {len(keys)} {asset} partitions: "
                                     f"{result.get('message', '')[:300]}")

    def latest_materialization(self, asset: str, partition: str) -> dict[str, Any] | None:
        found = self.query(_LATEST, {"key": {"path": [asset]}, "partition": partition})["assetOrError"]
        events = found.get("assetMaterializations") or []
        return events[0] if events else None

    def run(self, run_id: str) -> dict[str, Any] | None:
        found = self.query(_RUN, {"id": run_id})["runOrError"]
        return found if found.get("__typename") == "Run" else None


def stretches(order: Sequence[str], wanted: Sequence[str]) -> list[tuple[str, str, int]]:
    """(first, last, count) of each maximal run of adjacent wanted keys in ``order``."""
    wanted_set = set(wanted)
    out: list[tuple[str, str, int]] = []
    start = None
    for i, key in enumerate([*order, None]):
        if key is not None and key in wanted_set:
            start = i if start is None else start
        elif start is not None:
            out.append((order[start], order[i - 1], i - start))
            start = None
    return out
