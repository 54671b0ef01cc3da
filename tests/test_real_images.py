"""What an image really is wins over what a provider says it is: its real size, its real format.

The simulator's catalog plants both lies on hand-written films (``simulator.artwork.plant_quirks``):
Schindler's List's best poster is declared 2000×3000 and served at 1000×1500; Se7en's best poster is a PNG
under a ``.jpg`` name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from metarr_pipeline.art_types import art_type
from metarr_pipeline.artwork.candidates import candidate_id
from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.artwork.review import size_cell
from metarr_pipeline.artwork.scoring import resolution_part
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from tests.test_enrich_stages import STAGES, batch_after, movie_id, prepared
from tests.test_providers import KEYS


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


def quirky_poster(sim: Simulator, tmdb_id: int, **wanted: object) -> str:
    """The candidate id of the planted poster."""
    movie = sim.catalog.movie(tmdb_id)
    assert movie is not None
    image = next(i for i in movie.images if i.kind == "poster" and all(getattr(i, k) == v for k, v in wanted.items()))
    return candidate_id("tmdb", f"https://image.tmdb.org/t/p/original{image.path}")


def test_a_poster_smaller_than_declared_is_scored_on_its_real_pixels(tmp_path: Path, sim: Simulator) -> None:
    liar = quirky_poster(sim, 424, served_size=(1000, 1500))
    settings, store = prepared(tmp_path, sim, [424])
    with batch_after(settings, store, *STAGES) as batch:
        pass
    (row,) = batch.selected.filter((pl.col("candidate_id") == liar) & (pl.col("type") == "poster")).to_dicts()
    assert (row["declared_width"], row["declared_height"]) == (2000, 3000)
    assert (row["width"], row["height"]) == (1000, 1500)  # scored on the real pixels
    poster = art_type("poster")
    real_part = pl.select(resolution_part(pl.lit(1000 * 1500 / (poster.ideal_width * poster.ideal_height)))).item()
    assert row["s_resolution"] == pytest.approx(real_part) and real_part < 1.0
    assert size_cell(row) == "1000x1500 (declared 2000x3000)"
    winner = batch.selected.filter((pl.col("type") == "poster") & (pl.col("selected_rank") == 1)).row(0, named=True)
    blob = batch.blob_info[winner["blob_sha"]]
    assert (blob["width"], blob["height"]) == (winner["width"], winner["height"])  # the winner's pixels are real
    assert winner["candidate_id"] != liar and winner["width"] * winner["height"] > 1000 * 1500
    stored = store.artwork_candidates([movie_id(store, "m-424")])
    assert stored.filter(pl.col("candidate_id") == liar)["width"].to_list()[0] == 1000
    with open_providers(settings, KEYS) as session:
        again = enrich_movies(settings, store, session)
    assert again.movies[0].status == "unchanged"  # the real size is remembered: no flip-flop, no download
    assert again.counters["originals_downloaded"] == 0


def test_a_png_served_as_jpg_is_not_downloaded_again(tmp_path: Path, sim: Simulator) -> None:
    misnamed = quirky_poster(sim, 807, served_format="PNG")
    settings, store = prepared(tmp_path, sim, [807])
    with open_providers(settings, KEYS) as session:
        first = enrich_movies(settings, store, session)
    stored = store.artwork_candidates([movie_id(store, "m-807")])
    chosen = stored.filter((pl.col("candidate_id") == misnamed) & pl.col("blob_sha").is_not_null())
    assert chosen.height and chosen["url"].str.ends_with(".jpg").all()
    assert store.blob_rows([chosen["blob_sha"][0]])[chosen["blob_sha"][0]]["ext"] == "png"  # stored as what it is
    assert first.counters["originals_downloaded"] > 0
    with open_providers(settings, KEYS) as session:
        again = enrich_movies(settings, store, session)
    assert again.counters["originals_downloaded"] == 0 and again.movies[0].status == "unchanged"
