"""What a fetch run tells its caller: one outcome per movie, and the run's numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FetchOutcome:
    partition_key: str
    status: str  # fetched | cached | failed
    error: str = ""
    changed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class FetchReport:
    outcomes: tuple[FetchOutcome, ...]
    requests: dict[str, Any]
    cache_hits: int
    seconds: float
    auth_error: str = ""
    ratings: Any = None  # the ratings sources' RatingsReport (providers.ratings), None when none ran

    @property
    def failures(self) -> list[FetchOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def summary(self) -> dict[str, Any]:
        return {
            "movies": len(self.outcomes),
            "fetched": sum(1 for o in self.outcomes if o.status == "fetched"),
            "cached": sum(1 for o in self.outcomes if o.status == "cached"),
            "failed": len(self.failures),
            "metadata_changed": sum(1 for o in self.outcomes if o.changed),
            "requests": self.requests.get("requests", 0),
            "retries": self.requests.get("retries", 0),
            "rate_limited": self.requests.get("rate_limited", 0),
            "cache_hits": self.cache_hits,
            "seconds": round(self.seconds, 3),
        }


def request_counts(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fetcher's counters for this run only (the fetcher is shared by the whole process)."""
    counts: dict[str, Any] = {k: after[k] - before[k] for k in ("requests", "retries", "failures", "rate_limited",
                                                                "bytes")}
    counts["by_kind"] = {k: v - before["by_kind"].get(k, 0) for k, v in after["by_kind"].items()
                         if v - before["by_kind"].get(k, 0)}
    return counts
