"""Enrichment and publish under injected faults, against the loopback simulator and a real demo library.

Two promises (issue 13.2 and 16.4): a fault of the transfer (5xx, timeouts, cut bodies, HTML error pages,
malformed JSON, 429s) is never remembered as a fact about an image, so a clean run after a faulty one gets
the clean run's result; and a refresh under faults never replaces a good result with a worse one: a movie a
fault touched keeps its last good selection, actors and blobs, publish keeps every file, and a clean re-run
restores the clean result.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from metarr_pipeline.artwork.enrich import EnrichReport, enrich_movies
from metarr_pipeline.config import Settings
from metarr_pipeline.errors import ProviderResponseError
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.scan.scan import scan_library
from metarr_pipeline.simulator import Faults, Simulator, SimulatorConfig
from metarr_pipeline.simulator.limits import FaultDice
from metarr_pipeline.simulator.settings import HOST_NAMES
from metarr_pipeline.store import Store
from tests.test_providers import KEYS, make_settings, seed_movies

FOLDERS = ("Heat (1995) {tmdb-949}", "Inception (2010) {tmdb-27205}", "Léon - The Professional (1994) [tmdbid-101]",
           "Se7en (1995) {tmdb-807}", "The Matrix (1999) {tmdb-603}", "千と千尋の神隠し (2001) {tmdb-129}")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


def every_fault(rate: float) -> dict[str, Faults]:
    """Every fault kind on every host. A 429 stalls its whole host for the Retry-After second, so it is
    injected at 1 %; a hang outlasts the client's timeout (see ``faulty``)."""
    kinds = Faults(error_rate=rate, hang_rate=rate, hang_seconds=1.0, rate_limit_rate=0.01, truncate_rate=rate,
                   garbage_rate=rate, wrong_type_rate=rate, malformed_json_rate=rate)
    return dict.fromkeys(HOST_NAMES, kinds)


def faulty(settings: Settings) -> Settings:
    """Short timeouts (hangs cost little) and two attempts, so faults get through to enrichment."""
    p = settings.providers
    return replace(settings, providers=replace(
        p, max_attempts=2, tmdb=replace(p.tmdb, timeout_seconds=0.5), fanart=replace(p.fanart, timeout_seconds=0.5)))


def refresh(settings: Settings, store: Store, *, force: bool = True) -> EnrichReport:
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers, force=force)
        return enrich_movies(settings, store, providers)


def publish(settings: Settings, store: Store) -> None:
    keys = [m.partition_key for m in store.movies(include_gone=False) if m.partition_key and m.tmdb_id]
    with open_providers(settings, KEYS) as providers:
        report = publish_movies(settings, store, providers, keys)
    assert not report.failures, [m.error for m in report.failures]


def by_key(store: Store) -> dict[str, list[tuple[str, int, str]]]:
    keys = {m.id: m.partition_key for m in store.movies()}
    return {keys[movie_id]: chosen for movie_id, chosen in selection(store).items()}


def test_every_fault_kind_then_a_clean_run_gets_the_clean_runs_selection(tmp_path: Path, sim: Simulator) -> None:
    """Nothing a fault did is remembered as a fact: no verdict of a faulty response is cached for good."""
    ids = [603, 949, 27205, 101]
    for name in ("clean", "faulty"):
        (tmp_path / name).mkdir()
    clean = make_settings(tmp_path / "clean", sim)
    clean_store = Store(clean.database_path)
    seed_movies(clean_store, ids)
    refresh(clean, clean_store, force=False)
    settings = make_settings(tmp_path / "faulty", sim)
    store = Store(settings.database_path)
    seed_movies(store, ids)
    sim.set_config(replace(sim.config, seed=7, faults=every_fault(0.3)))
    try:
        first = refresh(faulty(settings), store, force=False)
    finally:
        sim.set_config(replace(sim.config, faults={}))
    assert sum(m.failed_candidates for m in first.movies) > 0 or first.failures  # the faults got through
    assert by_key(store) != by_key(clean_store)
    again = refresh(settings, store, force=False)
    assert not again.failures and not [m for m in again.movies if m.warnings]
    assert by_key(store) == by_key(clean_store)


def selection(store: Store) -> dict[int, list[tuple[str, int, str]]]:
    frame = store.artwork_candidates([m.id for m in store.movies() if m.id is not None])
    out: dict[int, list[tuple[str, int, str]]] = {}
    for movie_id, kind, rank, cid in frame.drop_nulls("selected_rank").select(
            "movie_id", "type", "selected_rank", "candidate_id").sort("movie_id", "type", "selected_rank").iter_rows():
        out.setdefault(movie_id, []).append((kind, rank, cid))
    return out


def headshots(store: Store) -> dict[int, list[tuple[str, str | None]]]:
    actors = store.movie_actors([m.id for m in store.movies() if m.id is not None])
    return {movie_id: [(a.name, a.blob_sha) for a in rows] for movie_id, rows in actors.items()}


def files(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath, name)
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def clean_library(demo_library: Path, tmp_path: Path, sim: Simulator) -> tuple[Settings, Store, Path]:
    root = tmp_path / "library"
    for name in FOLDERS:
        shutil.copytree(demo_library / name, root / name)
    settings = make_settings(tmp_path, sim, root=root)
    store = Store(settings.database_path)
    with open_providers(settings, KEYS) as providers:
        scan_library(settings, store, resolver=providers.tmdb)
    refresh(settings, store, force=False)
    publish(settings, store)
    return settings, store, root


@pytest.mark.parametrize(("rate", "image_cache"), [(0.1, True), (0.1, False), (0.3, True), (0.3, False)],
                         ids=["10pc-cached", "10pc-cache-cleared", "30pc-cached", "30pc-cache-cleared"])
def test_a_refresh_under_faults_loses_nothing_and_a_clean_rerun_restores_the_clean_result(
        demo_library: Path, tmp_path: Path, sim: Simulator, rate: float, image_cache: bool) -> None:
    settings, store, root = clean_library(demo_library, tmp_path, sim)
    good = (selection(store), headshots(store), files(root))
    assert len(good[0]) == len(FOLDERS) and all(good[0].values())
    if not image_cache:
        shutil.rmtree(settings.cache_dir / "blobs")
    sim.set_config(replace(sim.config, seed=round(rate * 100) + image_cache, faults=every_fault(rate)))
    try:
        report = refresh(faulty(settings), store)
        publish(faulty(settings), store)
    finally:
        sim.set_config(replace(sim.config, faults={}))
    kept = [m for m in report.movies if m.status == "kept"]
    assert all(m.warnings[0].startswith("kept last good: ") for m in kept)
    assert {m.status for m in report.movies} <= {"kept", "unchanged"}  # no movie failed, none got worse
    if not image_cache:  # every original and headshot was fetched again under faults: some failed
        assert kept and any("original failed" in m.warnings[0] or "headshot" in m.warnings[0] for m in kept)
    assert selection(store) == good[0]
    assert headshots(store) == good[1]
    assert files(root) == good[2]  # publish removed and changed nothing
    again = refresh(settings, store)
    publish(settings, store)
    assert not [m for m in again.movies if m.status in ("kept", "failed")]
    assert (selection(store), headshots(store), files(root)) == good


def first_two(dice: FaultDice, faults: Faults) -> list[bool]:
    """Whether the host's first two answers will be malformed (a fresh seed; one request at a time)."""
    return [dice.roll(faults).malformed_json for _ in range(2)]


def test_a_malformed_answer_is_asked_again_then_fails_only_that_movie(tmp_path: Path, sim: Simulator) -> None:
    """A 200 whose JSON is cut short is asked again; one that stays malformed fails its movie, not the run."""
    half = Faults(malformed_json_rate=0.5)
    seed = next(s for s in range(1000, 1100) if first_two(FaultDice(s, "tmdb_api"), half) == [True, False])
    settings = make_settings(tmp_path, sim)
    settings = replace(settings, providers=replace(settings.providers, max_attempts=3))
    store = Store(settings.database_path)
    seed_movies(store, [603, 949])
    sim.set_config(replace(sim.config, seed=seed, faults={"tmdb_api": half}))
    try:
        sim.clear_log()
        with open_providers(settings, KEYS) as providers:
            first = fetch_metadata(settings, store, providers, ["m-603"])
        asked = [r for r in sim.requests() if r.host == "tmdb_api" and r.path == "/3/movie/603"]
        assert not first.failures and len(asked) == 2
        sim.set_config(replace(sim.config, faults={"tmdb_api": Faults(malformed_json_rate=1.0)}))
        sim.clear_log()
        with open_providers(settings, KEYS) as providers:
            second = fetch_metadata(settings, store, providers, force=True)
            enriched = enrich_movies(settings, store, providers)  # the run goes on
    finally:
        sim.set_config(replace(sim.config, faults={}))
    assert {f.partition_key for f in second.failures} == {"m-603", "m-949"}
    assert all("still malformed after 3 attempts" in f.error for f in second.failures)
    assert len([r for r in sim.requests() if r.host == "tmdb_api" and r.path == "/3/movie/603"]) == 3
    by_key = {m.partition_key: m for m in enriched.movies}
    assert by_key["m-603"].status == "enriched" and by_key["m-949"].status == "failed"  # 603 kept its old answer


def test_identification_requests_ask_a_malformed_answer_again(tmp_path: Path, sim: Simulator) -> None:
    """Search, /find, alternative titles and summaries (the scan's and manual identification's requests) ask a
    malformed 200 again like the movie request does, then raise ProviderResponseError (one movie's problem)."""
    settings = make_settings(tmp_path, sim)
    settings = replace(settings, providers=replace(settings.providers, max_attempts=3))
    sim.set_config(replace(sim.config, faults={"tmdb_api": Faults(malformed_json_rate=1.0)}))
    try:
        with open_providers(settings, KEYS) as providers:
            for path, ask in (("/3/search/movie", lambda: providers.tmdb.search("The Matrix", 1999)),
                              ("/3/find/tt0133093", lambda: providers.tmdb.find_by_imdb("tt0133093")),
                              ("/3/movie/603", lambda: providers.tmdb.other_titles(603)),
                              ("/3/movie/603", lambda: providers.tmdb.summary(603))):
                sim.clear_log()
                with pytest.raises(ProviderResponseError, match="still malformed after 3 attempts"):
                    ask()
                assert len([r for r in sim.requests() if r.host == "tmdb_api" and r.path == path]) == 3, path
    finally:
        sim.set_config(replace(sim.config, faults={}))
    with open_providers(settings, KEYS) as providers:  # and once the answers are whole again, all is well
        assert providers.tmdb.search("The Matrix", 1999).tmdb_id == 603
