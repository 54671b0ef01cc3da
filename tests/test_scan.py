"""The scan over real folders and real video files: identification, caching, moves, and bad input.

Every test builds its own library in a temporary folder and its own DuckDB file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.demo.media import write_video
from metarr_pipeline.scan.identify import SearchOutcome
from metarr_pipeline.scan.scan import scan_library
from metarr_pipeline.store import Store

IS_ROOT = os.geteuid() == 0


def settings_for(root: Path, data: Path) -> Settings:
    cfg = data / "metarr.toml"
    data.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f'[data]\ndir = "{data / "state"}"\n[library]\nroots = ["{root}"]\n', encoding="utf-8")
    return load_settings(cfg)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with (size, mtime_ns): to prove the scan writes nothing in the library."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns)
    return out


class DemoTmdb:
    """Stands in for the TMDB search until the provider layer lands; records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[object] = []

    def find_by_imdb(self, imdb_id: str) -> int | None:
        self.calls.append(("find", imdb_id))
        return {"tt0190332": 146}.get(imdb_id)

    def search(self, title: str, year: int | None) -> SearchOutcome:
        self.calls.append(("search", title, year))
        if (title, year) == ("Schindler's List", 1993):
            return SearchOutcome(424)
        return SearchOutcome(None, reason="TMDB search found no movie")


@pytest.fixture
def demo_copy(demo_library: Path, tmp_path: Path) -> Path:
    """A private copy of the demo library (tests below move and delete things)."""
    root = tmp_path / "library"
    shutil.copytree(demo_library, root, symlinks=True)
    return root


def test_demo_library_scan_identifies_probes_and_writes_nothing(demo_copy: Path, tmp_path: Path) -> None:
    settings = settings_for(demo_copy, tmp_path / "data")
    store = Store(settings.database_path)
    before = snapshot(demo_copy)
    report = scan_library(settings, store)
    assert snapshot(demo_copy) == before  # the scan never writes into the library

    s = report.summary()
    assert (s["found"], s["identified"], s["unidentified"], s["invalid"], s["probe_failures"]) == (13, 9, 4, 0, 0)
    assert s["probed"] == 13 and s["probe_cache_hits"] == 0  # the home video is probed too
    movies = {Path(m.folder).name: m for m in store.movies()}
    assert set(report.partitions) == {
        "the-matrix-1999-tmdb603", "amelie-2001-tmdb194", "leon-the-professional-1994-tmdb101",
        "blade-runner-2049-2017-tmdb335984", "heat-1995-tmdb949", "inception-2010-tmdb27205",
        "se7en-1995-tmdb807", "pulp-fiction-1994-tmdb680", "千と千尋の神隠し-2001-tmdb129",
    }
    amelie = movies["Amélie (2001)"]
    assert (amelie.id_source, amelie.tmdb_id, amelie.imdb_id) == ("nfo", 194, "tt0211915")
    nfo = json.loads(amelie.nfo_json)
    assert nfo["user_state"]["playcount"] == 3 and nfo["foreign_tags"] == ["<mycollection>Favourites</mycollection>"]
    assert movies["Heat (1995) {tmdb-949}"].kind == "dvd"
    assert movies["Heat (1995) {tmdb-949}"].video_file == "VIDEO_TS/VTS_01_1.VOB"
    assert movies["Inception (2010) {tmdb-27205}"].kind == "bluray"
    assert movies["Inception (2010) {tmdb-27205}"].video_file == "BDMV/STREAM/00000.m2ts"
    assert movies["Se7en (1995) {tmdb-807}"].video_file == "Se7en (1995).avi"  # trailer and sample ignored
    assert movies["Pulp Fiction (1994) {tmdb-680}"].video_file == "Pulp Fiction (1994).mkv"
    assert "no TMDB search is configured" in movies["Schindler's List (1993)"].reason
    assert movies["Untitled Home Video"].status == "unidentified"
    assert "no TMDB search is configured for 'Kimi no Na wa' (2016)" in movies["Kimi no Na wa (2016)"].reason

    streams = store.streams()
    matrix = streams[movies["The Matrix (1999) {tmdb-603}"].id]
    assert matrix.video is not None and matrix.video.codec == "h264"
    assert [(a.codec, a.channels, a.language) for a in matrix.audio] == [("ac3", 6, "eng"), ("aac", 2, "eng")]
    assert [(x.language, x.external, x.forced) for x in matrix.subtitles] == [
        ("eng", False, False), ("fre", False, False), ("fre", True, True)]
    assert streams[movies["Blade Runner 2049 (2017) {tmdb-335984}"].id].video.hdr_type == "hdr10"


def test_search_rung_identifies_through_the_resolver(demo_copy: Path, tmp_path: Path) -> None:
    settings = settings_for(demo_copy, tmp_path / "data")
    tmdb = DemoTmdb()
    report = scan_library(settings, Store(settings.database_path), resolver=tmdb)
    assert report.count("identified") == 11
    assert "crouching-tiger-hidden-dragon-2000-tmdb146" in report.partitions
    assert "schindler-s-list-1993-tmdb424" in report.partitions
    # Second scan: the searched movie is not searched again.
    tmdb.calls.clear()
    scan_library(settings, Store(settings.database_path), resolver=tmdb)
    assert ("search", "Schindler's List", 1993) not in tmdb.calls


def test_demo_scan_against_the_simulated_tmdb_identifies_the_romanised_title(
        demo_copy: Path, tmp_path: Path) -> None:
    """The demo's alternative-title case end to end: "Kimi no Na wa (2016)" matches neither TMDB's title
    ("Your Name.") nor its original ("君の名は。"), only the alternative title "Kimi no Na wa.", over real HTTP."""
    from metarr_pipeline.providers.session import open_providers
    from metarr_pipeline.simulator import Simulator, SimulatorConfig
    from tests.test_providers import KEYS, make_settings

    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "simcache")) as sim:
        settings = make_settings(tmp_path, sim, root=demo_copy)
        store = Store(settings.database_path)
        with open_providers(settings, KEYS) as providers:
            report = scan_library(settings, store, resolver=providers.tmdb)
        alternative_lookups = [r for r in sim.requests("tmdb_api") if "alternative_titles" in r.query]
    movies = {Path(m.folder).name: m for m in store.movies()}
    kimi = movies["Kimi no Na wa (2016)"]
    assert (kimi.status, kimi.tmdb_id, kimi.id_source) == ("identified", 372058, "search")
    assert kimi.partition_key == "kimi-no-na-wa-2016-tmdb372058"
    assert alternative_lookups  # found through its other titles, not an exact title
    assert movies["Schindler's List (1993)"].tmdb_id == 424  # the exact-title search still wins first
    assert report.count("identified") == 12 and movies["Untitled Home Video"].status == "unidentified"


def test_rescan_of_unchanged_library_probes_nothing_and_changes_nothing(demo_copy: Path, tmp_path: Path) -> None:
    settings = settings_for(demo_copy, tmp_path / "data")
    store = Store(settings.database_path)
    scan_library(settings, store)
    first = {m.folder: m for m in store.movies()}
    first_streams = store.streams()

    calls: list[Path] = []

    def counting_prober(path: Path):
        calls.append(path)
        raise AssertionError(f"unchanged file re-probed: {path}")

    report = scan_library(settings, store, prober=counting_prober)
    assert calls == [] and report.probed == 0 and report.probe_cache_hits == 13
    second = {m.folder: m for m in store.movies()}
    assert store.streams() == first_streams
    for folder, movie in first.items():
        from dataclasses import replace
        assert replace(second[folder], last_seen=movie.last_seen) == movie


def test_moves_reencodes_removals_and_returns(demo_copy: Path, tmp_path: Path) -> None:
    settings = settings_for(demo_copy, tmp_path / "data")
    store = Store(settings.database_path)
    scan_library(settings, store)
    original = {m.partition_key: m for m in store.movies() if m.partition_key}

    # Radarr renames a folder: same TMDB tag, new path.
    (demo_copy / "Pulp Fiction (1994) {tmdb-680}").rename(demo_copy / "Pulp Fiction (1994) [tmdbid-680]")
    # A folder is moved into a collection folder: same file (size + mtime), no tag in the new name.
    (demo_copy / "Collection").mkdir()
    shutil.move(demo_copy / "Heat (1995) {tmdb-949}", demo_copy / "Collection" / "Heat")
    # A movie is re-encoded in place.
    matrix = demo_copy / "The Matrix (1999) {tmdb-603}" / "The Matrix (1999) {tmdb-603}.mkv"
    write_video(matrix, video_codec="hevc", width=640, height=268, audio=(("eac3", 6, "eng"),))
    # A movie is deleted.
    shutil.rmtree(demo_copy / "Se7en (1995) {tmdb-807}")

    report = scan_library(settings, store)
    changes = {Path(o.folder).name: o.change for o in report.outcomes if o.change}
    assert changes == {"Pulp Fiction (1994) [tmdbid-680]": "moved", "Heat": "moved",
                       "The Matrix (1999) {tmdb-603}": "changed"}
    assert report.probed == 1  # only the re-encoded file
    after = {m.partition_key: m for m in store.movies() if m.partition_key}
    assert after["pulp-fiction-1994-tmdb680"].id == original["pulp-fiction-1994-tmdb680"].id
    assert after["heat-1995-tmdb949"].folder.endswith("Collection/Heat")
    streams = store.streams([after["the-matrix-1999-tmdb603"].id])[after["the-matrix-1999-tmdb603"].id]
    assert streams.video.codec == "hevc" and streams.video.width == 640
    assert [(a.codec, a.channels) for a in streams.audio] == [("eac3", 6)]
    se7en = after["se7en-1995-tmdb807"]
    assert se7en.gone_at is not None  # kept with its history, not deleted
    assert "se7en-1995-tmdb807" not in report.partitions

    # It comes back: same row, same key, no longer gone.
    write_video(demo_copy / "Se7en (1995) {tmdb-807}" / "Se7en (1995).avi", video_codec="mpeg4")
    report = scan_library(settings, store)
    back = store.movie_by_partition("se7en-1995-tmdb807")
    assert back is not None and back.gone_at is None and back.id == se7en.id
    assert "se7en-1995-tmdb807" in report.partitions


def test_unmounted_root_marks_nothing_gone(demo_copy: Path, tmp_path: Path) -> None:
    settings = settings_for(demo_copy, tmp_path / "data")
    store = Store(settings.database_path)
    scan_library(settings, store)
    hidden = tmp_path / "hidden"
    demo_copy.rename(hidden)
    demo_copy.mkdir()  # an empty mount point
    report = scan_library(settings, store)
    assert report.gone == () and str(demo_copy) in report.unreadable_roots
    assert all(m.gone_at is None for m in store.movies())


# ------------------------------------------------------------------------------------------------
# bad input: each one recorded with a reason on that movie, the rest of the scan completes


@pytest.fixture
def bad_library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    good = root / "Good Movie (2001) {tmdb-1001}"
    write_video(good / "Good Movie (2001) {tmdb-1001}.mkv")
    return root


def scan(root: Path, tmp_path: Path):
    settings = settings_for(root, tmp_path / "data")
    store = Store(settings.database_path)
    before = snapshot(root)
    report = scan_library(settings, store)
    assert snapshot(root) == before
    outcomes = {Path(o.folder).name: o for o in report.outcomes}
    assert outcomes["Good Movie (2001) {tmdb-1001}"].status == "identified"  # the others go on
    return report, outcomes, store


def test_truncated_and_fake_videos_record_probe_failures(bad_library: Path, tmp_path: Path) -> None:
    real = bad_library / "Good Movie (2001) {tmdb-1001}" / "Good Movie (2001) {tmdb-1001}.mkv"
    trunc = bad_library / "Truncated (2002) {tmdb-1002}" / "Truncated (2002) {tmdb-1002}.mkv"
    trunc.parent.mkdir()
    trunc.write_bytes(real.read_bytes()[: real.stat().st_size // 4])
    fake = bad_library / "Fake (2003) {tmdb-1003}" / "Fake (2003).mkv"
    fake.parent.mkdir()
    fake.write_text("<html>not a video</html>")
    report, outcomes, _ = scan(bad_library, tmp_path)
    for name in ("Truncated (2002) {tmdb-1002}", "Fake (2003) {tmdb-1003}"):
        o = outcomes[name]
        assert o.status == "identified"  # identity is still known from the name
        assert o.probe_error and "cannot probe" in o.probe_error
    assert "Fake (2003).mkv" in outcomes["Fake (2003) {tmdb-1003}"].probe_error
    assert report.summary()["probe_failures"] == 2


def test_malformed_nfo_is_recovered_and_its_state_kept(bad_library: Path, tmp_path: Path) -> None:
    folder = bad_library / "Broken Nfo (2004)"
    write_video(folder / "Broken Nfo (2004).mkv")
    (folder / "Broken Nfo (2004).nfo").write_text(
        "<movie><title>Broken & Co</title><uniqueid type='tmdb'>1004</uniqueid><playcount>7</playcount>"
        "<lastplayed>2025-01-01</lastplayed><customtag>keep me</customtag>", encoding="utf-8")
    _, outcomes, store = scan(bad_library, tmp_path)
    o = outcomes["Broken Nfo (2004)"]
    assert o.status == "identified" and o.tmdb_id == 1004
    assert any("recovery mode" in w for w in o.warnings)
    movie = next(m for m in store.movies() if m.folder.endswith("Broken Nfo (2004)"))
    nfo = json.loads(movie.nfo_json)
    assert nfo["user_state"]["playcount"] == 7 and nfo["foreign_tags"] == ["<customtag>keep me</customtag>"]


def test_folder_shapes_that_are_not_one_movie(bad_library: Path, tmp_path: Path) -> None:
    (bad_library / "Empty (2005)").mkdir()
    two = bad_library / "Two Films (2006)"
    write_video(two / "Film A.mkv")
    write_video(two / "Film B.mp4")
    stacked = bad_library / "Stacked (2007) {tmdb-1007}"
    write_video(stacked / "Stacked (2007) cd2.mkv")
    write_video(stacked / "Stacked (2007) cd1.mkv")
    only_art = bad_library / "Only Art (2008)"
    only_art.mkdir()
    (only_art / "poster.jpg").write_bytes(b"\xff\xd8\xff")
    _, outcomes, store = scan(bad_library, tmp_path)
    assert outcomes["Empty (2005)"].status == "invalid" and "empty folder" in outcomes["Empty (2005)"].reason
    assert outcomes["Two Films (2006)"].status == "invalid"
    assert "2 videos in one folder" in outcomes["Two Films (2006)"].reason
    assert "Film A.mkv" in outcomes["Two Films (2006)"].reason
    assert outcomes["Stacked (2007) {tmdb-1007}"].status == "identified"
    # Kodi names a stack's artwork after the stacked title (part marker removed): "Stacked (2007)-poster.jpg"
    (stack,) = [m for m in store.movies() if m.folder.endswith("Stacked (2007) {tmdb-1007}")]
    assert (stack.video_file, stack.basename) == ("Stacked (2007) cd1.mkv", "Stacked (2007)")
    assert "no video file" in outcomes["Only Art (2008)"].reason and "poster.jpg" in outcomes["Only Art (2008)"].reason


def test_weird_names_symlink_loops_and_long_names(bad_library: Path, tmp_path: Path) -> None:
    bad_name = os.fsencode(bad_library) + b"/Caf\xe9 Latin1 (2009)"
    os.mkdir(bad_name)
    write_video(Path(os.fsdecode(bad_name)) / "movie.mkv")
    loop = bad_library / "Collection"
    loop.mkdir()
    os.symlink(loop, loop / "again")
    os.symlink(bad_library, loop / "up")
    long_stem = "A" * 221 + " (2010) {tmdb-1010}"  # 240 bytes: fine for the video, too long for artwork
    write_video(bad_library / "Long (2010) {tmdb-1010}" / f"{long_stem}.mkv")
    quotes = "Quote's \"Bracket\" [Test] & More (2011) {tmdb-1011}"
    write_video(bad_library / quotes / f"{quotes}.mkv")
    report, outcomes, _ = scan(bad_library, tmp_path)
    latin = outcomes["Caf\\xe9 Latin1 (2009)"]
    assert latin.status == "invalid" and "not valid UTF-8" in latin.reason
    assert any("symlink loop" in why for _, why in report.skipped)
    long = outcomes["Long (2010) {tmdb-1010}"]
    assert long.status == "identified" and any("255-byte" in w for w in long.warnings)
    assert outcomes[quotes].status == "identified" and outcomes[quotes].tmdb_id == 1011


def _scan_unprivileged(root: Path, data: Path) -> dict:
    """Run a scan in a subprocess that file permissions apply to.

    Root ignores permissions through two capabilities; ``setpriv`` (util-linux) drops them from the bounding
    set before exec, so the scan meets the same "Permission denied" a normal user would.
    """
    code = (
        "import json,sys; from metarr_pipeline.config import load_settings;"
        "from metarr_pipeline.scan.scan import scan_library; from metarr_pipeline.store import Store;"
        f"s=load_settings({str(data / 'metarr.toml')!r}); r=scan_library(s, Store(s.database_path));"
        "print(json.dumps([[o.folder,o.status,o.reason,o.probe_error] for o in r.outcomes]))"
    )
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if IS_ROOT else []
    proc = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=str(Path(__file__).parents[1]))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {Path(f).name: (st, reason, perr) for f, st, reason, perr in json.loads(proc.stdout.strip().splitlines()[-1])}


def test_unreadable_folder_and_file_are_recorded(tmp_path: Path) -> None:
    root = tmp_path / "library"
    write_video(root / "Good Movie (2001) {tmdb-1001}" / "Good Movie (2001) {tmdb-1001}.mkv")
    locked = root / "Locked Folder (2012) {tmdb-1012}"
    write_video(locked / "Locked Folder (2012) {tmdb-1012}.mkv")
    secret = root / "Secret File (2013) {tmdb-1013}" / "Secret File (2013) {tmdb-1013}.mkv"
    write_video(secret)
    data = tmp_path / "data"
    settings_for(root, data)
    os.chmod(locked, 0o000)
    os.chmod(secret, 0o000)
    try:
        results = _scan_unprivileged(root, data)
    finally:
        os.chmod(locked, 0o755)
        os.chmod(secret, 0o644)
    assert results["Good Movie (2001) {tmdb-1001}"][0] == "identified"
    status, reason, _ = results["Locked Folder (2012) {tmdb-1012}"]
    assert status == "invalid" and "cannot read folder" in reason and "ermission denied" in reason
    status, _, probe_error = results["Secret File (2013) {tmdb-1013}"]
    assert status == "identified" and "permission denied" in probe_error.lower()
