"""What publishing came to, per movie and per batch: what the CLI prints, the asset reports and the log keeps.

A movie that fails is a result, never an exception out of the batch: :func:`record_failure` turns whatever
went wrong into the one line a person reads, so one bad folder never stops the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from metarr_pipeline.errors import MetarrError

log = logging.getLogger(__name__)


class PublishError(MetarrError):
    """One movie could not be published; nothing (or nothing more) was written for it."""


@dataclass
class MoviePublish:
    partition_key: str
    status: str  # published | failed | skipped
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    nfo_sha256: str = ""


@dataclass
class PublishReport:
    movies: list[MoviePublish]
    reclaimed_blobs: int = 0
    reclaimed_bytes: int = 0
    seconds: float = 0.0
    movie_sets: Any = None  # movie_sets.MovieSetsReport when [publish] movie_sets_folder is set

    @property
    def failures(self) -> list[MoviePublish]:
        return [m for m in self.movies if m.status == "failed"]

    def summary(self) -> dict[str, Any]:
        return {
            "movies": len(self.movies),
            "published": sum(1 for m in self.movies if m.status == "published"),
            "skipped": sum(1 for m in self.movies if m.status == "skipped"),
            "failed": len(self.failures),
            "files_written": sum(len(m.written) for m in self.movies),
            "files_unchanged": sum(len(m.unchanged) for m in self.movies),
            "files_removed": sum(len(m.removed) for m in self.movies),
            "warnings": sum(len(m.warnings) for m in self.movies),
            "reclaimed_blobs": self.reclaimed_blobs,
            "reclaimed_bytes": self.reclaimed_bytes,
            "seconds": round(self.seconds, 3),
        }


def record_failure(result: MoviePublish, exc: BaseException) -> None:
    """Mark the movie failed with a readable reason; an unexpected error also logs its traceback."""
    if isinstance(exc, PublishError):
        result.status, result.error = "failed", str(exc)
    elif isinstance(exc, MetarrError | OSError):
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
    else:  # one movie never stops the batch; the log keeps the traceback
        log.error("unexpected error publishing %s", result.partition_key, exc_info=exc)
        result.status, result.error = "failed", f"unexpected error: {type(exc).__name__}: {exc}"
