"""Publishing into real folders: Kodi's layout, atomic and idempotent writes, and nothing of the user's lost."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from lxml import etree

from metarr_pipeline.artwork.choices import record
from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.config import Settings
from metarr_pipeline.demo.media import write_video
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.naming import actor_file_name, artwork_path, nfo_path
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.scan.scan import scan_library
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import KEYS, make_settings

MATRIX = "The Matrix (1999) {tmdb-603}"
HEAT = "Heat (1995) {tmdb-949}"  # a DVD structure: VIDEO_TS/, .actors inside it
IS_ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


def enrich_all(settings: Settings, store: Store) -> None:
    with open_providers(settings, KEYS) as providers:
        scan_library(settings, store, resolver=providers.tmdb)
        fetch_metadata(settings, store, providers)
        enrich_movies(settings, store, providers)


def publish(settings: Settings, store: Store, keys=None):
    with open_providers(settings, KEYS) as providers:
        return publish_movies(settings, store, providers, keys)


FOLDERS = (MATRIX, "Amélie (2001)", "Heat (1995) {tmdb-949}", "Inception (2010) {tmdb-27205}",
           "Pulp Fiction (1994) {tmdb-680}", "Se7en (1995) {tmdb-807}")


def enriched_copy(demo_library: Path, tmp_path: Path, sim: Simulator,
                  folders: tuple[str, ...]) -> tuple[Path, Settings, Store]:
    """A private copy of these demo movies, scanned, fetched and enriched against the simulator, not published.
    The publishing tests' library (test_publish_safety and test_publish_speed use it with a file movie and a DVD)."""
    root = tmp_path / "library"
    for name in folders:
        shutil.copytree(demo_library / name, root / name)
    settings = make_settings(tmp_path, sim, root=root)
    store = Store(settings.database_path)
    enrich_all(settings, store)
    return root, settings, store


@pytest.fixture
def library(demo_library: Path, tmp_path: Path, sim: Simulator) -> tuple[Path, Settings, Store]:
    """A private copy of the demo movies these tests need (a file movie, a DVD, a Blu-ray, a user NFO...)."""
    return enriched_copy(demo_library, tmp_path, sim, FOLDERS)


def tree(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            st = os.stat(p)
            out[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns)
    return out


def test_naming_rules() -> None:
    assert artwork_path("file", "Movie (2000)", "poster", 1, "jpg") == "Movie (2000)-poster.jpg"
    assert artwork_path("file", "Movie (2000)", "fanart", 3, "jpg") == "Movie (2000)-fanart2.jpg"
    assert artwork_path("dvd", "", "poster", 2, "jpg") == "poster1.jpg"
    assert nfo_path("bluray", "") == "BDMV/index.nfo" and nfo_path("dvd_flat", "") == "VIDEO_TS.nfo"
    assert actor_file_name("Keanu Reeves", "jpg") == "Keanu_Reeves.jpg"
    assert actor_file_name("Zoë Kravitz", "jpg") == "Zoë_Kravitz.jpg"
    assert actor_file_name("Carrie-Anne Moss", "png") == "Carrie-Anne_Moss.png"
    for hostile in ("../../x", "..", "a/b\\c", "<b>Bold</b>", "   ", "\x00\x01"):
        name = actor_file_name(hostile, "jpg")
        assert name is None or ("/" not in name and "\\" not in name and name not in (".jpg", "..jpg")
                                and not name.startswith("."))


def test_published_demo_library_follows_kodi(library: tuple[Path, Settings, Store]) -> None:
    root, settings, store = library
    report = publish(settings, store)
    assert not report.failures, [(m.partition_key, m.error) for m in report.failures]
    folder = root / MATRIX
    names = set(os.listdir(folder))
    base = MATRIX
    expected = {f"{base}.nfo", f"{base}-poster.jpg", f"{base}-poster1.jpg", f"{base}-poster2.jpg",
                f"{base}-fanart.jpg", *(f"{base}-fanart{i}.jpg" for i in range(1, 5)), f"{base}-clearlogo.png",
                f"{base}-landscape.jpg", f"{base}-keyart.jpg", ".actors"}
    assert expected <= names, expected - names
    assert not any(n.startswith(".metarr-tmp-") for n in names)
    actors = os.listdir(folder / ".actors")
    assert actors and all(" " not in a and (a.endswith(".jpg") or a.endswith(".png")) for a in actors)
    # Every image is byte-identical to its verified blob, and its extension matches its real format.
    movie = store.movie_by_partition("the-matrix-1999-tmdb603")
    chosen = store.artwork_candidates([movie.id]).filter(pl.col("selected_rank").is_not_null())
    for row in chosen.iter_rows(named=True):
        target = next(folder.glob(f"{glob_escape(base)}-{row['type']}{'' if row['selected_rank'] == 1 else row['selected_rank'] - 1}.*"))
        assert hashlib.sha256(target.read_bytes()).hexdigest() == row["blob_sha"]
        if target.suffix == ".png":
            assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # NFO: strict XML, the fields Kodi reads.
    nfo = etree.fromstring((folder / f"{base}.nfo").read_bytes(), etree.XMLParser(recover=False))
    assert nfo.tag == "movie" and nfo.findtext("title") == "The Matrix"
    assert [u.get("type") for u in nfo.findall("uniqueid") if u.get("default") == "true"] == ["tmdb"]
    assert len(nfo.findall("ratings/rating[@default='true']")) == 1
    assert nfo.find("writer") is None and nfo.findall("credits")
    assert nfo.findtext("fileinfo/streamdetails/video/codec") == "h264"
    assert [a.findtext("codec") for a in nfo.findall("fileinfo/streamdetails/audio")] == ["ac3", "aac"]
    assert nfo.find("thumb") is None and nfo.find("fanart") is None
    # Disc structures: NFO inside, bare art names in the movie folder, actors beside the NFO.
    heat = root / "Heat (1995) {tmdb-949}"
    assert (heat / "VIDEO_TS" / "VIDEO_TS.nfo").is_file() and (heat / "poster.jpg").is_file()
    assert (heat / "VIDEO_TS" / ".actors").is_dir() and not (heat / ".actors").exists()
    inception = root / "Inception (2010) {tmdb-27205}"
    assert (inception / "BDMV" / "index.nfo").is_file() and (inception / "fanart1.jpg").is_file()
    # The user's NFO state is carried over, and their original NFO is backed up.
    amelie = etree.fromstring((root / "Amélie (2001)" / "Amélie (2001).nfo").read_bytes())
    assert amelie.findtext("playcount") == "3" and amelie.findtext("mycollection") == "Favourites"
    assert amelie.findtext("dateadded") == "2019-05-01 10:00:00"
    assert any("backed up" in w for m in report.movies for w in m.warnings if m.partition_key.startswith("amelie"))
    # Hostile cast names (Pulp Fiction's) never leave .actors/.
    pulp = root / "Pulp Fiction (1994) {tmdb-680}"
    for dirpath, _, files in os.walk(pulp):
        for f in files:
            rel = os.path.relpath(os.path.join(dirpath, f), pulp)
            assert rel.startswith(".actors/") or rel.startswith("Pulp Fiction (1994)") or rel.startswith("Extras/"), rel


def glob_escape(text: str) -> str:
    import glob
    return glob.escape(text)


def test_publishing_twice_writes_nothing_and_keeps_every_mtime(library: tuple[Path, Settings, Store]) -> None:
    root, settings, store = library
    publish(settings, store)
    before = tree(root)
    second = publish(settings, store)
    assert second.summary()["files_written"] == 0 and second.summary()["files_removed"] == 0
    assert tree(root) == before


def test_dropping_a_poster_removes_exactly_our_stale_file(library: tuple[Path, Settings, Store]) -> None:
    root, settings, store = library
    publish(settings, store, ["the-matrix-1999-tmdb603"])
    folder = root / MATRIX
    own = folder / "notes.txt"
    own.write_text("mine")
    before = tree(root)
    movie = store.movie_by_partition("the-matrix-1999-tmdb603")
    third = store.artwork_candidates([movie.id]).filter((pl.col("type") == "poster") & (pl.col("selected_rank") == 3))
    record(store, "the-matrix-1999-tmdb603", "poster", third["candidate_id"].item(), "reject")
    counts = {**settings.artwork.counts, "poster": 2}
    from dataclasses import replace
    settings2 = replace(settings, artwork=replace(settings.artwork, counts=counts))
    with open_providers(settings2, KEYS) as providers:
        enrich_movies(settings2, store, providers, ["the-matrix-1999-tmdb603"])
    report = publish(settings2, store, ["the-matrix-1999-tmdb603"])
    (result,) = report.movies
    assert result.removed == [f"{MATRIX}-poster2.jpg"]
    after = tree(root)
    gone = set(before) - set(after)
    assert gone == {f"{MATRIX}/{MATRIX}-poster2.jpg"}
    assert own.read_text() == "mine"
    changed = {k for k in after if k in before and after[k] != before[k]}
    assert changed <= {f"{MATRIX}/{MATRIX}.nfo"}  # at most the NFO (its state may differ), nothing else touched
    assert report.reclaimed_blobs >= 1  # the dropped poster's cached original is reclaimed


def test_users_own_artwork_is_never_touched(library: tuple[Path, Settings, Store]) -> None:
    root, settings, store = library
    mine = root / MATRIX / f"{MATRIX}-poster.jpg"
    mine.write_bytes(b"\xff\xd8\xff my own poster")
    stamp = mine.stat().st_mtime_ns
    report = publish(settings, store, ["the-matrix-1999-tmdb603"])
    (result,) = report.movies
    assert result.status == "published"
    assert mine.read_bytes() == b"\xff\xd8\xff my own poster" and mine.stat().st_mtime_ns == stamp
    assert any("not written by metarr" in w for w in result.warnings)
    assert (root / MATRIX / f"{MATRIX}-poster1.jpg").is_file()


def test_missing_folder_and_missing_blob_fail_one_movie_only(library: tuple[Path, Settings, Store], tmp_path: Path) -> None:
    root, settings, store = library
    shutil.rmtree(root / "Se7en (1995) {tmdb-807}")
    movie = store.movie_by_partition("heat-1995-tmdb949")
    sha = store.artwork_candidates([movie.id]).filter(pl.col("selected_rank") == 1)["blob_sha"][0]
    for blob in (settings.cache_dir / "blobs").rglob(f"{sha}.*"):
        blob.unlink()
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "dead", faults={"tmdb_images": __import__(
            "metarr_pipeline.simulator", fromlist=["Faults"]).Faults(error_rate=1.0),
            "fanart_assets": __import__("metarr_pipeline.simulator", fromlist=["Faults"]).Faults(error_rate=1.0)})) as dead:
        from dataclasses import replace
        (tmp_path / "b").mkdir()
        broken = make_settings(tmp_path / "b", dead, root=root)
        broken = replace(broken, data_dir=settings.data_dir, providers=replace(broken.providers, max_attempts=1))
        with open_providers(broken, KEYS) as providers:
            report = publish_movies(broken, store, providers)
    by = {m.partition_key: m for m in report.movies}
    assert by["se7en-1995-tmdb807"].status == "failed" and "does not exist" in by["se7en-1995-tmdb807"].error
    heat = by["heat-1995-tmdb949"]
    assert heat.status == "failed" and "could not be downloaded again" in heat.error
    assert not (root / "Heat (1995) {tmdb-949}" / "VIDEO_TS" / "VIDEO_TS.nfo").exists()  # nothing written
    assert by["the-matrix-1999-tmdb603"].status == "published"


def test_malformed_user_nfo_and_weird_names(tmp_path: Path, sim: Simulator) -> None:
    root = tmp_path / "library"
    weird = "Quote's \"Bracket\" [Test] & More (2011) {tmdb-1011}"
    write_video(root / weird / f"{weird}.mkv")
    broken = root / "Broken (2004) {tmdb-1004}"
    write_video(broken / "Broken (2004) {tmdb-1004}.mkv")
    (broken / "Broken (2004) {tmdb-1004}.nfo").write_text(
        "<movie><title>Broken & Co</title><playcount>7</playcount><lastplayed>2025-01-01</lastplayed>"
        "<customtag>keep me</customtag>", encoding="utf-8")
    settings = make_settings(tmp_path, sim, root=root)
    store = Store(settings.database_path)
    enrich_all(settings, store)
    report = publish(settings, store)
    assert not report.failures, [m.error for m in report.failures]
    assert (root / weird / f"{weird}.nfo").is_file() and (root / weird / f"{weird}-poster.jpg").is_file()
    nfo = etree.fromstring((broken / "Broken (2004) {tmdb-1004}.nfo").read_bytes())
    assert nfo.findtext("playcount") == "7" and nfo.findtext("customtag") == "keep me"


def test_read_only_folder_writes_nothing(library: tuple[Path, Settings, Store]) -> None:
    root, settings, _store = library
    folder = root / MATRIX
    before = tree(folder)
    os.chmod(folder, 0o555)
    code = (
        "import json; from metarr_pipeline.config import load_settings;"
        "from metarr_pipeline.publish.publish import publish_movies; from metarr_pipeline.store import Store;"
        f"s=load_settings({str(settings.config_path)!r}, check_roots=False);"
        "r=publish_movies(s, Store(s.database_path), None, ['the-matrix-1999-tmdb603'], reclaim=False);"
        "print(json.dumps([r.movies[0].status, r.movies[0].error]))"
    )
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if IS_ROOT else []
    try:
        proc = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              cwd=str(Path(__file__).parents[1]))
    finally:
        os.chmod(folder, 0o755)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json
    status, error = json.loads(proc.stdout.strip().splitlines()[-1])
    assert status == "failed" and "not writable" in error
    assert tree(folder) == before


@pytest.mark.parametrize("crash", ["before-rename:1", "after-rename:1", "before-rename:4", "after-rename:9"])
def test_killed_mid_publish_leaves_old_or_new_files_and_the_next_publish_completes(
        library: tuple[Path, Settings, Store], crash: str) -> None:
    root, settings, store = library
    key = "the-matrix-1999-tmdb603"
    folder = root / MATRIX
    old_nfo = (folder / f"{MATRIX}.nfo").read_bytes() if (folder / f"{MATRIX}.nfo").exists() else None
    code = (
        "from metarr_pipeline.config import load_settings; from metarr_pipeline.publish.publish import publish_movies;"
        "from metarr_pipeline.store import Store;"
        f"s=load_settings({str(settings.config_path)!r}, check_roots=False);"
        f"publish_movies(s, Store(s.database_path), None, [{key!r}], reclaim=False)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "METARR_TEST_CRASH": crash}, cwd=str(Path(__file__).parents[1]))
    assert proc.returncode == 137, proc.stderr[-2000:]  # it really died mid-way
    # Every file in the folder is complete: the NFO parses, each image is one of our blobs or absent.
    movie = store.movie_by_partition(key)
    shas = set(store.artwork_candidates([movie.id])["blob_sha"].drop_nulls().to_list())
    for name in os.listdir(folder):
        path = folder / name
        if name.endswith(".nfo"):
            data = path.read_bytes()
            assert data == old_nfo or etree.fromstring(data).tag == "movie"
        elif name.endswith((".jpg", ".png")):
            assert hashlib.sha256(path.read_bytes()).hexdigest() in shas
    # The next publish completes the job and leaves no temp file behind.
    report = publish(settings, store, [key])
    assert report.movies[0].status == "published"
    assert not [n for n in os.listdir(folder) if n.startswith(".metarr-tmp-")]
    again = publish(settings, store, [key])
    assert again.summary()["files_written"] == 0


def test_provider_serving_different_bytes_is_reported_not_published(library: tuple[Path, Settings, Store]) -> None:
    root, settings, store = library
    key = "the-matrix-1999-tmdb603"
    movie = store.movie_by_partition(key)
    # The cached poster is gone, and what the provider serves today no longer hashes to what was selected.
    fake = "0" * 64
    store.execute_script("UPDATE artwork_candidates SET blob_sha = ? WHERE movie_id = ? AND type = 'poster' "
                         "AND selected_rank = 1", [fake, movie.id])
    report = publish(settings, store, [key])
    (result,) = report.movies
    assert result.status == "published"
    assert any("serves different bytes" in w for w in result.warnings)
    assert not (root / MATRIX / f"{MATRIX}-poster.jpg").exists()  # not silently published
    assert (root / MATRIX / f"{MATRIX}-poster1.jpg").exists()


def test_a_stack_gets_its_nfo_beside_the_first_part_and_art_under_the_stacked_title() -> None:
    """Kodi (VideoTagLoaderNFO::FindNFO, CFileItem::GetLocalArt): a stack's NFO is looked for beside its first
    part, then under the stacked title; its artwork under the stacked title only."""
    from metarr_pipeline.scan.discover import _stacked_title
    from metarr_pipeline.scan.nfo import candidate_nfo_names

    first = "Stacked (2007) cd1.mkv"
    title = _stacked_title(first)
    assert title == "Stacked (2007)"
    assert nfo_path("file", title, first) == "Stacked (2007) cd1.nfo"
    assert artwork_path("file", title, "poster", 1, "jpg") == "Stacked (2007)-poster.jpg"
    assert candidate_nfo_names("file", title, first) == ("Stacked (2007) cd1.nfo", "Stacked (2007).nfo", "movie.nfo")
    assert nfo_path("file", "Movie", "Movie.mkv") == "Movie.nfo"  # not a stack: unchanged
    assert _stacked_title("Movie (1999) part1 [1080p].mkv") == "Movie (1999) [1080p]"


def test_publishing_twice_changes_no_folder(library: tuple[Path, Settings, Store]) -> None:
    """Players and file watchers watch folders: a publish that changes nothing must not touch any (issue #12)."""
    root, settings, store = library
    publish(settings, store)
    folders = {d: os.stat(d).st_mtime_ns for d, _, _ in os.walk(root)}
    time.sleep(0.01)  # a probe file created now would move a folder's mtime past the recorded one
    publish(settings, store)
    assert {d: os.stat(d).st_mtime_ns for d, _, _ in os.walk(root)} == folders


def test_a_batch_published_on_threads_ends_as_one_published_movie_by_movie(
        demo_library: Path, tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk's movies are prepared and written several at a time (``publish.batch.THREADS``): the library's
    bytes, each movie's outcome and the file records are exactly those of a publish one movie at a time."""
    import metarr_pipeline.publish.batch as batching

    def outcome(threads: int) -> tuple[object, ...]:
        monkeypatch.setattr(batching, "THREADS", threads)
        root, settings, store = enriched_copy(demo_library, tmp_path / f"threads-{threads}", sim, FOLDERS)
        report = publish(settings, store)
        files = {p.relative_to(root).as_posix(): hashlib.sha256(_undated(p.read_bytes())).hexdigest()
                 for p in sorted(root.rglob("*")) if p.is_file()}
        movies = [(m.partition_key, m.status, m.error, sorted(m.written), sorted(m.removed)) for m in report.movies]
        ids = {m.id: m.partition_key for m in store.movies()}
        records = {ids[movie_id]: sorted((r.path, r.role) + ((r.sha256, r.bytes) if r.role != "nfo" else ())
                                         for r in rows.values())
                   for movie_id, rows in store.library_files(list(ids)).items()}
        return movies, files, records

    one_at_a_time, threaded = outcome(1), outcome(4)
    assert sum(len(m[3]) for m in threaded[0]) > 50 and all(m[1] == "published" for m in threaded[0])
    assert threaded == one_at_a_time


def _undated(data: bytes) -> bytes:
    """An NFO without its <dateadded> (when the scan first saw the movie: each library copy was scanned apart)."""
    return re.sub(rb"<dateadded>[^<]*</dateadded>", b"", data)
