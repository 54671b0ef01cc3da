"""Scoring curves, the language ladder, deterministic ranking, and the selection rules."""

from __future__ import annotations

import itertools

import polars as pl
import pytest

from metarr_pipeline.artwork.actors import select_actors
from metarr_pipeline.artwork.scoring import aspect_part, community_part, ladder_for, resolution_part, score_candidates
from metarr_pipeline.artwork.selection import UserChoices, select

WEIGHTS = {"resolution": 30.0, "aspect": 20.0, "language": 20.0, "community": 20.0, "provider": 10.0}
PREF = {"tmdb": 1.0, "fanart": 0.9}


def curve(expr_fn, xs: list[float]) -> list[float]:
    return pl.DataFrame({"x": xs}).select(y=expr_fn(pl.col("x")))["y"].to_list()


GRID = [i / 100 for i in range(0, 1601)]  # 0 .. 16, step 0.01


def test_resolution_curve_is_bounded_peaks_at_one_and_has_no_jumps() -> None:
    ys = curve(resolution_part, GRID)
    assert all(0.0 <= y <= 1.0 for y in ys)
    assert ys[100] == pytest.approx(1.0)  # r = 1
    below, above = ys[:101], ys[100:]
    assert all(a <= b for a, b in itertools.pairwise(below))  # rises up to the ideal
    assert all(a >= b for a, b in itertools.pairwise(above))  # then falls, slowly
    assert max(abs(a - b) for a, b in itertools.pairwise(ys[1:])) < 0.05  # no jumps (away from r=0)
    assert ys[400] > 0.9 and ys[1600] > 0.8  # 4× and 16× the ideal are only mildly worse


@pytest.mark.parametrize(("deviation", "expected"), [(0.0, 1.0), (0.02, 1.0), (0.06, 0.5), (0.10, 0.0), (0.5, 0.0)])
def test_aspect_curve(deviation: float, expected: float) -> None:
    assert curve(aspect_part, [deviation])[0] == pytest.approx(expected)


def test_aspect_curve_is_monotone_and_continuous() -> None:
    ys = curve(aspect_part, [i / 1000 for i in range(0, 200)])
    assert all(a >= b for a, b in itertools.pairwise(ys))
    assert max(abs(a - b) for a, b in itertools.pairwise(ys)) <= 0.0126


def test_community_saturates_and_is_monotone() -> None:
    votes = list(range(0, 60))
    frame = pl.DataFrame({"p": ["tmdb"] * 60, "v": votes, "a": [8.0] * 60})
    tmdb = frame.select(y=community_part(pl.col("p"), pl.col("v"), pl.col("a")))["y"].to_list()
    assert tmdb[0] == 0.0 and all(a <= b for a, b in itertools.pairwise(tmdb)) and tmdb[-1] <= 0.8
    fan = pl.DataFrame({"p": ["fanart"] * 60, "v": votes, "a": [None] * 60}, schema={"p": pl.String, "v": pl.Int64, "a": pl.Float64})
    likes = fan.select(y=community_part(pl.col("p"), pl.col("v"), pl.col("a")))["y"].to_list()
    assert all(a <= b for a, b in itertools.pairwise(likes)) and 0.99 < likes[-1] <= 1.0


@pytest.mark.parametrize(
    ("kind", "preferred", "ladder"),
    [
        ("poster", "de", ["de", "en", "textless", "other"]),
        ("poster", "en", ["en", "textless", "other"]),
        ("fanart", "de", ["textless", "de", "en", "other"]),
        ("keyart", "fr", ["textless", "fr", "en", "other"]),
        ("clearlogo", "fr", ["fr", "en", "textless", "other"]),
    ],
)
def test_language_ladder(kind: str, preferred: str, ladder: list[str]) -> None:
    assert ladder_for(kind, preferred) == ladder


def frame(rows: list[dict]) -> pl.DataFrame:
    base = {"movie_id": 1, "provider": "tmdb", "votes": 5, "vote_average": 6.0, "language": "en"}
    return pl.DataFrame([base | r for r in rows], schema={
        "movie_id": pl.Int64, "type": pl.String, "candidate_id": pl.String, "provider": pl.String,
        "language": pl.String, "width": pl.Int32, "height": pl.Int32, "votes": pl.Int64, "vote_average": pl.Float64})


def test_textless_fanart_beats_a_bigger_fanart_with_text() -> None:
    scored = score_candidates(frame([
        {"type": "fanart", "candidate_id": "text4k", "language": "en", "width": 3840, "height": 2160},
        {"type": "fanart", "candidate_id": "textless", "language": "", "width": 1920, "height": 1080},
    ]), WEIGHTS, PREF, "en")
    assert scored.sort("rank")["candidate_id"].to_list() == ["textless", "text4k"]


def test_preferred_language_wins_for_posters() -> None:
    scored = score_candidates(frame([
        {"type": "poster", "candidate_id": "en", "language": "en", "width": 2000, "height": 3000, "votes": 20},
        {"type": "poster", "candidate_id": "textless", "language": "", "width": 2000, "height": 3000},
        {"type": "poster", "candidate_id": "de", "language": "de", "width": 2000, "height": 3000, "votes": 1},
    ]), WEIGHTS, PREF, "de")
    # The user's language wins even against an English poster with many more votes.
    assert scored.sort("rank")["candidate_id"].to_list() == ["de", "en", "textless"]
    parts = {r["candidate_id"]: r["s_language"] for r in scored.iter_rows(named=True)}
    assert parts == pytest.approx({"de": 1.0, "en": 4 / 9, "textless": 1 / 9})


def test_ties_break_on_votes_then_pixels_then_id_and_order_is_stable() -> None:
    rows = [
        {"type": "poster", "candidate_id": "b", "width": 2000, "height": 3000, "vote_average": 0.0, "votes": 0},
        {"type": "poster", "candidate_id": "a", "width": 2000, "height": 3000, "vote_average": 0.0, "votes": 0},
        {"type": "poster", "candidate_id": "c", "width": 2000, "height": 3000, "vote_average": 0.0, "votes": 0},
    ]
    first = score_candidates(frame(rows), WEIGHTS, PREF, "en").sort("rank")["candidate_id"].to_list()
    again = score_candidates(frame(list(reversed(rows))), WEIGHTS, PREF, "en").sort("rank")["candidate_id"].to_list()
    assert first == again == ["a", "b", "c"]


def test_score_parts_are_stored_and_sum_to_the_score() -> None:
    scored = score_candidates(frame([{"type": "poster", "candidate_id": "x", "width": 1000, "height": 1500}]),
                              WEIGHTS, PREF, "en")
    row = scored.row(0, named=True)
    total = sum(row[f"s_{p}"] * w for p, w in WEIGHTS.items())
    assert row["score"] == pytest.approx(total, abs=1e-3) and 0 <= row["score"] <= 100


def ranked_with(rows: list[dict]) -> pl.DataFrame:
    scored = score_candidates(frame(rows), WEIGHTS, PREF, "en")
    n = scored.height
    hashes = {r["candidate_id"]: r.get("phash", i * 0xFFFF_0000_FFFF) for i, r in enumerate(rows)}
    return scored.with_columns(phash=pl.col("candidate_id").replace_strict(hashes, return_dtype=pl.UInt64),
                               analysis_error=pl.Series([""] * n))


POSTERS = [
    {"type": "poster", "candidate_id": "p1", "width": 2000, "height": 3000, "votes": 30, "phash": 0},
    {"type": "poster", "candidate_id": "p1dup", "width": 2000, "height": 3000, "votes": 29, "phash": 0b111},
    {"type": "poster", "candidate_id": "p2", "width": 2000, "height": 3000, "votes": 10, "phash": 0xFFFF},
    {"type": "poster", "candidate_id": "p3", "width": 1000, "height": 1500, "votes": 5, "phash": 0xFFFF_0000},
    {"type": "poster", "candidate_id": "wide", "width": 1920, "height": 1080, "votes": 50, "phash": 0xFF00FF00FF},
]


def test_selection_takes_top_n_non_duplicates_and_records_gates() -> None:
    out = select(ranked_with(POSTERS), {"poster": 2}, UserChoices(), threshold=4)
    by = {r["candidate_id"]: r for r in out.iter_rows(named=True)}
    assert by["p1"]["selected_rank"] == 1 and by["p2"]["selected_rank"] == 2
    assert by["p1dup"]["duplicate_of"] == "p1" and by["p1dup"]["gate"] == "duplicate of p1"
    assert by["p1dup"]["selected_rank"] is None and by["p3"]["selected_rank"] is None
    assert by["wide"]["gate"].startswith("wrong aspect ratio")


def test_zero_disables_a_type_and_all_duplicates_leave_one() -> None:
    rows = [{"type": "poster", "candidate_id": f"d{i}", "width": 2000, "height": 3000, "votes": 10 - i, "phash": i}
            for i in range(4)]
    assert select(ranked_with(rows), {"poster": 0}, UserChoices(), 4)["selected_rank"].drop_nulls().len() == 0
    out = select(ranked_with(rows), {"poster": 3}, UserChoices(), 4)
    assert out.filter(pl.col("selected_rank").is_not_null())["candidate_id"].to_list() == ["d0"]


def test_pick_reject_lock() -> None:
    ranked = ranked_with(POSTERS)
    picked = select(ranked, {"poster": 2}, UserChoices(picks={(1, "poster"): ["p3"]}), 4)
    assert picked.filter(pl.col("selected_rank") == 1)["candidate_id"].item() == "p3"
    rejected = select(ranked, {"poster": 1}, UserChoices(rejects=frozenset({(1, "poster", "p1")})), 4)
    assert rejected.filter(pl.col("selected_rank") == 1)["candidate_id"].item() == "p2"
    # The rejected picture cannot come back as its own duplicate.
    assert rejected.filter(pl.col("candidate_id") == "p1dup")["selected_rank"].item() is None
    locked = select(ranked, {"poster": 2}, UserChoices(locks=frozenset({(1, "poster")}),
                                                        previous={(1, "poster"): ["p3", "p2"]}), 4)
    assert locked.filter(pl.col("selected_rank").is_not_null()).sort("selected_rank")["candidate_id"].to_list() == ["p3", "p2"]


def test_actors_one_per_person_roles_joined_in_billing_order() -> None:
    cast = [
        {"id": 2, "name": "Laurence Fishburne", "character": "Morpheus", "order": 1, "profile_path": "/l.jpg"},
        {"id": 1, "name": "Keanu Reeves", "character": "Neo", "order": 0, "profile_path": "/k.jpg"},
        {"id": 1, "name": "Keanu Reeves", "character": "Thomas A. Anderson", "order": 7, "profile_path": "/k.jpg"},
        {"id": 3, "name": "../../x\x07", "character": "<b>Agent</b>", "order": 2, "profile_path": None},
        {"id": 4, "name": "", "character": "nobody", "order": 3},
    ]
    actors = select_actors(cast, 15)
    assert [(a.name, a.role) for a in actors] == [("Keanu Reeves", "Neo / Thomas A. Anderson"),
                                                 ("Laurence Fishburne", "Morpheus"), ("../../x", "<b>Agent</b>")]
    assert actors[2].profile_path == "" and [a.order for a in actors] == [0, 1, 2]
    assert len(select_actors(cast, 1)) == 1


def test_declared_size_is_corrected_by_the_measured_aspect() -> None:
    from metarr_pipeline.artwork.enrich.analyse import with_analysis

    candidates = pl.DataFrame({
        "preview_url": ["a", "b", "c"], "width": [2000, 1000, 0], "height": [3000, 1500, 0],
    }, schema={"preview_url": pl.String, "width": pl.Int32, "height": pl.Int32})
    analysis = pl.DataFrame({
        "preview_url": ["a", "b", "c"], "a_format": ["jpeg"] * 3, "a_width": [300, 300, 300],
        "a_height": [450, 169, 450], "phash": [1, 2, 3], "analysis_error": ["", "", ""],
    }, schema={"preview_url": pl.String, "a_format": pl.String, "a_width": pl.Int32, "a_height": pl.Int32,
               "phash": pl.UInt64, "analysis_error": pl.String})
    out = {r["preview_url"]: (r["width"], r["height"]) for r in with_analysis(candidates, analysis).iter_rows(named=True)}
    assert out["a"] == (2000, 3000)  # declared and measured agree
    assert out["b"] == (1000, 563)  # declared a poster, the picture is 16:9: trust the bytes
    assert out["c"] == (300, 450)  # nothing declared: the measured rendition
