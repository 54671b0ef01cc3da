"""What an enrichment run returns: per movie, what was chosen and why; per batch, the counters.

Plain values built by the last stage (``persist``) and read by the CLI, the Dagster assets and the review
screen; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ChosenArt:
    type: str
    rank: int
    candidate_id: str
    provider: str
    language: str
    width: int
    height: int
    score: float
    parts: dict[str, float]
    blob_sha: str | None
    ext: str


@dataclass(frozen=True)
class MovieEnrichment:
    partition_key: str
    movie_id: int
    status: str  # enriched | unchanged | kept (a transient failure: the stored result stays) | failed
    error: str = ""
    chosen: tuple[ChosenArt, ...] = ()
    top: tuple[dict[str, Any], ...] = ()  # best candidates per type with their score parts
    duplicates: tuple[tuple[str, str, str], ...] = ()  # (type, candidate, duplicate of)
    failed_candidates: int = 0
    candidates: int = 0
    actors: int = 0
    actors_without_headshot: int = 0
    selection_changed: bool = False
    warnings: tuple[str, ...] = ()


@dataclass
class EnrichReport:
    movies: list[MovieEnrichment]
    counters: dict[str, int] = field(default_factory=dict)
    requests: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    image_processes: int = 0  # worker processes that did the image work (0: threads of this process)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # where the run's time went, stage by stage

    @property
    def failures(self) -> list[MovieEnrichment]:
        return [m for m in self.movies if m.status == "failed"]

    def summary(self) -> dict[str, Any]:
        return {
            "movies": len(self.movies),
            "enriched": sum(1 for m in self.movies if m.status == "enriched"),
            "unchanged": sum(1 for m in self.movies if m.status == "unchanged"),
            "kept": sum(1 for m in self.movies if m.status == "kept"),
            "failed": len(self.failures),
            "selection_changed": sum(1 for m in self.movies if m.selection_changed),
            **self.counters,
            "requests": self.requests.get("requests", 0),
            "seconds": round(self.seconds, 3),
        }
