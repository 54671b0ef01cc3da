"""What a sets' artwork run returns: per set, what was chosen (one image per type) or why it failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SetArt:
    """A set's winner of one type, with the score that chose it."""

    type: str
    provider: str
    candidate_id: str
    language: str
    width: int
    height: int
    score: float
    blob_sha: str | None


@dataclass(frozen=True)
class SetResult:
    partition_key: str
    collection_id: int
    title: str
    status: str  # enriched | unchanged | kept (a transient failure: the stored result stays) | failed
    error: str = ""
    chosen: tuple[SetArt, ...] = ()
    candidates: int = 0
    warnings: tuple[str, ...] = ()


@dataclass
class CollectionsReport:
    sets: list[SetResult] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    requests: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failures(self) -> list[SetResult]:
        return [s for s in self.sets if s.status == "failed"]

    def summary(self) -> dict[str, Any]:
        return {
            "sets": len(self.sets),
            **{status: sum(1 for s in self.sets if s.status == status)
               for status in ("enriched", "unchanged", "kept", "failed")},
            "candidates": sum(s.candidates for s in self.sets),
            "images": sum(len(s.chosen) for s in self.sets),
            **self.counters,
            "requests": self.requests.get("requests", 0),
            "seconds": round(self.seconds, 3),
        }
