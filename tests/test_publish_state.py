"""Published vs outdated: decided on what changed, at sub-second resolution, against the loopback simulator."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

import metarr_pipeline.artwork.enrich.batch as enrich_batch
import metarr_pipeline.publish.publish as publish_module
from metarr_pipeline.artwork.choices import record
from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.orchestration import outdated_for_publish
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from tests.test_orchestration import enriched_seeded_library
from tests.test_providers import KEYS


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


def _published(tmp_path: Path, sim: Simulator):
    return enriched_seeded_library(tmp_path, sim, [603])


def test_refetching_identical_provider_data_leaves_the_movie_published(tmp_path: Path, sim: Simulator) -> None:
    settings, store, keys = _published(tmp_path, sim)
    assert not publish_movies(settings, store, None, keys).failures
    assert outdated_for_publish(store) == []
    before = store.enrichment_rows([m.id for m in store.movies()])
    served = len([r for r in sim.requests("tmdb_api") if r.kind == "movie"])
    with open_providers(settings, KEYS) as providers:
        report = fetch_metadata(settings, store, providers, keys, force=True)
        assert report.summary()["fetched"] == 1  # really asked TMDB again
        enriched = enrich_movies(settings, store, providers, keys)
    assert len([r for r in sim.requests("tmdb_api") if r.kind == "movie"]) == served + 1
    assert [r.status for r in enriched.movies] == ["unchanged"]
    assert not any(r.selection_changed for r in enriched.movies)
    assert store.enrichment_rows([m.id for m in store.movies()]) == before
    assert outdated_for_publish(store) == []  # a cache expiry is not a publish wave
    meta = store.movie_metadata()
    assert all(row.fetched_at is not None and row.fetched_at > row.merged_at for row in meta.values())


class _Clock(datetime):
    """``datetime`` whose ``now()`` is what the test says (the stages' default clock)."""

    at: datetime = datetime(2026, 11, 30, 12, 0, 0, 200_000)

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return cls.at


def test_an_enrichment_in_the_same_second_as_the_publish_counts_as_outdated(
        tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, store, keys = _published(tmp_path, sim)
    monkeypatch.setattr(publish_module, "datetime", _Clock)
    monkeypatch.setattr(enrich_batch, "datetime", _Clock)
    # After the real enrichment _published just did, whatever today's date: a fixed date would be in its past
    second = (datetime.now() + timedelta(days=1)).replace(microsecond=0)
    _Clock.at = second.replace(microsecond=200_000)
    assert not publish_movies(settings, store, None, keys).failures
    assert outdated_for_publish(store) == []
    frame = store.artwork_candidates([store.movies()[0].id])
    winner = frame.filter((frame["type"] == "poster") & frame["selected_rank"].is_not_null())
    record(store, keys[0], "poster", winner["candidate_id"][0], "reject")
    _Clock.at = second.replace(microsecond=700_000)  # half a second later, same second
    with open_providers(settings, KEYS) as providers:
        result = enrich_movies(settings, store, providers, keys)
    assert result.movies[0].selection_changed
    assert outdated_for_publish(store) == keys

