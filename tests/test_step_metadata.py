"""Dagster tells each movie's own story: a movie's partition holds its numbers only (the batch's totals are the run's),
every movie of a run of any size gets its review (link, chosen table, contact sheet labelled with the real file
names), and a publish materialised from the asset page tells the players in that run."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import dagster as dg
import pytest

from bench.worker import _per_asset_metadata
from dagster_project.assets.artwork import enriched_artwork
from dagster_project.assets.enrich import provider_metadata
from dagster_project.assets.notify import player_notifications
from dagster_project.assets.scan import library_scan
from dagster_project.definitions import defs
from dagster_project.resources import MetarrResource
from dagster_project.run_tags import RANGE_END, RANGE_START, REVIEW_PAGE_URL
from metarr_pipeline.artwork.enrich import prefetch
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import make_settings, seed_movies

SMALL = """
[artwork.counts]
poster = 1
fanart = 2
clearlogo = 1
clearart = 0
discart = 0
banner = 0
landscape = 0
keyart = 0
[actors]
max_actors = 2
"""
FOLDERS = ("The Matrix (1999) {tmdb-603}", "Heat (1995) {tmdb-949}", "Se7en (1995) {tmdb-807}",
           "Pulp Fiction (1994) {tmdb-680}")
BATCH_TOTALS = {"movies", "fetched", "cached", "requests", "cache_hits", "failed_movies", "previews_analysed",
                "enriched", "kept_last_good", "originals_downloaded", "headshots_downloaded", "published",
                "files_written", "files_unchanged", "files_removed", "sent", "deferred", "enabled_players"}
"""Names of batch totals: none of them may show on a movie's partition."""
SHEET_TILE = re.compile(r"(-?[a-z]+\d*\.(?:jpg|png)) ([0-9a-f]{1,8})")
"""A tile's label in the sheet's alt text: the file name after the movie's base name (a disc folder's art has
none: ``poster.jpg``) and the candidate id."""


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


@pytest.fixture
def provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMDB_API_KEY", "k")
    monkeypatch.setenv("FANART_API_KEY", "k")


def _range(keys: list[str]) -> dict[str, str]:
    return {RANGE_START: keys[0], RANGE_END: keys[-1]}


def _by_partition(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, dict]:
    return {e.materialization.partition: e.materialization.metadata
            for e in (ev.event_specific_data for ev in result.get_asset_materialization_events())
            if e.materialization.asset_key == dg.AssetKey(asset)}


def _run_totals(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (obs,) = [e.event_specific_data.asset_observation for e in result.get_asset_observation_events()
              if e.event_specific_data.asset_observation.asset_key == dg.AssetKey(asset)]
    assert obs.partition is None  # the run's, never a movie's
    return obs.metadata


def test_each_movie_of_a_run_shows_its_own_numbers_review_and_contact_sheet_named_as_published(
        demo_library: Path, tmp_path: Path, sim: Simulator, provider_env: None, monkeypatch: pytest.MonkeyPatch,
        dagster_instance: dg.DagsterInstance) -> None:
    """Scan, enrich and publish four movies through Dagster (the publish as the asset page launches it)."""
    root = tmp_path / "library"
    for name in FOLDERS:
        shutil.copytree(demo_library / name, root / name)
    settings = make_settings(tmp_path, sim, root=root, extra=SMALL)
    resources = {"metarr": MetarrResource(config_path=str(settings.config_path))}
    instance = dagster_instance
    assert dg.materialize([library_scan], instance=instance, resources=resources).success
    keys = instance.get_dynamic_partitions("movies")
    assert len(keys) == 4
    monkeypatch.setattr(prefetch, "FLUSH", 10)  # four movies' previews make several of the prefetch's batches
    enrich = defs.resolve_job_def("enrich_job").execute_in_process(instance=instance, tags=_range(keys),
                                                                  resources=resources)
    assert enrich.success
    # provider_metadata analyses previews beside its fetch; the enrichment finds them cached and asks the rest
    fetch_totals, candidate_totals = _run_totals(enrich, "provider_metadata"), _run_totals(enrich, "artwork_candidates")
    prefetched = fetch_totals["previews_analysed"].value
    assert prefetched > 0 and "seconds_waiting_for_previews" in fetch_totals
    assert candidate_totals["previews_cached"].value == prefetched
    assert candidate_totals["previews_analysed"].value == fetch_totals["previews_left_for_enrichment"].value
    store = Store(settings.database_path)
    movies = {m.partition_key: m for m in store.movies()}
    candidates = store.artwork_candidates([m.id for m in movies.values()])

    # artwork_candidates: each movie's own count; the total is the run's, once.
    counted = _by_partition(enrich, "artwork_candidates")
    assert set(counted) == set(keys)
    for key, meta in counted.items():
        own = candidates.filter(candidates["movie_id"] == movies[key].id).height
        assert meta["candidates"].value == own and not BATCH_TOTALS & set(meta)
    totals = _run_totals(enrich, "artwork_candidates")
    assert totals["candidates"].value == candidates.height and totals["movies"].value == 4
    for asset in ("provider_metadata", "artwork_selection", "cached_artwork", "actor_thumbnails"):
        per_movie = _by_partition(enrich, asset)
        assert set(per_movie) == set(keys), asset
        assert all(not BATCH_TOTALS & set(meta) for meta in per_movie.values()), asset
        assert _run_totals(enrich, asset)  # and the run has them
    assert _per_asset_metadata(enrich)["provider_metadata"]["movies"] == 4  # the benchmark reads the run's totals

    # Every movie's review: its link, its chosen art with scores, a contact sheet labelled with file + candidate.
    chosen = candidates.filter(candidates["selected_rank"].is_not_null())
    sheets = {}
    for key, meta in _by_partition(enrich, "artwork_selection").items():
        assert meta["review_page"].value == f"{REVIEW_PAGE_URL}/key/{key}"
        poster = chosen.filter((chosen["movie_id"] == movies[key].id) & (chosen["type"] == "poster"))
        assert poster["candidate_id"][0] in meta["review"].value and "community" in meta["review"].value
    for key, meta in _by_partition(enrich, "cached_artwork").items():
        sheet = meta["contact_sheet"].value
        assert "](data:image/jpeg;base64," in sheet
        sheets[key] = SHEET_TILE.findall(sheet.split("](")[0])
        ids = chosen.filter(chosen["movie_id"] == movies[key].id)["candidate_id"].to_list()
        assert len(sheets[key]) == len(ids) and {cid for _, cid in sheets[key]} == {i[:8] for i in ids}

    # Publish every movie the way the asset page does: the asset job of published_library_files alone.
    monkeypatch.setenv("METARR_CONFIG", str(settings.config_path))  # the code location's resource reads it
    publish = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, tags=_range(keys), asset_selection=[dg.AssetKey("published_library_files")])
    assert publish.success
    for key, meta in _by_partition(publish, "published_library_files").items():
        folder = Path(movies[key].folder)
        files = os.listdir(folder)
        written = re.findall(r"^\| (.+?) \| written \|$", meta["changes"].value, re.M)
        assert meta["written"].value == len(written) > 0  # its own files, all in its own folder
        assert all((folder / name).is_file() for name in written), written
        assert not BATCH_TOTALS & set(meta) and meta["review_page"].value.endswith(f"/key/{key}")
        for name, _ in sheets[key]:  # each tile names a file that is really there
            assert (f"{movies[key].basename}{name}" if name.startswith("-") else name) in files, (name, files)
    assert _run_totals(publish, "published_library_files")["published"].value == 4


def test_partition_metadata_of_a_large_run_is_attached_in_one_pass(dagster_instance: dg.DagsterInstance,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """150 movies of 1,000 partitions: every one gets its own metadata, and the partitions are listed from the
    instance a fixed number of times, not once per movie (Dagster's add_asset_metadata lists them every call)."""
    from dagster_project.step_metadata import FAST_PATH, PartitionMetadata, report_run_totals

    assert FAST_PATH  # the pinned Dagster still has the structure attach fills (else: the slow public call)
    movies = dg.DynamicPartitionsDefinition(name="movies")

    @dg.asset(partitions_def=movies, backfill_policy=dg.BackfillPolicy.single_run())
    def described(context) -> dg.MaterializeResult:  # unannotated: Dagster reads it, a string here
        per_movie = PartitionMetadata(context)
        for i, key in enumerate(context.partition_keys):
            per_movie.add(key, {"n": i, "key": key})
        per_movie.attach()
        report_run_totals(context, {"movies": len(context.partition_keys)})
        return dg.MaterializeResult()

    instance = dagster_instance
    keys = [f"movie-{i:04d}" for i in range(1000)]
    instance.add_dynamic_partitions("movies", keys)
    listed = []
    original = type(instance).get_dynamic_partitions
    monkeypatch.setattr(type(instance), "get_dynamic_partitions",
                        lambda self, partitions_def_name: listed.append(1) or original(self, partitions_def_name))
    result = dg.materialize([described], instance=instance, tags=_range(keys[100:250]))
    assert result.success
    per_movie = _by_partition(result, "described")
    assert len(per_movie) == 150
    assert all(meta["key"].value == key and set(meta) == {"n", "key"} for key, meta in per_movie.items())
    assert len(listed) < 10, len(listed)
    assert _run_totals(result, "described")["movies"].value == 150


def test_materialisations_of_other_partitions_are_written_in_batches(dagster_instance: dg.DagsterInstance,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan materialises each new movie's ``scanned_movie`` from inside its own step: 600 of them reach the
    event log, and with batching on (the PostgreSQL instance) in a few batched writes, not 600 single INSERTs
    (15 ms each: 2.5 minutes for a 10,000-movie first scan)."""
    from dagster_project.step_metadata import BATCHED_EVENTS, log_materializations

    assert BATCHED_EVENTS  # the pinned Dagster still has the batch tagging (else: one write per event)
    movies = dg.DynamicPartitionsDefinition(name="movies")
    seen = dg.AssetSpec("seen", partitions_def=movies)

    @dg.asset
    def walker(context) -> dg.MaterializeResult:  # unannotated: Dagster reads it, a string here
        log_materializations(context, [dg.AssetMaterialization("seen", partition=f"movie-{i:04d}",
                                                               metadata={"n": i}) for i in range(600)])
        return dg.MaterializeResult()

    instance = dagster_instance
    instance.add_dynamic_partitions("movies", [f"movie-{i:04d}" for i in range(600)])
    storage = type(instance.event_log_storage)
    single, batched = [], []
    original_one, original_batch = storage.store_event, storage.store_event_batch
    monkeypatch.setattr(storage, "store_event", lambda self, e: single.append(e) or original_one(self, e))
    monkeypatch.setattr(storage, "store_event_batch",
                        lambda self, es: batched.append(len(es)) or original_batch(self, es))
    assert dg.materialize([walker, seen], instance=instance, selection=["walker"]).success
    stored = instance.get_materialized_partitions(dg.AssetKey("seen"))
    assert len(stored) == 600
    seen_singly = sum(1 for e in single if e.dagster_event and e.dagster_event.is_step_materialization
                      and e.dagster_event.asset_key == dg.AssetKey("seen"))
    if os.environ.get("DAGSTER_EVENT_BATCH_SIZE"):  # batching on (the Makefile, the PostgreSQL fixture): batches
        assert sum(batched) >= 600 and len(batched) <= 3, batched
        if "Postgres" in storage.__name__:  # one INSERT per batch (SQLite's batch write loops over single ones)
            assert seen_singly == 0, seen_singly
    else:  # batching off: one write per event, as before
        assert not batched and seen_singly == 600


def test_every_movie_of_a_run_above_the_old_caps_gets_its_review_and_sheet(
        tmp_path: Path, sim: Simulator, provider_env: None) -> None:
    """30 movies enriched (contact sheets used to stop at 25) and 60 notified (metadata used to stop at 50 movies
    plus failures and 100 changed): every movie is described. A second enrichment reads the sheets back."""
    settings = make_settings(tmp_path, sim, extra=SMALL.replace("fanart = 2", "fanart = 1"))
    store = Store(settings.database_path)
    keys = sorted(seed_movies(store, list(range(6000, 6030))))
    resources = {"metarr": MetarrResource(config_path=str(settings.config_path))}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("movies", keys)
        provider = dg.materialize([provider_metadata], instance=instance,
                                  tags=_range(keys), resources=resources)
        assert provider.success
        result = dg.materialize([enriched_artwork], instance=instance, tags=_range(keys), resources=resources)
        assert result.success
        cached = _by_partition(result, "cached_artwork")
        assert len(cached) == 30 and all("-poster.jpg " in m["contact_sheet"].value for m in cached.values())
        sheets = list((settings.cache_dir / "review" / "sheets").glob("*/*.jpg"))
        assert len(sheets) == 30 and len({p.parent for p in sheets}) == 30  # one small sheet per movie, kept
        stamps = {p: p.stat().st_mtime_ns for p in sheets}
        again = dg.materialize([enriched_artwork], instance=instance, tags=_range(keys), resources=resources)
        assert _by_partition(again, "cached_artwork") == cached  # read back, identical
        assert {p: p.stat().st_mtime_ns for p in sheets} == stamps

        more = sorted(seed_movies(store, list(range(6100, 6130))))
        instance.add_dynamic_partitions("movies", more)
        every = sorted(keys + more)
        notified = dg.materialize([player_notifications], instance=instance,
                                  tags=_range(every), resources=resources)
        per_movie = _by_partition(notified, "player_notifications")
        assert len(per_movie) == 60 and all(m["players"].value == "nothing due" for m in per_movie.values())


def test_a_publish_from_the_asset_page_tells_the_players_in_that_run(
        demo_library: Path, tmp_path: Path, sim: Simulator, provider_env: None, monkeypatch: pytest.MonkeyPatch,
        dagster_instance: dg.DagsterInstance) -> None:
    """Materialising published_library_files alone (the asset page's ad-hoc asset job, no notify step) notifies
    the player in the same run, not minutes later from the sensor; publish_job leaves it to its notify step."""
    from dagster_project.automation import player_notification_sensor
    from tests.helpers.players import FakeKodi
    from tests.test_publish import enrich_all

    root = tmp_path / "library"
    for name in FOLDERS[:2]:
        shutil.copytree(demo_library / name, root / name)
    monkeypatch.setenv("TEST_KODI_PASSWORD", "kodi-secret")
    with FakeKodi(password="kodi-secret") as kodi:
        kodi.sources = [{"file": "smb://nas/movies/", "label": "Movies"}]
        settings = make_settings(tmp_path, sim, root=root, extra=f"""
[[players]]
type = "kodi"
name = "living-room"
url = "{kodi.url}"
password_env = "TEST_KODI_PASSWORD"
timeout_seconds = 2
path_mappings = {{ "{root}" = "smb://nas/movies/" }}
""")
        store = Store(settings.database_path)
        enrich_all(settings, store)
        keys = sorted(m.partition_key for m in store.movies())
        instance = dagster_instance
        instance.add_dynamic_partitions("movies", keys)
        monkeypatch.setenv("METARR_CONFIG", str(settings.config_path))  # the code location's resource reads it

        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, tags=_range(keys), asset_selection=[dg.AssetKey("published_library_files")])
        assert result.success
        scanned = [call["directory"] for call in kodi.called("VideoLibrary.Scan")]  # told in this run
        assert scanned and all(any(f"smb://nas/movies/{name}/".startswith(d) for d in scanned) for name in FOLDERS[:2])
        assert {(n.player, n.status) for n in store.notifications()} == {("living-room", "sent")}
        for meta in _by_partition(result, "published_library_files").values():
            assert "living-room" in meta["players_told"].value and "sent: created" in meta["players_told"].value
        assert _run_totals(result, "player_notifications")["sent"].value == 2
        resources = {"metarr": MetarrResource(config_path=str(settings.config_path))}
        idle = player_notification_sensor(dg.build_sensor_context(instance=instance, resources=resources))
        assert not idle.run_requests  # nothing left for the sensor

        # publish_job has its notify step: the publish step leaves the players to it (told once, not twice).
        matrix = next(m for m in store.movies() if m.partition_key == "the-matrix-1999-tmdb603")
        (Path(matrix.folder) / f"{matrix.basename}.nfo").unlink()
        job = defs.resolve_job_def("publish_job").execute_in_process(
            instance=instance, partition_key=matrix.partition_key, resources=resources)
        assert job.success
        assert "players_told" not in _by_partition(job, "published_library_files")[matrix.partition_key]
        told = _by_partition(job, "player_notifications")[matrix.partition_key]
        assert told["living-room"].value.startswith("sent: modified")
        assert len(kodi.called("VideoLibrary.RefreshMovie")) == 1
