"""Previews analysed beside the metadata fetch (``artwork.enrich.prefetch``), against the simulator over loopback.

The prefetch may change when a preview is analysed, never what an enrichment decides: the same candidates, scores
and winners as without it, each preview fetched once, nothing asked again on a warm or forced refetch, and a
failure a retry could change left for the enrichment, which retries it and faults the movie as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from metarr_pipeline.artwork.enrich import enrich_movies, prefetch, run
from metarr_pipeline.artwork.enrich.persist import ANALYSIS_ROWS
from metarr_pipeline.artwork.enrich.prefetch import fetch_with_previews
from metarr_pipeline.config import Settings
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.simulator import Faults, Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import KEYS, make_settings, seed_movies

MOVIES = [603, 949, 680, 550]
DECISIONS = ["movie_id", "type", "candidate_id", "rank", "score", "selected_rank", "blob_sha"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few movies' previews make several of the prefetch's batches (a library's fetch makes hundreds)."""
    monkeypatch.setattr(prefetch, "FLUSH", 10)


def previews_asked(sim: Simulator) -> list[str]:
    """Paths of the preview renditions the image hosts served (TMDB's w300, fanart.tv's /preview/)."""
    return [r.path for r in sim.requests()
            if (r.host == "tmdb_images" and "/w300/" in r.path) or (r.host == "fanart_assets" and "/preview/" in r.path)]


def library(tmp_path: Path, sim: Simulator, name: str, movies: list[int] = MOVIES) -> tuple[Settings, Store]:
    folder = tmp_path / name
    folder.mkdir()
    settings = make_settings(folder, sim)
    store = Store(settings.database_path)
    seed_movies(store, movies)
    return settings, store


def decisions(store: Store) -> pl.DataFrame:
    ids = [m.id for m in store.movies() if m.id is not None]
    return store.artwork_candidates(ids).select(DECISIONS).sort(["movie_id", "type", "candidate_id"])


def test_prefetched_previews_make_the_same_enrichment_and_each_is_fetched_once(
        tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch, "FLUSH", 40)  # several batches in flight at once, as in a large fetch
    plain_settings, plain = library(tmp_path, sim, "plain")
    with open_providers(plain_settings, KEYS) as session:
        fetch_metadata(plain_settings, plain, session)
        sim.clear_log()
        without = enrich_movies(plain_settings, plain, session)
    analysed_by_enrichment = sorted(previews_asked(sim))

    settings, store = library(tmp_path, sim, "prefetched")
    with open_providers(settings, KEYS) as session:
        sim.clear_log()
        report, previews = fetch_with_previews(settings, store, session)
        during_fetch = previews_asked(sim)
        sim.clear_log()
        enriched = enrich_movies(settings, store, session)
        during_enrichment = previews_asked(sim)

    assert report.summary()["fetched"] == len(MOVIES) and previews.error == ""
    assert report.seconds > previews.seconds_waited > 0  # the step's own time includes waiting for the previews
    assert previews.previews_analysed == len(during_fetch) > 40 and previews.previews_left == 0
    # every preview the enrichment needs, each once: most beside the fetch, what was still queued after it
    assert sorted(during_fetch + during_enrichment) == analysed_by_enrichment
    assert previews.previews_queued == len(during_enrichment) == enriched.counters["previews_analysed"]
    assert enriched.counters["previews_cached"] == len(during_fetch)
    assert decisions(store).equals(decisions(plain))  # the same candidates, scores and winners
    assert [(m.partition_key, m.status) for m in enriched.movies] == [(m.partition_key, m.status) for m in without.movies]


def test_a_batch_split_by_analysed_previews_decides_as_one_and_fetches_each_image_once(
        tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two movies' previews analysed before the enrichment, two not: their originals are fetched beside the other
    two's analysis (``run._split``), and the result is the unsplit enrichment's, request for request."""
    plain_settings, plain = library(tmp_path, sim, "plain")
    with open_providers(plain_settings, KEYS) as session:
        fetch_metadata(plain_settings, plain, session)
        sim.clear_log()
        enrich_movies(plain_settings, plain, session)
    asked_unsplit = sorted(r.path for r in sim.requests() if r.host in ("tmdb_images", "fanart_assets"))

    settings, store = library(tmp_path, sim, "split")
    ids = sorted(m.id for m in store.movies() if m.id is not None)
    analysed = plain.artwork_candidates(ids[:2]).get_column("preview_url").unique().to_list()
    rows = [{"preview_url": u, "format": f, "width": w, "height": h, "phash": ph, "error": e,
             "analysed_at": datetime(2026, 11, 1)} for u, (f, w, h, ph, e) in plain.image_analysis(analysed).items()]
    store.save_image_analysis(pl.DataFrame(rows, schema=ANALYSIS_ROWS, orient="row"))
    monkeypatch.setattr(run, "MIN_PART_MOVIES", 1)
    with open_providers(settings, KEYS) as session:
        fetch_metadata(settings, store, session)
        sim.clear_log()
        split = enrich_movies(settings, store, session)
    asked = sorted(r.path for r in sim.requests() if r.host in ("tmdb_images", "fanart_assets"))

    assert "originals_beside_analysis" in split.stage_seconds  # the split ran
    assert split.counters["previews_cached"] == len(rows) > 0
    assert len(asked) == len(set(asked)) and len(asked_unsplit) == len(set(asked_unsplit))  # every image once
    assert set(asked) < set(asked_unsplit) and len(asked_unsplit) - len(asked) == len(rows)
    assert decisions(store).equals(decisions(plain))


def test_cached_and_refetched_answers_ask_the_image_hosts_nothing(tmp_path: Path, sim: Simulator) -> None:
    settings, store = library(tmp_path, sim, "lib")
    with open_providers(settings, KEYS) as session:
        fetch_with_previews(settings, store, session)
        enrich_movies(settings, store, session)  # every preview analysed now
        sim.clear_log()
        cached, warm = fetch_with_previews(settings, store, session)  # answers from the cache: nothing new
        assert cached.summary()["cached"] == len(MOVIES)
        refetched, forced = fetch_with_previews(settings, store, session, force=True)  # new answers, same images
        assert refetched.summary()["fetched"] == len(MOVIES)
    assert previews_asked(sim) == [] and warm.previews_analysed == forced.previews_analysed == 0


def test_a_failure_a_retry_could_change_is_left_for_the_enrichment(tmp_path: Path) -> None:
    """fanart.tv's image host answering 500: its previews are not cached by the prefetch; the enrichment asks them
    again and, failing again, keeps the movies' last good result with the reason, as without a prefetch."""
    faults = {"fanart_assets": Faults(error_rate=1.0)}
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "c", faults=faults)) as sim:
        settings, store = library(tmp_path, sim, "lib", [603])
        settings = replace(settings, providers=replace(settings.providers, max_attempts=1))
        with open_providers(settings, KEYS) as session:
            _, previews = fetch_with_previews(settings, store, session)
            in_fetch = set(previews_asked(sim))
            sim.clear_log()
            enriched = enrich_movies(settings, store, session)
            in_enrichment = set(previews_asked(sim))
    fanart_in_fetch = {p for p in in_fetch if "/preview/" in p}
    tmdb_in_fetch = in_fetch - fanart_in_fetch
    assert previews.previews_left == len(fanart_in_fetch) > 0 and previews.previews_analysed == len(tmdb_in_fetch) > 0
    assert fanart_in_fetch <= in_enrichment  # asked again by the enrichment, not taken from a cache
    assert not tmdb_in_fetch & in_enrichment  # TMDB's were cached by the prefetch
    assert any("image analysis failed" in w for w in enriched.movies[0].warnings)


def test_a_prefetch_that_cannot_store_never_fails_the_fetch(
        tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, store = library(tmp_path, sim, "lib")

    def locked(*_: object, **__: object) -> None:
        raise OSError("state file locked by another process")

    monkeypatch.setattr(Store, "save_image_analysis", locked)
    with open_providers(settings, KEYS) as session:
        report, previews = fetch_with_previews(settings, store, session)
        sim.clear_log()
        monkeypatch.undo()
        enriched = enrich_movies(settings, store, session)
    assert report.summary()["fetched"] == len(MOVIES) and report.failures == []
    assert "state file locked" in previews.error and previews.previews_analysed == 0
    assert enriched.counters["previews_analysed"] == len(previews_asked(sim)) > 0  # the enrichment did them itself
    assert enriched.failures == []
