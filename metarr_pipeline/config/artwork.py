"""Artwork settings: how many images of each type to keep, and the weights of the score that picks them.

The tables are merged over their defaults by the loader, so a user can change one entry; a key the pipeline
does not read (a mistyped type, part or provider) is an error with a suggestion, never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from metarr_pipeline.art_types import ART_TYPE_NAMES, default_counts
from metarr_pipeline.config.rules import between, known_names, not_negative

ARTWORK_TYPES = ART_TYPE_NAMES  # the one table of artwork types (art_types.py) names them


def _default_counts() -> dict[str, int]:
    return default_counts()


@dataclass(frozen=True)
class ArtworkSettings:
    # How many images of each type to keep; 0 disables the type.
    counts: dict[str, int] = field(default_factory=_default_counts)

    def __post_init__(self) -> None:
        known_names(self.counts, ARTWORK_TYPES, "counts", "artwork type")
        for kind, count in self.counts.items():
            not_negative(count, f"counts.{kind}")

    @property
    def enabled(self) -> set[str]:
        """The types asked for (a count above 0): the only ones whose candidates are collected."""
        return {kind for kind, count in self.counts.items() if count > 0}


def _default_weights() -> dict[str, float]:
    return {"resolution": 30.0, "aspect": 20.0, "language": 20.0, "community": 20.0, "provider": 10.0}


def _default_preference() -> dict[str, float]:
    return {"tmdb": 1.0, "fanart": 0.9}


# The named parts of an artwork score (artwork.scoring.PARTS; a test keeps the two equal) and the providers
# candidates come from: the only keys [scoring.weights] and [scoring.provider_preference] may have.
SCORE_PARTS = tuple(_default_weights())
PROVIDERS = tuple(_default_preference())


@dataclass(frozen=True)
class ScoringSettings:
    # score = Σ weight × part, each part in 0..1: the weights are the points a perfect part earns.
    weights: dict[str, float] = field(default_factory=_default_weights)
    # Provider preference on a 0..1 scale, multiplied by the provider weight.
    provider_preference: dict[str, float] = field(default_factory=_default_preference)

    def __post_init__(self) -> None:
        known_names(self.weights, SCORE_PARTS, "weights", "scoring part")
        for part, weight in self.weights.items():
            not_negative(weight, f"weights.{part}")  # a negative weight would rank the worst image first
        known_names(self.provider_preference, PROVIDERS, "provider_preference", "provider")
        for provider, preference in self.provider_preference.items():
            # The provider part of a score is this value, and every part is 0..1 (artwork.scoring): at 5, the
            # score leaves its 0..100 scale and preference alone outweighs resolution.
            between(preference, 0.0, 1.0, f"provider_preference.{provider}",
                    " (the provider part of a score is 0..1, multiplied by weights.provider)")
