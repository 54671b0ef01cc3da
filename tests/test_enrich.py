"""Enrichment end to end against the simulator over loopback: dedup by name, selection, cache, actors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from metarr_pipeline.artwork.candidates import candidate_id
from metarr_pipeline.artwork.choices import ChoiceError, record
from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.simulator import Catalog, Faults, Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import KEYS, make_settings, seed_movies

DEMO_IDS = [603, 194, 101, 335984, 949, 27205, 146, 424, 807, 680, 129]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


def run(settings, store, keys=None):
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers, keys)
        return enrich_movies(settings, store, providers, keys)


def names(catalog: Catalog, tmdb_id: int) -> dict[str, tuple[str, str]]:
    """candidate id → (picture id, name) for every image of the movie, by the catalog's own names."""
    movie = catalog.movie(tmdb_id)
    out = {}
    for image in (*movie.images, *(movie.fanart or ())):
        if image.provider == "tmdb":
            cid = candidate_id("tmdb", f"https://image.tmdb.org/t/p/original{image.path}")
        else:
            cid = candidate_id("fanart", f"https://assets.fanart.tv{image.path}")
        out[cid] = (image.picture_id, image.path)
    return out


def root(by_id: dict[str, str | None], cid: str) -> str:
    while by_id.get(cid):
        cid = by_id[cid]  # type: ignore[assignment]
    return cid


def test_planted_duplicates_are_caught_by_name_and_no_distinct_image_is_merged(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    ids = [*DEMO_IDS, 1001, 1002, 1003, 1004, 1005, 1006, 1010, 1011, 1012]
    seed_movies(store, ids)
    report = run(settings, store)
    assert not report.failures, [m.error for m in report.failures]
    movie_ids = {m.tmdb_id: m.id for m in store.movies()}
    frame = store.artwork_candidates(list(movie_ids.values()))
    checked = 0
    for tmdb_id in ids:
        known = names(sim.catalog, tmdb_id)
        mine = frame.filter(pl.col("movie_id") == movie_ids[tmdb_id])
        for kind, group in mine.partition_by("type", as_dict=True).items():
            dup_of = dict(zip(group["candidate_id"], group["duplicate_of"], strict=True))
            # no distinct picture merged: every duplicate shows the same picture as what it duplicates
            for cid, original in dup_of.items():
                if original:
                    assert known[cid][0] == known[original][0], f"{tmdb_id} {kind}: {known[cid][1]} merged into distinct {known[original][1]}"
            # every planted pair present in this type ends up in one cluster
            for dup_path, orig_path, variant in sim.catalog.planted_duplicates(tmdb_id, fanart_assets_host="assets.fanart.tv"):
                dup = next((c for c, (_, n) in known.items() if dup_path.endswith(n)), None)
                orig = next((c for c, (_, n) in known.items() if orig_path.endswith(n)), None)
                if dup in dup_of and orig in dup_of and (dup_of[dup] or "") != "unreadable":
                    assert root(dup_of, dup) == root(dup_of, orig), f"{tmdb_id} {kind[0]}: planted {variant} {dup_path} ~ {orig_path} not caught"
                    checked += 1
    assert checked >= 40  # the catalog plants several per movie; make sure the test really looked at them


def test_selection_rules_on_real_candidates(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    seed_movies(store, [603, 680])
    report = run(settings, store)
    matrix = next(m for m in report.movies if m.partition_key == "m-603")
    chosen = {(c.type, c.rank): c for c in matrix.chosen}
    counts = settings.artwork.counts
    for kind, n in counts.items():
        got = [c for c in matrix.chosen if c.type == kind]
        assert len(got) <= n
    assert len([c for c in matrix.chosen if c.type == "poster"]) == 3
    frame = store.artwork_candidates([next(m.id for m in store.movies() if m.tmdb_id == 603)])
    fanart = frame.filter(pl.col("type") == "fanart").sort("rank")
    eligible = fanart.filter(pl.col("gate") == "")
    if eligible.filter(pl.col("language") == "").height:
        assert chosen[("fanart", 1)].language == ""  # textless fanart first whenever one is eligible
    posters = frame.filter((pl.col("type") == "poster") & (pl.col("gate") == ""))
    if posters.filter(pl.col("language") == "en").height:
        assert chosen[("poster", 1)].language == "en"  # the preferred language for posters
    # Selected originals are in the blob store, verified, content-addressed.
    blobs = [c for c in matrix.chosen if c.blob_sha]
    assert len(blobs) == len(matrix.chosen) > 0
    for c in blobs:
        path = settings.cache_dir / "blobs" / c.blob_sha[:2] / c.blob_sha[2:4] / f"{c.blob_sha}.{c.ext}"
        import hashlib
        assert hashlib.sha256(path.read_bytes()).hexdigest() == c.blob_sha
    # Large hostile cast: 15 actors, one per person, names kept as data.
    pulp = next(m for m in report.movies if m.partition_key == "m-680")
    assert pulp.actors == settings.actors.max_actors
    actors = store.movie_actors([next(m.id for m in store.movies() if m.tmdb_id == 680)])
    rows = next(iter(actors.values()))
    assert len({r.person_id for r in rows}) == len(rows) == 15


def test_enriching_twice_downloads_nothing_and_writes_nothing(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    seed_movies(store, [603, 949, 27205])
    first = run(settings, store)
    assert first.summary()["originals_downloaded"] > 0
    # the report says where the run's time went, stage by stage (the stages in order take no more than the run)
    in_order = ("collect", "analyse", "score", "originals", "wait_headshots", "persist")
    assert set(first.stage_seconds) == {*in_order, "headshots"}
    assert all(v >= 0 for v in first.stage_seconds.values())
    assert sum(first.stage_seconds[k] for k in in_order) <= first.seconds + 0.01
    assert first.stage_seconds["headshots"] > 0 and first.stage_seconds["originals"] > 0  # both downloaded
    ids = [m.id for m in store.movies()]
    before = (store.artwork_candidates(ids), store.enrichment_rows(ids), store.movie_actors(ids))
    sim.clear_log()
    second = run(settings, store)
    assert [r for r in sim.requests() if r.host in ("tmdb_images", "fanart_assets", "tmdb_api", "fanart_api")] == []
    s = second.summary()
    assert (s["originals_downloaded"], s["previews_analysed"], s["headshots_downloaded"], s["enriched"]) == (0, 0, 0, 0)
    assert s["unchanged"] == 3
    after = (store.artwork_candidates(ids), store.enrichment_rows(ids), store.movie_actors(ids))
    assert after[0].equals(before[0]) and after[1] == before[1] and after[2] == before[2]


def test_bad_images_are_failed_candidates_and_the_movie_still_enriches(tmp_path: Path) -> None:
    config = SimulatorConfig(image_cache_dir=tmp_path / "c", seed=3, faults={
        "tmdb_images": Faults(garbage_rate=0.25, truncate_rate=0.15), "fanart_assets": Faults(wrong_type_rate=0.3)})
    with Simulator(config) as sim:
        settings = make_settings(tmp_path, sim)
        settings = replace(settings, providers=replace(settings.providers, max_attempts=1))
        store = Store(settings.database_path)
        seed_movies(store, [603, 101])
        report = run(settings, store)
    assert not report.failures
    for movie in report.movies:
        assert movie.failed_candidates > 0 and movie.chosen
    frame = store.artwork_candidates([m.id for m in store.movies()])
    bad = frame.filter(pl.col("gate").str.starts_with("unreadable"))
    assert bad.height > 0 and bad.filter(pl.col("selected_rank").is_not_null()).height == 0
    assert any("HTML" in g or "not an image" in g or "truncated" in g for g in bad["gate"].to_list())


def test_zero_candidates_missing_headshots_and_a_headshot_404(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    no_images = next(i for i in range(1000, 9000) if {"no_images", "no_fanart"} <= sim.catalog.movie(i).traits)
    seed_movies(store, [no_images, 603])
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers)
    # Plant a cast member whose headshot path does not exist on the image host.
    key = ("tmdb_movie", "603:en")
    cached = store.provider_responses([key])[key]
    body = json.loads(cached.body)
    body["credits"]["cast"][0]["profile_path"] = "/does-not-exist.jpg"
    store.save_fetch([replace(cached, body=json.dumps(body))], [])
    with open_providers(settings, KEYS) as providers:
        report = enrich_movies(settings, store, providers)
    by = {m.partition_key: m for m in report.movies}
    assert by[f"m-{no_images}"].status == "enriched" and by[f"m-{no_images}"].candidates == 0
    assert by["m-603"].actors_without_headshot >= 1 and by["m-603"].chosen
    person = body["credits"]["cast"][0]["id"]
    row = store.people([person])[person]
    assert row.blob_sha is None and "404" in row.error


def test_pick_reject_lock_through_the_library_api(tmp_path: Path, sim: Simulator) -> None:
    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    seed_movies(store, [949])
    run(settings, store)
    movie = store.movie_by_partition("m-949")
    frame = store.artwork_candidates([movie.id]).filter(pl.col("type") == "poster")
    top = frame.filter(pl.col("selected_rank") == 1)["candidate_id"].item()
    other = frame.filter(pl.col("selected_rank").is_null() & (pl.col("gate") == ""))["candidate_id"][0]
    record(store, "m-949", "poster", other, "pick")
    record(store, "m-949", "fanart", None, "lock")
    with pytest.raises(ChoiceError, match="no poster candidate"):
        record(store, "m-949", "poster", "nope", "reject")
    report = run(settings, store)
    after = store.artwork_candidates([movie.id])
    assert after.filter((pl.col("type") == "poster") & (pl.col("selected_rank") == 1))["candidate_id"].item() == other
    assert report.movies[0].selection_changed
    record(store, "m-949", "poster", top, "reject")
    run(settings, store)
    after = store.artwork_candidates([movie.id])
    assert top not in after.filter(pl.col("selected_rank").is_not_null())["candidate_id"].to_list()


def test_dagster_enrich_job_shows_the_review_per_movie(tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_project.definitions import defs
    from dagster_project.resources import MetarrResource

    settings = make_settings(tmp_path, sim)
    store = Store(settings.database_path)
    keys = seed_movies(store, [603, 807])
    monkeypatch.setenv("TMDB_API_KEY", "x-key")
    monkeypatch.setenv("FANART_API_KEY", "y-key")
    job = defs.resolve_job_def("enrich_job")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("movies", keys)
        result = job.execute_in_process(
            instance=instance, partition_key="m-603",
            resources={"metarr": MetarrResource(config_path=str(settings.config_path))})
        assert result.success
        mats = {(m.asset_key.to_user_string(), m.partition): m.metadata
                for m in result.get_asset_materialization_events() for m in [m.materialization]}
    cached = mats[("cached_artwork", "m-603")]
    sheet = cached["contact_sheet"].value  # alt text: the tiles' labels (file name, candidate id)
    assert sheet.startswith("![chosen artwork: -") and "](data:image/jpeg;base64," in sheet
    assert "poster" in cached["chosen"].value
    review = mats[("artwork_selection", "m-603")]["review"].value
    assert "resolution" in review and "community" in review
    assert mats[("actor_thumbnails", "m-603")]["actors"].value > 0
