"""The rating-source interface, the Kodi names ratings are written under, and TMDB's own source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from metarr_pipeline.config import RATING_NAMES

Rating = dict[str, Any]  # {"value": 8.2, "votes": 24000, "max": 10}; votes absent when the source has none


def rating(name: str, value: float, votes: int | None = None) -> Rating:
    """A rating under Kodi's ``name`` with that name's scale."""
    out: Rating = {"value": round(float(value), 1), "max": RATING_NAMES[name]}
    if votes:
        out["votes"] = int(votes)
    return out


@dataclass(frozen=True)
class RatingQuery:
    """One movie as the sources see it."""

    movie_id: int
    imdb_id: str  # "" when unknown: IMDb-keyed sources skip the movie
    fields: Mapping[str, Any]  # its merged metadata


@dataclass
class SourceAnswer:
    """What one source found for a batch: movie id → Kodi name → rating, plus notes for people."""

    ratings: dict[int, dict[str, Rating]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    requests: int = 0


class RatingSource(Protocol):
    name: str  # the config's name of the source (tmdb, imdb_dataset, omdb)

    def ratings(self, movies: Sequence[RatingQuery]) -> SourceAnswer: ...


class TmdbRatings:
    """TMDB's own vote: it comes with the movie's answer (``vote_average``, ``vote_count``), so no request."""

    name = "tmdb"

    def ratings(self, movies: Sequence[RatingQuery]) -> SourceAnswer:
        answer = SourceAnswer()
        for movie in movies:
            ours = (movie.fields.get("ratings") or {}).get("themoviedb")
            if isinstance(ours, Mapping) and isinstance(ours.get("value"), int | float):
                answer.ratings[movie.movie_id] = {"themoviedb": rating("themoviedb", ours["value"], ours.get("votes"))}
        return answer
