"""Movie sets: the set's art and set.nfo in Kodi's movie set information folder, and <set tmdbcolid> in the NFO.

Runs the real scan → fetch → enrich → sets' artwork → publish against the loopback simulator, whose catalog has
The Matrix Collection (id 2344) with TMDB posters and backdrops and a fanart.tv entry holding every set type.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from metarr_pipeline.artwork.sets import enrich_collections
from metarr_pipeline.blobs import BlobStore
from metarr_pipeline.blobs.verify import verify_original
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.movie_sets import MANIFEST, kodi_set_folder_name
from metarr_pipeline.report import publish_text
from metarr_pipeline.simulator import Faults, Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import KEYS, make_settings
from tests.test_publish import enrich_all, publish

MATRIX = "The Matrix (1999) {tmdb-603}"
SE7EN = "Se7en (1995) {tmdb-807}"
SET = "The Matrix Collection"
SET_FILES = {"poster.jpg", "fanart.jpg", "clearlogo.png", "clearart.png", "banner.jpg", "landscape.jpg",
             "discart.png"}


def enrich_with_sets(settings, store: Store) -> None:
    """The movies' stages, then the sets' artwork stage."""
    enrich_all(settings, store)
    with open_providers(settings, KEYS) as providers:
        enrich_collections(settings, store, providers)


@pytest.mark.parametrize(("title", "folder"), [
    ("The Matrix Collection", "The Matrix Collection"),
    ('Mission: Impossible / "Ghost" <Protocol>?', "Mission_ Impossible _ _Ghost_ _Protocol__"),
    ("Star Wars*|\\ Saga. . ", "Star Wars___ Saga"),
    ("Ocean's Collection...", "Ocean's Collection"),
])
def test_folder_names_follow_kodis_make_legal_file_name(title: str, folder: str) -> None:
    assert kodi_set_folder_name(title) == folder


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


def test_set_art_and_nfo_published_and_removed_with_the_last_movie(demo_library: Path, tmp_path: Path,
                                                                   sim: Simulator) -> None:
    root = tmp_path / "library"
    for name in (MATRIX, SE7EN):  # Se7en is in no set; it keeps the library from looking unmounted
        shutil.copytree(demo_library / name, root / name)
    sets = tmp_path / "sets"
    (sets / "Someone Else's Set").mkdir(parents=True)
    (sets / "Someone Else's Set" / "poster.jpg").write_bytes(b"the user's own")
    (sets / SET).mkdir()
    (sets / SET / "banner.jpg").write_bytes(b"the user's own banner")  # not ours: never replaced nor removed
    settings = make_settings(tmp_path, sim, root=root, extra=f'[publish]\nmovie_sets_folder = "{sets}"\n')
    store = Store(settings.database_path)
    enrich_with_sets(settings, store)
    report = publish(settings, store)

    nfo = etree.parse(str(root / MATRIX / f"{MATRIX}.nfo")).getroot()
    assert nfo.find("set").get("tmdbcolid") == "2344" and nfo.findtext("set/name") == SET
    folder = sets / SET
    assert {p.name for p in folder.iterdir()} == SET_FILES | {"set.nfo", MANIFEST}
    assert (folder / "banner.jpg").read_bytes() == b"the user's own banner"
    assert report.movie_sets.problems == [f"{SET}/banner.jpg: not written by metarr, kept as it is"]
    selection = {a.type: a for a in store.collection_selection([2344])[2344]}
    blobs = BlobStore(settings.cache_dir)
    for name in SET_FILES - {"banner.jpg"}:  # each file is the selected image's verified bytes
        art = selection[name.partition(".")[0]]
        assert (folder / name).read_bytes() == blobs.read_verified(art.blob_sha, art.ext)
        assert verify_original((folder / name).read_bytes()).width > 0
    set_nfo = etree.parse(str(folder / "set.nfo")).getroot()
    assert (set_nfo.tag, set_nfo.findtext("title")) == ("set", SET) and set_nfo.findtext("overview")
    assert report.movie_sets.sets == 1
    assert f"Movie sets in {sets}: 1 sets, 7 files written, 0 removed." in publish_text(report)

    mtimes = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = publish(settings, store, [m.partition_key for m in store.movies()])
    assert again.movie_sets.written == [] and {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == mtimes

    shutil.rmtree(root / MATRIX)
    enrich_all(settings, store)  # the scan marks the movie gone
    gone = publish(settings, store)
    assert sorted(gone.movie_sets.removed) == sorted(f"{SET}/{n}" for n in SET_FILES - {"banner.jpg"} | {"set.nfo"})
    assert [p.name for p in folder.iterdir()] == ["banner.jpg"]
    assert (sets / "Someone Else's Set" / "poster.jpg").read_bytes() == b"the user's own"


def test_off_by_default_and_a_missing_folder_is_reported(demo_library: Path, tmp_path: Path,
                                                         sim: Simulator) -> None:
    root = tmp_path / "library"
    shutil.copytree(demo_library / MATRIX, root / MATRIX)
    settings = make_settings(tmp_path, sim, root=root)
    store = Store(settings.database_path)
    enrich_all(settings, store)
    assert publish(settings, store).movie_sets is None
    missing = make_settings(tmp_path, sim, root=root, extra='[publish]\nmovie_sets_folder = "no-such-folder"\n')
    report = publish(missing, store, [m.partition_key for m in store.movies()])
    assert "no-such-folder' does not exist" in report.movie_sets.problems[0]


def test_a_broken_set_image_is_reported_and_the_rest_published(demo_library: Path, tmp_path: Path,
                                                               sim: Simulator) -> None:
    root = tmp_path / "library"
    shutil.copytree(demo_library / MATRIX, root / MATRIX)
    sets = tmp_path / "sets"
    sets.mkdir()
    settings = make_settings(tmp_path, sim, root=root, extra=f'[publish]\nmovie_sets_folder = "{sets}"\n')
    store = Store(settings.database_path)
    enrich_with_sets(settings, store)
    poster = next(a for a in store.collection_selection([2344])[2344] if a.type == "poster")
    BlobStore(settings.cache_dir).path_for(poster.blob_sha, poster.ext).unlink()  # the cached original is lost
    healthy = sim.config
    sim.set_config(replace(healthy, faults={h: Faults(garbage_rate=1.0) for h in ("tmdb_images", "fanart_assets")}))
    try:
        report = publish(settings, store)
    finally:
        sim.set_config(healthy)
    assert {p.name for p in (sets / SET).iterdir() if not p.name.startswith(".")} == SET_FILES - {"poster.jpg"} | {
        "set.nfo"}
    assert any("poster" in p and "could not be downloaded" in p for p in report.movie_sets.problems)


def test_before_the_sets_stage_tmdb_main_art_then_the_selection(demo_library: Path, tmp_path: Path,
                                                                 sim: Simulator) -> None:
    """A set the sets' stage has not chosen art for yet gets TMDB's main poster and backdrop; once chosen, every
    type is published and the images no longer chosen are replaced (only ours)."""
    root = tmp_path / "library"
    shutil.copytree(demo_library / MATRIX, root / MATRIX)
    sets = tmp_path / "sets"
    sets.mkdir()
    settings = make_settings(tmp_path, sim, root=root, extra=f'[publish]\nmovie_sets_folder = "{sets}"\n')
    store = Store(settings.database_path)
    enrich_all(settings, store)
    publish(settings, store)
    assert {p.name for p in (sets / SET).iterdir()} == {"poster.jpg", "fanart.jpg", "set.nfo", MANIFEST}
    with open_providers(settings, KEYS) as providers:
        enrich_collections(settings, store, providers)
    report = publish(settings, store)
    assert {p.name for p in (sets / SET).iterdir()} == SET_FILES | {"set.nfo", MANIFEST}
    assert not report.movie_sets.problems
