"""Each enrichment stage on its own, through its public function, against the simulator over loopback.

A test prepares a real batch (a temporary DuckDB store with fetched provider data, the simulator's images),
runs the stages before the one under test, then checks what that stage added to the batch, asked of the
image hosts and wrote. The shared mechanisms the stages use (the blob download, TMDB's image base, the
fingerprints) are tested here too.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from metarr_pipeline.artwork.choices import record
from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.artwork.enrich.analyse import analyse_renditions
from metarr_pipeline.artwork.enrich.batch import Batch, ext_of, open_batch
from metarr_pipeline.artwork.enrich.collect import NO_METADATA, collect_candidates
from metarr_pipeline.artwork.enrich.headshots import HEADSHOT_SIZE, cache_headshots
from metarr_pipeline.artwork.enrich.originals import fetch_originals
from metarr_pipeline.artwork.enrich.persist import ANALYSIS_ROWS, persist_changes
from metarr_pipeline.artwork.enrich.rank import score_and_select
from metarr_pipeline.blobs import BlobStore, ImageError, download_blob
from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.errors import DisallowedHostError
from metarr_pipeline.fingerprints import config_fingerprint, publish_fingerprint
from metarr_pipeline.providers.fetch import fetch_metadata, tmdb_key
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.simulator import Faults, Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import KEYS, make_settings, seed_movies

Stage = Callable[[Batch], None]
STAGES: tuple[Stage, ...] = (collect_candidates, analyse_renditions, score_and_select, fetch_originals,
                             cache_headshots, persist_changes)
IMAGE_HOSTS = ("tmdb_images", "fanart_assets")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


def prepared(tmp_path: Path, sim: Simulator, tmdb_ids: list[int], fetch: list[str] | None = None) -> tuple[Settings, Store]:
    """Settings, a store with the movies seeded and their provider data fetched (only ``fetch`` keys if given)."""
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    seed_movies(store, tmdb_ids)
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers, fetch)
    return settings, store


@contextmanager
def batch_after(settings: Settings, store: Store, *stages: Stage, download_originals: bool = True) -> Iterator[Batch]:
    """A batch of every present movie with ``stages`` run, its provider session open while the caller runs more."""
    with open_providers(settings, KEYS) as session:
        batch = open_batch(settings, store, session, None, download_originals=download_originals)
        for stage in stages:
            stage(batch)
        yield batch


def image_requests(sim: Simulator) -> list[str]:
    return [r.path for r in sim.requests() if r.host in IMAGE_HOSTS]


def winners(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("selected_rank").is_not_null())


def keys(frame: pl.DataFrame) -> set[tuple[int, str, str]]:
    return set(frame.select("movie_id", "type", "candidate_id").iter_rows())


def movie_id(store: Store, key: str) -> int:
    movie = store.movie_by_partition(key)
    assert movie is not None and movie.id is not None
    return movie.id


# --- 1. collect candidates ---------------------------------------------------------------------------------


def test_collect_reads_cached_responses_and_fails_movies_without_them(tmp_path: Path, sim: Simulator) -> None:
    settings, store = prepared(tmp_path, sim, [603, 949], fetch=["m-603"])
    sim.clear_log()
    with batch_after(settings, store, collect_candidates) as batch:
        pass
    matrix, heat = movie_id(store, "m-603"), movie_id(store, "m-949")
    assert batch.failed_movies == {heat: NO_METADATA}
    frame = batch.candidates
    assert frame.height == batch.counters["candidates"] > 0
    assert frame["movie_id"].unique().to_list() == [matrix]
    assert set(frame["type"]) <= {k for k, n in settings.artwork.counts.items() if n > 0}
    assert frame.select("movie_id", "type", "candidate_id").is_unique().all()
    assert batch.image_base == "https://image.tmdb.org/t/p"  # TMDB's canonical names, whatever the endpoint
    assert 0 < len(batch.cast[matrix]) <= settings.actors.max_actors and heat not in batch.cast
    assert sim.requests() == []  # reads only the cached answers
    sim.clear_log()
    with batch_after(settings, store, collect_candidates) as again:
        pass
    assert sim.requests() == [] and again.candidates.equals(frame)


def test_images_are_named_by_provider_and_fetched_from_the_configured_base(
        tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stored names are TMDB's canonical ones; METARR_TMDB_IMAGE_URL (not /configuration) says where the bytes
    come from, so another base (a proxy, another address) leaves the analysis cache and selection valid."""
    settings, store = prepared(tmp_path, sim, [603])
    sim.clear_log()
    with open_providers(settings, KEYS) as session:
        first = enrich_movies(settings, store, session)
    assert "configuration" not in {r.kind for r in sim.requests()}
    frame = store.artwork_candidates([movie_id(store, "m-603")])
    tmdb = frame.filter(pl.col("provider") == "tmdb")
    assert tmdb.height and tmdb["url"].str.starts_with("https://image.tmdb.org/t/p/original/").all()
    assert all(a["thumb_url"].startswith("https://image.tmdb.org/t/p/h632/")
               for a in store.movie_actors([movie_id(store, "m-603")])[movie_id(store, "m-603")] if a["thumb_url"])
    config = settings.config_path
    elsewhere = sim.tmdb_image_url.replace("127.0.0.1", "localhost")
    for base in (elsewhere, "http://127.0.0.1:9/t/p"):
        monkeypatch.setenv("METARR_TMDB_IMAGE_URL", base)
        moved = load_settings(config)
        assert moved.providers.tmdb.image_url == base
        shutil.rmtree(moved.cache_dir / "blobs")
        with open_providers(moved, KEYS) as session:
            report = enrich_movies(moved, store, session)
        (movie,) = report.movies
        assert report.counters["previews_analysed"] == 0  # the analysis cache is still valid
        if base == elsewhere:  # the originals came from the other base, nothing changed
            assert movie.status == "unchanged" and report.counters["originals_downloaded"] > 0
        else:  # nothing listens there: the originals failed, so the movie kept its last good result
            assert movie.status == "kept" and "http://127.0.0.1:9/t/p/" in movie.warnings[0]
    assert store.artwork_candidates([movie_id(store, "m-603")]).equals(frame)
    assert first.movies[0].chosen


# --- 2. analyse renditions ---------------------------------------------------------------------------------


def test_analyse_measures_each_preview_once_and_the_next_run_reads_the_cache(tmp_path: Path, sim: Simulator) -> None:
    settings, store = prepared(tmp_path, sim, [603])
    with batch_after(settings, store, collect_candidates) as batch:
        sim.clear_log()
        analyse_renditions(batch)
        previews = batch.candidates["preview_url"].n_unique()
        assert batch.counters["previews_analysed"] == len(batch.fresh_analysis) == previews > 0
        assert batch.counters["previews_cached"] == 0 and len(image_requests(sim)) == previews
        readable = batch.candidates.filter(pl.col("analysis_error") == "")
        assert readable.height > 0 and readable["phash"].null_count() == 0
        assert (readable["a_width"] > 0).all() and set(readable["a_format"]) <= {"jpeg", "png", "gif", "webp"}
        for stage in STAGES[2:]:
            stage(batch)
    sim.clear_log()
    with batch_after(settings, store, collect_candidates, analyse_renditions) as again:
        pass
    assert (again.counters["previews_cached"], again.counters["previews_analysed"]) == (previews, 0)
    assert again.fresh_analysis == [] and image_requests(sim) == []
    columns = ["candidate_id", "width", "height", "a_format", "phash", "analysis_error"]
    assert again.candidates.select(columns).sort("candidate_id").equals(batch.candidates.select(columns).sort("candidate_id"))


def test_analyse_caches_only_facts_and_retries_what_a_retry_could_change(tmp_path: Path) -> None:
    """An HTML error page and a 5xx are faults of the transfer, not of the image: recorded with the reason on
    this run's candidates, never cached, retried by the next run. A 404 is a fact: cached for good."""
    faults = {"tmdb_images": Faults(garbage_rate=1.0), "fanart_assets": Faults(error_rate=1.0)}
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "c", faults=faults)) as sim:
        settings, store = prepared(tmp_path, sim, [603])
        settings = replace(settings, providers=replace(settings.providers, max_attempts=1))
        dead = _plant_dead_link(store)
        with batch_after(settings, store, collect_candidates, analyse_renditions, *STAGES[2:]) as batch:
            pass
        tmdb = batch.candidates.filter((pl.col("provider") == "tmdb") & ~pl.col("url").str.contains(dead))
        fanart = batch.candidates.filter(pl.col("provider") == "fanart")
        assert tmdb.height and fanart.height
        assert all(e.startswith("not an image: looks like HTML") for e in tmdb["analysis_error"])
        assert all("HTTP 5" in e for e in fanart["analysis_error"])
        assert [r["error"][:31] for r in batch.fresh_analysis] == ["image host: not found (HTTP 404"]  # only the fact
        matrix = movie_id(store, "m-603")
        assert any(r.startswith("image analysis failed: not an image: looks like HTML") for r in batch.faults[matrix])
        sim.set_config(replace(sim.config, faults={}))
        with batch_after(settings, store, collect_candidates, analyse_renditions) as again:
            pass
    assert again.counters["previews_cached"] == 1
    assert again.counters["previews_analysed"] == tmdb["preview_url"].n_unique() + fanart["preview_url"].n_unique()
    assert again.faults == {}
    assert (again.candidates.filter(~pl.col("url").str.contains(dead))["analysis_error"] == "").all()


def _plant_dead_link(store: Store) -> str:
    """Point one TMDB poster of the stored answer at a file the image host does not have (a 404)."""
    key = ("tmdb_movie", tmdb_key(603, "en"))
    cached = store.provider_responses([key])[key]
    body = json.loads(cached.body or "{}")
    dead = "/deadlinkdeadlinkdeadlinkdead.jpg"
    body["images"]["posters"][-1]["file_path"] = dead
    store.save_fetch([replace(cached, body=json.dumps(body))], [])
    return dead


def test_a_stored_transient_verdict_from_an_older_run_is_retried(tmp_path: Path, sim: Simulator) -> None:
    settings, store = prepared(tmp_path, sim, [603])
    with batch_after(settings, store, *STAGES) as batch:
        pass
    preview = batch.candidates["preview_url"][0]
    stale = {"preview_url": preview, "format": "", "width": None, "height": None, "phash": None,
             "error": "not an image: looks like HTML", "analysed_at": datetime(2026, 1, 1)}
    store.save_enrichment(analysis=pl.DataFrame([stale], schema=ANALYSIS_ROWS, orient="row"), candidates=None,
                          movie_ids=[], actors=None, people=None, blobs=None, enrichment=None)
    sim.clear_log()
    with batch_after(settings, store, collect_candidates, analyse_renditions) as again:
        pass
    assert again.counters["previews_analysed"] == 1 and len(image_requests(sim)) == 1
    assert (again.candidates["analysis_error"] == "").all()


# --- 3. score and select -----------------------------------------------------------------------------------


def test_select_honours_counts_gates_and_the_users_rejects(tmp_path: Path, sim: Simulator) -> None:
    settings, store = prepared(tmp_path, sim, [603])
    with batch_after(settings, store, *STAGES):
        pass
    first = store.artwork_candidates([movie_id(store, "m-603")])
    top = first.filter((pl.col("type") == "poster") & (pl.col("selected_rank") == 1))["candidate_id"].item()
    record(store, "m-603", "poster", top, "reject")
    with batch_after(settings, store, collect_candidates, analyse_renditions, score_and_select) as batch:
        pass
    chosen = winners(batch.selected)
    for (kind,), group in chosen.group_by("type"):
        assert sorted(group["selected_rank"]) == list(range(1, group.height + 1))
        assert group.height <= settings.artwork.counts[str(kind)] and (group["gate"] == "").all()
    assert chosen.filter(pl.col("type") == "poster").height == settings.artwork.counts["poster"]
    rejected = batch.selected.filter((pl.col("type") == "poster") & (pl.col("candidate_id") == top))
    assert rejected["gate"].item() == "rejected by the user" and rejected["selected_rank"].item() is None
    # What the first run cached is known before anything is fetched.
    assert batch.previous_blobs and all(batch.blobs.has(sha, ext) for sha, ext in batch.previous_blobs.values())
    assert set(batch.blob_info) == {sha for sha, _ in batch.previous_blobs.values()}


# --- 4. fetch and verify originals -------------------------------------------------------------------------


def test_originals_are_verified_into_the_blob_store_and_reused_next_run(tmp_path: Path, sim: Simulator) -> None:
    settings, store = prepared(tmp_path, sim, [603])
    with batch_after(settings, store, *STAGES[:3]) as batch:
        sim.clear_log()
        fetch_originals(batch)
        chosen = winners(batch.selected)
        urls = chosen["url"].n_unique()
        assert chosen["blob_sha"].null_count() == 0
        assert batch.counters["originals_downloaded"] == len(batch.original_blobs) == urls == len(image_requests(sim))
        for row in batch.original_blobs:
            data = batch.blobs.path_for(row["sha256"], row["ext"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == row["sha256"] and len(data) == row["bytes"]
            assert row["width"] >= 32 and batch.blob_info[row["sha256"]] == row
        for stage in STAGES[4:]:
            stage(batch)
    sim.clear_log()
    with batch_after(settings, store, *STAGES[:4]) as again:
        pass
    assert (again.counters["originals_reused"], again.counters["originals_downloaded"]) == (urls, 0)
    assert image_requests(sim) == [] and winners(again.selected)["blob_sha"].equals(chosen["blob_sha"])


def test_an_unusable_original_is_gated_and_the_selection_rerun(tmp_path: Path) -> None:
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "c")) as sim:
        settings, store = prepared(tmp_path, sim, [603])
        with batch_after(settings, store, *STAGES[:3]) as batch:
            first = keys(winners(batch.selected))
            sim.set_config(replace(sim.config, faults={host: Faults(garbage_rate=1.0) for host in IMAGE_HOSTS}))
            fetch_originals(batch)
    failed = batch.failed_originals
    assert first <= set(failed) and len(failed) > len(first)  # the replacements were tried (and failed) too
    assert all(reason.startswith("not an image: looks like HTML") for reason in failed.values())
    last = winners(batch.selected)
    assert keys(last) <= set(failed) and keys(last).isdisjoint(first)  # at most three rounds, each gating the last
    gated = batch.selected.filter(pl.struct("movie_id", "type", "candidate_id").is_in(
        [{"movie_id": m, "type": t, "candidate_id": c} for m, t, c in first]))
    assert all(g.startswith("original unusable: not an image") for g in gated["gate"])
    assert last["blob_sha"].null_count() == last.height and batch.counters["originals_downloaded"] == 0
    assert not (settings.cache_dir / "blobs").exists() or not any((settings.cache_dir / "blobs").rglob("*.*"))


def test_download_blob_refuses_hosts_outside_the_allowlist_and_images_that_do_not_verify(tmp_path: Path) -> None:
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "c")) as sim:
        settings = make_settings(tmp_path, sim)
        blobs = BlobStore(settings.cache_dir)
        image = next(i for i in sim.catalog.movie(603).images if i.provider == "tmdb")
        url = f"{sim.tmdb_image_url}/original{image.path}"
        with open_providers(settings, KEYS) as session:
            row = download_blob(session, settings, blobs, url, "original", datetime(2026, 1, 1))
            assert row["source_url"] == url and blobs.present(row["sha256"], row["ext"], row["bytes"])
            assert blobs.read_verified(row["sha256"], row["ext"]) is not None
            with pytest.raises(DisallowedHostError):
                download_blob(session, settings, blobs, "https://images.example.net/x.jpg", "original", datetime.now())
            sim.set_config(replace(sim.config, faults={"tmdb_images": Faults(garbage_rate=1.0)}))
            other = next(i for i in sim.catalog.movie(949).images if i.provider == "tmdb")
            with pytest.raises(ImageError, match="looks like HTML"):
                download_blob(session, settings, blobs, f"{sim.tmdb_image_url}/original{other.path}", "original", datetime.now())
    assert [p.name for p in (settings.cache_dir / "blobs").rglob("*.*")] == [f"{row['sha256']}.{row['ext']}"]


# --- 5. cache headshots ------------------------------------------------------------------------------------


def test_headshots_are_fetched_once_per_person_and_kept_next_run(tmp_path: Path, sim: Simulator) -> None:
    settings, store = prepared(tmp_path, sim, [603, 680])
    # Plant a person in both movies: their headshot is one download, one people row.
    key603, key680 = ("tmdb_movie", "603:en"), ("tmdb_movie", "680:en")
    cached = store.provider_responses([key603, key680])
    shared = json.loads(cached[key603].body)["credits"]["cast"][0]
    pulp = json.loads(cached[key680].body)
    pulp["credits"]["cast"].insert(0, {**shared, "order": -1})
    store.save_fetch([replace(cached[key680], body=json.dumps(pulp))], [])
    with batch_after(settings, store, collect_candidates) as batch:
        sim.clear_log()
        cache_headshots(batch)
    persons = {a.person_id: a for actors in batch.cast.values() for a in actors}
    assert shared["id"] in {a.person_id for a in batch.cast[movie_id(store, "m-680")]}
    assert set(batch.people) == set(persons) and sum(map(len, batch.cast.values())) > len(persons)
    with_photo = {pid for pid, a in persons.items() if a.profile_path}
    assert batch.counters["headshots_downloaded"] == len(batch.headshot_blobs) == len(with_photo) > 0
    assert len(image_requests(sim)) == len(with_photo)
    for pid, row in batch.people.items():
        assert row["_changed"]
        if pid in with_photo:
            assert row["thumb_url"] == f"https://image.tmdb.org/t/p/{HEADSHOT_SIZE}{persons[pid].profile_path}"
            assert batch.blobs.has(row["blob_sha"], ext_of(row["thumb_url"]))
        else:
            assert (row["blob_sha"], row["error"]) == (None, "no headshot on TMDB")
    with open_providers(settings, KEYS) as session:
        enrich_movies(settings, store, session)
    sim.clear_log()
    with batch_after(settings, store, collect_candidates, cache_headshots) as again:
        pass
    assert (again.counters["headshots_downloaded"], again.counters["headshots_reused"]) == (0, len(with_photo))
    assert image_requests(sim) == [] and not any(r["_changed"] for r in again.people.values())


def test_a_failed_headshot_never_replaces_the_good_reference_and_is_retried(tmp_path: Path) -> None:
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "c")) as sim:
        settings, store = prepared(tmp_path, sim, [603])
        with open_providers(settings, KEYS) as session:
            enrich_movies(settings, store, session)
        matrix = movie_id(store, "m-603")
        good = store.movie_actors([matrix])[matrix]
        assert sum(1 for a in good if a["blob_sha"]) > 1
        shutil.rmtree(settings.cache_dir / "blobs")  # every headshot must be fetched again
        sim.set_config(replace(sim.config, faults={"tmdb_images": Faults(garbage_rate=1.0)}))
        with open_providers(settings, KEYS) as session:
            report = enrich_movies(settings, store, session)
        assert report.movies[0].status == "kept" and "headshot unavailable" in report.movies[0].warnings[0]
        assert store.movie_actors([matrix])[matrix] == good  # the good references stay
        sim.set_config(replace(sim.config, faults={}))
        sim.clear_log()
        with open_providers(settings, KEYS) as session:
            again = enrich_movies(settings, store, session)
    assert again.counters["headshots_downloaded"] == sum(1 for a in good if a["blob_sha"])  # retried
    assert store.movie_actors([matrix])[matrix] == good and again.movies[0].status == "unchanged"


# --- 6. persist changes ------------------------------------------------------------------------------------


def test_persist_writes_changed_movies_and_a_second_run_writes_nothing(tmp_path: Path, sim: Simulator) -> None:
    settings, store = prepared(tmp_path, sim, [603, 949], fetch=["m-603"])
    with batch_after(settings, store, *STAGES[:5]) as batch:
        persist_changes(batch)
    by = {r.partition_key: r for r in batch.results}
    assert (by["m-949"].status, by["m-949"].error) == ("failed", NO_METADATA)
    matrix = movie_id(store, "m-603")
    assert by["m-603"].status == "enriched" and by["m-603"].selection_changed and by["m-603"].chosen
    assert store.enrichment_rows([matrix])[matrix]["config_fingerprint"] == config_fingerprint(settings)
    stored = store.artwork_candidates([matrix])
    assert stored.height == batch.selected.filter(pl.col("movie_id") == matrix).height
    assert keys(winners(stored)) == keys(winners(batch.selected))
    assert len(next(iter(store.movie_actors([matrix]).values()))) == len(batch.cast[matrix])
    before = (stored, store.enrichment_rows([matrix]), store.movie_actors([matrix]))
    with batch_after(settings, store, *STAGES) as again:
        pass
    assert [(r.partition_key, r.status, r.selection_changed) for r in again.results] == [
        ("m-603", "unchanged", False), ("m-949", "failed", False)]
    after = (store.artwork_candidates([matrix]), store.enrichment_rows([matrix]), store.movie_actors([matrix]))
    assert after[0].equals(before[0]) and after[1:] == before[1:]


def test_an_offline_rescore_defers_originals_and_the_next_run_attaches_them(tmp_path: Path, sim: Simulator) -> None:
    settings, store = prepared(tmp_path, sim, [949])
    sim.clear_log()
    with batch_after(settings, store, *STAGES, download_originals=False) as offline:
        pass
    heat = movie_id(store, "m-949")
    deferred = offline.counters["originals_deferred"]
    assert deferred == winners(offline.selected)["url"].n_unique() > 0 and offline.counters["originals_downloaded"] == 0
    assert [r.kind for r in sim.requests() if r.host in IMAGE_HOSTS and "/original/" in r.path] == []
    stored = winners(store.artwork_candidates([heat]))
    assert stored["blob_sha"].null_count() == stored.height  # deferred counts URLs; a URL can win two types
    enriched = store.enrichment_rows([heat])
    with batch_after(settings, store, *STAGES) as online:
        pass
    assert online.results[0].status == "unchanged" and online.counters["originals_downloaded"] == deferred
    stored = winners(store.artwork_candidates([heat])).sort(["type", "selected_rank"])
    assert stored["blob_sha"].null_count() == 0
    assert stored["blob_sha"].equals(winners(online.selected).sort(["type", "selected_rank"])["blob_sha"])
    assert store.enrichment_rows([heat]) == enriched  # attaching a blob is not a new result


# --- fingerprints --------------------------------------------------------------------------------------------


def test_each_fingerprint_follows_only_the_settings_of_its_stage(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    weights = replace(settings, scoring=replace(settings.scoring, weights={**settings.scoring.weights, "aspect": 5.0}))
    extrafanart = replace(settings, publish=replace(settings.publish, extrafanart=not settings.publish.extrafanart))
    assert config_fingerprint(settings) == config_fingerprint(make_settings(tmp_path, sim))
    assert config_fingerprint(weights) != config_fingerprint(settings)
    assert publish_fingerprint(weights) == publish_fingerprint(settings)
    assert publish_fingerprint(extrafanart) != publish_fingerprint(settings)
    assert config_fingerprint(extrafanart) == config_fingerprint(settings)
