"""Gates, duplicates and the pick: which candidates fill each type's slots (STYLE habit 2).

1. **Gates** (hard rules, each with a recorded reason): the small rendition did not decode; the user rejected
   it; the aspect ratio is far from the type's (≥ 10 % off); it is too small to use; its original failed to
   download or verify.
2. **Duplicates**: walking a movie × type in rank order, a candidate whose perceptual hash is within the
   threshold of an earlier one is a duplicate of it and never fills a slot. Every decodable candidate anchors,
   including rejected ones, so a rejected picture cannot sneak back as its own re-encode.
3. **Pick**: the user's picks come first; then a locked type keeps its previous selection, any other type
   takes the best-ranked eligible candidates, up to the type's count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from metarr_pipeline.art_types import art_type

MIN_WIDTH_FRACTION = 0.25  # of the type's ideal width


@dataclass(frozen=True)
class UserChoices:
    picks: Mapping[tuple[int, str], Sequence[str]] = field(default_factory=dict)  # (movie, type) → ids, in order
    rejects: frozenset[tuple[int, str, str]] = frozenset()  # (movie, type, candidate)
    locks: frozenset[tuple[int, str]] = frozenset()
    previous: Mapping[tuple[int, str], Sequence[str]] = field(default_factory=dict)  # selection before this run
    failed: Mapping[tuple[int, str, str], str] = field(default_factory=dict)  # originals that failed: reason


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def select(
    ranked: pl.DataFrame,
    counts: Mapping[str, int],
    choices: UserChoices,
    threshold: int,
) -> pl.DataFrame:
    """Add ``gate``, ``duplicate_of`` and ``selected_rank`` to a scored, ranked frame (same row order)."""
    gates: list[str] = []
    dups: list[str | None] = []
    selected: list[int | None] = []
    for (movie_id, kind), group in _groups(ranked):
        n = counts.get(kind, 0)
        kept: list[tuple[str, int]] = []  # (candidate_id, phash) anchors in rank order
        group_gates: dict[str, str] = {}
        group_dups: dict[str, str | None] = {}
        for row in group:
            cid = row["candidate_id"]
            gate = _gate(row, movie_id, kind, choices)
            dup = None
            if row["analysis_error"] == "" and row["phash"] is not None:
                dup = next((anchor for anchor, h in kept if hamming(h, row["phash"]) <= threshold), None)
                if dup is None:
                    kept.append((cid, row["phash"]))
                elif not gate:
                    gate = f"duplicate of {dup}"
            group_gates[cid] = gate
            group_dups[cid] = dup
        chosen = _choose(group, movie_id, kind, n, group_gates, choices)
        for row in group:
            cid = row["candidate_id"]
            gates.append(group_gates[cid])
            dups.append(group_dups[cid])
            selected.append(chosen.get(cid))
    return ranked.with_columns(
        gate=pl.Series(gates, dtype=pl.String),
        duplicate_of=pl.Series(dups, dtype=pl.String),
        selected_rank=pl.Series(selected, dtype=pl.Int32),
    )


def _groups(ranked: pl.DataFrame) -> list[tuple[tuple[int, str], list[dict]]]:
    """Rows grouped by movie × type, preserving the frame's order (which is rank order within a group)."""
    out: list[tuple[tuple[int, str], list[dict]]] = []
    index: dict[tuple[int, str], int] = {}
    for row in ranked.iter_rows(named=True):
        key = (row["movie_id"], row["type"])
        if key not in index:
            index[key] = len(out)
            out.append((key, []))
        out[index[key]][1].append(row)
    return out


def _gate(row: dict, movie_id: int, kind: str, choices: UserChoices) -> str:
    cid = row["candidate_id"]
    if row["analysis_error"]:
        return f"unreadable: {row['analysis_error']}"
    if (movie_id, kind, cid) in choices.rejects:
        return "rejected by the user"
    failed = choices.failed.get((movie_id, kind, cid))
    if failed:
        return f"original unusable: {failed}"
    if row["s_aspect"] == 0.0:
        return f"wrong aspect ratio for {kind} ({row['width']}x{row['height']})"
    if row["width"] is not None and row["width"] < art_type(kind).ideal_width * MIN_WIDTH_FRACTION:
        return f"too small ({row['width']}x{row['height']})"
    return ""


def _choose(group: list[dict], movie_id: int, kind: str, n: int, gates: Mapping[str, str],
            choices: UserChoices) -> dict[str, int]:
    if n <= 0:
        return {}
    present = {row["candidate_id"] for row in group}
    order: list[str] = []
    for cid in choices.picks.get((movie_id, kind), ()):
        if cid in present and cid not in order and not gates.get(cid, "").startswith("unreadable") \
                and (movie_id, kind, cid) not in choices.rejects:
            order.append(cid)
    if (movie_id, kind) in choices.locks and (movie_id, kind) in choices.previous:
        # Frozen: the previous selection stays (after any new pick), never refilled automatically.
        rest = [c for c in choices.previous[(movie_id, kind)]
                if c in present and (movie_id, kind, c) not in choices.rejects]
    else:
        rest = [row["candidate_id"] for row in group if not gates[row["candidate_id"]]]
    for cid in rest:
        if len(order) >= n:
            break
        if cid not in order:
            order.append(cid)
    return {c: i + 1 for i, c in enumerate(order[:n])}
