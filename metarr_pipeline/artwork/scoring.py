"""Artwork scores: a pure function over the whole batch frame, explainable part by part.

score (0–100) = Σ weight × part, every part in 0..1 (DOMAIN §4; weights from ``[scoring.weights]``):

- **resolution**: r = pixels / the type's ideal pixels. Below the ideal, √r (smooth, 0 at 0, 1 at 1); above it,
  1 / (1 + 0.05·log2 r), so an 8K poster is barely worse than a 4K one. Continuous at r = 1, bounded, no jumps.
- **aspect**: 1 within 2 % of the type's ideal ratio, falling linearly to 0 at 10 %.
- **language**: the ladder (preferred language, en, textless, other); fanart and keyart put textless first.
  Rung i of k scores ((k−1−i)/(k−1))²: convex, so the first rung is strongly preferred (a poster in the
  user's language beats an English one with more votes), and the last scores 0.
- **community**: TMDB: vote average / 10 × a confidence that saturates with the vote count (1 − e^(−votes/3));
  fanart.tv: likes saturating (1 − e^(−likes/5)).
- **provider**: the configured preference (TMDB 1.0, fanart.tv 0.9).

The per-type facts (ideal size, textless first) are ``art_types`` columns.

Ranking is a window per movie × type: score, then votes, then pixels, then the stable candidate id, so the same
input always gives the same order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from metarr_pipeline.art_types import ART_TYPES

PARTS = ("resolution", "aspect", "language", "community", "provider")
_IDEAL_WIDTH = {t.name: t.ideal_width for t in ART_TYPES}
_IDEAL_HEIGHT = {t.name: t.ideal_height for t in ART_TYPES}
_TEXTLESS_FIRST = frozenset(t.name for t in ART_TYPES if t.textless_first)
DEFAULT_LADDER = ("preferred", "en", "textless", "other")


def resolution_part(ratio: pl.Expr) -> pl.Expr:
    r = ratio.clip(lower_bound=0.0)
    return (
        pl.when(r <= 1.0)
        .then(r.sqrt())
        .otherwise(1.0 / (1.0 + 0.05 * r.log(2)))
    )


def aspect_part(deviation: pl.Expr) -> pl.Expr:
    return (1.0 - (deviation - 0.02) / 0.08).clip(0.0, 1.0)


def community_part(provider: pl.Expr, votes: pl.Expr, average: pl.Expr) -> pl.Expr:
    votes_f = votes.cast(pl.Float64).clip(lower_bound=0.0)
    tmdb = (average.fill_null(0.0).clip(0.0, 10.0) / 10.0) * (1.0 - (-votes_f / 3.0).exp())
    fanart = 1.0 - (-votes_f / 5.0).exp()
    return pl.when(provider == "fanart").then(fanart).otherwise(tmdb)


def ladder_for(kind: str, preferred: str, ladder: Sequence[str] = DEFAULT_LADDER) -> list[str]:
    """Concrete rungs for a type: 'preferred' resolved, duplicates removed, textless first when the type says so."""
    return _rungs(kind in _TEXTLESS_FIRST, preferred, ladder)


def _rungs(textless_first: bool, preferred: str, ladder: Sequence[str]) -> list[str]:
    rungs: list[str] = []
    for rung in ladder:
        value = preferred if rung == "preferred" else rung
        if value not in rungs:
            rungs.append(value)
    if textless_first and "textless" in rungs:
        rungs.remove("textless")
        rungs.insert(0, "textless")
    return rungs


def language_part(kind: pl.Expr, language: pl.Expr, preferred: str, ladder: Sequence[str]) -> pl.Expr:
    rung = pl.when(language == "").then(pl.lit("textless")).otherwise(language)
    exprs = []
    for textless_first in (True, False):
        rungs = _rungs(textless_first, preferred, ladder)
        k = len(rungs)
        mapping = {r: ((k - 1 - i) / (k - 1)) ** 2 for i, r in enumerate(rungs)} if k > 1 else {rungs[0]: 1.0}
        other = mapping.get("other", 0.0)
        exprs.append(rung.replace_strict(mapping, default=other, return_dtype=pl.Float64))
    return pl.when(kind.is_in(sorted(_TEXTLESS_FIRST))).then(exprs[0]).otherwise(exprs[1])


def score_candidates(
    frame: pl.DataFrame,
    weights: Mapping[str, float],
    provider_preference: Mapping[str, float],
    preferred_language: str,
    ladder: Sequence[str] = DEFAULT_LADDER,
) -> pl.DataFrame:
    """Add ``s_<part>`` (0..1), ``score`` (0..100) and ``rank`` (per movie × type). Pure: no I/O."""
    ideal_w = pl.col("type").replace_strict(_IDEAL_WIDTH, return_dtype=pl.Float64)
    ideal_h = pl.col("type").replace_strict(_IDEAL_HEIGHT, return_dtype=pl.Float64)
    width = pl.col("width").cast(pl.Float64)
    height = pl.col("height").cast(pl.Float64)
    scored = frame.with_columns(
        s_resolution=resolution_part((width * height) / (ideal_w * ideal_h)).fill_null(0.0),
        s_aspect=aspect_part(((width / height) / (ideal_w / ideal_h) - 1.0).abs()).fill_null(0.0),
        s_language=language_part(pl.col("type"), pl.col("language"), preferred_language, ladder),
        s_community=community_part(pl.col("provider"), pl.col("votes"), pl.col("vote_average")),
        s_provider=pl.col("provider").replace_strict(dict(provider_preference), default=0.0,
                                                     return_dtype=pl.Float64),
    )
    total = sum((pl.col(f"s_{p}") * float(weights.get(p, 0.0)) for p in PARTS), pl.lit(0.0))
    scored = scored.with_columns(score=total.round(4))
    return rank_candidates(scored)


def rank_candidates(scored: pl.DataFrame) -> pl.DataFrame:
    """Deterministic rank within movie × type: score, votes, pixels, then candidate id."""
    ordered = scored.with_columns(_pixels=(pl.col("width").cast(pl.Int64) * pl.col("height").cast(pl.Int64))).sort(
        ["movie_id", "type", "score", "votes", "_pixels", "candidate_id"],
        descending=[False, False, True, True, True, False],
        nulls_last=True,
    )
    return ordered.with_columns(
        rank=(pl.int_range(pl.len()).over(["movie_id", "type"]) + 1).cast(pl.Int32)
    ).drop("_pixels")
