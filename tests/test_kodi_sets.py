"""Kodi's movie sets brought up to date after a delivery (players/kodi_sets.py), against the JSON-RPC double.

The double (tests/helpers/players.py ``FakeKodi``) behaves like the real Kodi 20.1 measured in
docs/KODI-SOURCE.md (d): a set takes its folder art and overview once, when it is created; a refresh changes
neither; ``SetMovieSetDetails`` does; ``Files.GetDirectory`` refuses folders outside Kodi's sources. The
real Kodi runs the same story in tests/test_kodi_sets_refresh.py.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.players.deliver import deliver_notifications
from metarr_pipeline.players.kodi_sets import (
    LEVEL_ALL,
    LEVEL_BASIC,
    LEVEL_CUSTOM,
    LEVEL_NONE,
    art_type_of,
    folder_art,
    unwrap_image,
)
from metarr_pipeline.players.queue import queue_notifications
from metarr_pipeline.store import Store
from tests.helpers.players import FakeKodi
from tests.test_players import seed

KODI_PASSWORD = "kodi-sets-Pa55-0042"
T0 = datetime(2025, 3, 1, 20, 0, 0)
TITLE = "The Matrix: Collection"  # ':' is illegal in Kodi's folder name: the folder is "The Matrix_ Collection"
FOLDER = "The Matrix_ Collection"
KODI_SETS = "smb://nas/sets/"
MOVIE = "The Matrix (1999)"
KODI_FILE = f"smb://nas/movies/{MOVIE}/{MOVIE}.mkv"


@pytest.fixture(autouse=True)
def kodi_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KODI_PASSWORD", KODI_PASSWORD)


@pytest.fixture
def kodi():
    with FakeKodi(password=KODI_PASSWORD) as double:
        double.sources = [{"file": "smb://nas/movies/", "label": "Movies"}]
        double.settings["videolibrary.moviesetsfolder"] = KODI_SETS
        yield double


def rpc(kodi: FakeKodi, method: str, params: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{kodi.url}/jsonrpc", auth=("kodi", KODI_PASSWORD), timeout=5,
                        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).json()
    return answer


# -- the double behaves like Kodi 20.1 -------------------------------------------------------------------------

def test_the_double_keeps_a_sets_first_art_and_overview_until_set_movie_set_details(kodi: FakeKodi) -> None:
    kodi.files = {f"{KODI_SETS}{FOLDER}/poster.jpg", f"{KODI_SETS}{FOLDER}/fanart.jpg"}
    kodi.set_of[KODI_FILE] = (TITLE, "Old overview")
    kodi.disk = {KODI_FILE}
    kodi._scan("smb://nas/movies/")
    kodi._scan_timer.join()
    (movieid,) = kodi.movies
    movie = rpc(kodi, "VideoLibrary.GetMovies", {"properties": ["file", "setid", "set"]})["result"]["movies"][0]
    assert movie["set"] == TITLE and movie["setid"] == 1
    details = rpc(kodi, "VideoLibrary.GetMovieSetDetails", {"setid": 1, "properties": ["plot", "art"]})["result"]
    assert details["setdetails"]["plot"] == "Old overview"
    assert details["setdetails"]["art"] == {
        "poster": "image://smb%3A%2F%2Fnas%2Fsets%2FThe%20Matrix_%20Collection%2Fposter.jpg/",
        "fanart": "image://smb%3A%2F%2Fnas%2Fsets%2FThe%20Matrix_%20Collection%2Ffanart.jpg/",
        "icon": "image://DefaultFolder.png/"}

    # A new art file and a new overview, then a refresh: the set keeps what it had (measured on Kodi 20.1).
    kodi.files.add(f"{KODI_SETS}{FOLDER}/clearlogo.png")
    kodi.set_of[KODI_FILE] = (TITLE, "New overview")
    assert rpc(kodi, "VideoLibrary.RefreshMovie", {"movieid": movieid})["result"] == "OK"
    assert kodi.moviesets[1].plot == "Old overview" and "clearlogo" not in kodi.moviesets[1].art
    # SetMovieSetDetails unwraps image:// values, removes a type sent as null, and sets the plot.
    wrapped = "image://" + "smb%3A%2F%2Fnas%2Fsets%2FThe%20Matrix_%20Collection%2Fclearlogo.png/"
    assert rpc(kodi, "VideoLibrary.SetMovieSetDetails", {
        "setid": 1, "art": {"clearlogo": wrapped, "fanart": None}, "plot": "New overview"})["result"] == "OK"
    assert kodi.moviesets[1].art == {"poster": f"{KODI_SETS}{FOLDER}/poster.jpg",
                                     "clearlogo": f"{KODI_SETS}{FOLDER}/clearlogo.png"}
    assert kodi.moviesets[1].plot == "New overview"
    assert rpc(kodi, "VideoLibrary.SetMovieSetDetails", {"setid": 9, "plot": "x"})["error"]["code"] == -32602


def test_the_double_lists_folders_only_inside_kodis_sources_and_reads_settings(kodi: FakeKodi) -> None:
    kodi.files = {f"{KODI_SETS}{FOLDER}/poster.jpg", "smb://nas/movies/Heat (1995)/Heat (1995).nfo"}
    refused = rpc(kodi, "Files.GetDirectory", {"directory": f"{KODI_SETS}{FOLDER}/", "media": "files"})
    assert refused["error"] == {"code": -32602, "message": "Invalid params."}  # outside every source
    listed = rpc(kodi, "Files.GetDirectory", {"directory": "smb://nas/movies/", "media": "files"})["result"]
    assert listed["files"] == [{"file": "smb://nas/movies/Heat (1995)/", "filetype": "directory",
                                "label": "Heat (1995)", "type": "unknown"}]
    kodi.other_sources = [KODI_SETS]  # the sets folder added as a "Files" source: Kodi lists it
    listed = rpc(kodi, "Files.GetDirectory", {"directory": f"{KODI_SETS}{FOLDER}/", "media": "files"})["result"]
    assert [f["file"] for f in listed["files"]] == [f"{KODI_SETS}{FOLDER}/poster.jpg"]
    missing = rpc(kodi, "Files.GetDirectory", {"directory": f"{KODI_SETS}Nothing/", "media": "files"})
    assert missing["error"]["code"] == -32602
    assert rpc(kodi, "Settings.GetSettingValue", {"setting": "videolibrary.moviesetsfolder"})["result"] == {
        "value": KODI_SETS}
    assert rpc(kodi, "Settings.GetSettingValue", {"setting": "no.such"})["error"]["code"] == -32602


# -- Kodi's rules, as the notifier applies them ----------------------------------------------------------------

@pytest.mark.parametrize(("name", "level", "expected"), [
    ("poster.jpg", LEVEL_ALL, "poster"), ("ClearLogo.PNG", LEVEL_ALL, "clearlogo"), ("poster1.jpg", LEVEL_ALL, "poster1"),
    ("keyart.webp", LEVEL_ALL, "keyart"), ("set.nfo", LEVEL_ALL, None), ("my-logo.png", LEVEL_ALL, None),
    (".hidden.jpg", LEVEL_ALL, None), ("folder.jpg", LEVEL_ALL, None), ("a" * 26 + ".jpg", LEVEL_ALL, None),
    ("clearlogo.png", LEVEL_BASIC, None), ("fanart.jpg", LEVEL_BASIC, "fanart"), ("fanart1.jpg", LEVEL_BASIC, None),
    ("fanart1.jpg", LEVEL_CUSTOM, "fanart1"), ("poster.jpg", LEVEL_NONE, None),
])
def test_art_type_of_a_set_folder_file(name: str, level: int, expected: str | None) -> None:
    assert art_type_of(name, level) == expected


def test_kodi_art_values_unwrap_and_the_current_file_of_a_type_is_kept() -> None:
    assert unwrap_image("image://%2fmnt%2fsets%2fA%20B%2fposter.jpg/") == "/mnt/sets/A B/poster.jpg"
    assert unwrap_image("/plain/path.jpg") == "/plain/path.jpg"
    files = ["D:\\Sets\\A\\poster.jpg", "D:\\Sets\\A\\poster.png", "D:\\Sets\\A\\fanart.jpg"]
    assert folder_art(files, LEVEL_ALL, {}) == {"poster": "D:\\Sets\\A\\poster.png", "fanart": "D:\\Sets\\A\\fanart.jpg"}
    assert folder_art(files, LEVEL_ALL, {"poster": "D:\\Sets\\A\\poster.jpg"})["poster"] == "D:\\Sets\\A\\poster.jpg"


# -- the notifier ----------------------------------------------------------------------------------------------

def make_settings(tmp_path: Path, kodi: FakeKodi, *, sets_mapped: bool = True) -> Settings:
    root, sets = tmp_path / "movies", tmp_path / "sets"
    root.mkdir(exist_ok=True)
    sets.mkdir(exist_ok=True)
    mappings = f'"{root}" = "smb://nas/movies/"' + (f', "{sets}" = "{KODI_SETS}"' if sets_mapped else "")
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f"""[data]
dir = "{tmp_path / "state"}"
[library]
roots = ["{root}"]
[publish]
movie_sets_folder = "sets"
[[players]]
type = "kodi"
name = "living-room"
url = "{kodi.url}"
password_env = "TEST_KODI_PASSWORD"
timeout_seconds = 2
path_mappings = {{ {mappings} }}
""", encoding="utf-8")
    return load_settings(cfg)


class Library:
    """One movie of a set on disk (metarr's side) and in the double (Kodi's side), published and delivered."""

    def __init__(self, tmp_path: Path, kodi: FakeKodi, *, sets_mapped: bool = True) -> None:
        self.kodi = kodi
        self.settings = make_settings(tmp_path, kodi, sets_mapped=sets_mapped)
        self.store = Store(self.settings.database_path)
        self.root = self.settings.library.roots[0]
        self.set_folder = tmp_path / "sets" / FOLDER
        self.set_folder.mkdir()
        (self.movie,) = seed(self.store, self.root, [MOVIE])
        kodi.disk = {KODI_FILE}
        self.now = T0
        self.write_nfo("The first overview.")
        for art in ("poster.jpg", "fanart.jpg"):
            self.add_art(art)

    def write_nfo(self, overview: str) -> None:
        folder = self.root / MOVIE
        folder.mkdir(exist_ok=True)
        (folder / f"{MOVIE}.nfo").write_text(
            f"<?xml version='1.0' encoding='UTF-8'?>\n<movie><title>The Matrix</title><set tmdbcolid=\"2344\">"
            f"<name>{TITLE}</name><overview>{overview}</overview></set></movie>\n", "utf-8")
        self.kodi.set_of[KODI_FILE] = (TITLE, overview)  # what Kodi reads when it scans the NFO

    def add_art(self, name: str) -> None:
        (self.set_folder / name).write_bytes(b"picture")
        self.kodi.files.add(f"{KODI_SETS}{FOLDER}/{name}")

    def remove_art(self, name: str) -> None:
        (self.set_folder / name).unlink()
        self.kodi.files.discard(f"{KODI_SETS}{FOLDER}/{name}")

    def deliver(self, event: str = "modified") -> list[dict[str, Any]]:
        """Queue and deliver one notification; the SetMovieSetDetails calls it caused."""
        before = len(self.kodi.called("VideoLibrary.SetMovieSetDetails"))
        self.now += timedelta(minutes=1)
        queue_notifications(self.store, self.settings, [(self.movie, event)], self.now)
        report = deliver_notifications(self.settings, self.store, now=self.now)
        assert report.summary()["sent"] == 1 and report.failed == 0, report.players[0].reasons
        return self.kodi.called("VideoLibrary.SetMovieSetDetails")[before:]


@pytest.mark.parametrize("kodi_lists", [True, False], ids=["kodi-lists-the-folder", "metarr-lists-its-own"])
def test_a_sets_new_art_and_overview_reach_kodi_once(tmp_path: Path, kodi: FakeKodi, kodi_lists: bool) -> None:
    if kodi_lists:
        kodi.other_sources = [KODI_SETS]
    lib = Library(tmp_path, kodi)
    assert lib.deliver("created") == []  # Kodi created the set with this art and overview: nothing differs
    assert kodi.moviesets[1].plot == "The first overview." and set(kodi.moviesets[1].art) == {"poster", "fanart"}

    lib.add_art("clearlogo.png")
    lib.write_nfo("A better overview.")
    sent = lib.deliver()
    assert sent == [{"setid": 1, "art": {"clearlogo": f"{KODI_SETS}{FOLDER}/clearlogo.png"},
                     "plot": "A better overview."}]
    assert kodi.moviesets[1].plot == "A better overview." and "clearlogo" in kodi.moviesets[1].art
    assert kodi.called("VideoLibrary.RefreshMovie")  # the movie itself was refreshed as before

    assert lib.deliver() == []  # nothing changed: nothing sent

    lib.remove_art("clearlogo.png")  # a rejected logo: Kodi's art points at a file that is gone
    lib.remove_art("poster.jpg")
    lib.add_art("poster.png")  # a re-chosen poster in another format
    assert lib.deliver() == [{"setid": 1, "art": {"clearlogo": None, "poster": f"{KODI_SETS}{FOLDER}/poster.png"}}]
    assert kodi.moviesets[1].art == {"poster": f"{KODI_SETS}{FOLDER}/poster.png",
                                     "fanart": f"{KODI_SETS}{FOLDER}/fanart.jpg"}


def test_art_kodi_cannot_see_is_left_alone_and_problems_never_fail_the_movie(
        tmp_path: Path, kodi: FakeKodi, caplog: pytest.LogCaptureFixture) -> None:
    lib = Library(tmp_path, kodi, sets_mapped=False)  # Kodi refuses the listing; metarr's folder is not mapped
    lib.deliver("created")
    lib.add_art("clearlogo.png")
    lib.write_nfo("A better overview.")
    with caplog.at_level(logging.WARNING):
        assert lib.deliver() == [{"setid": 1, "plot": "A better overview."}]  # the plot still; the art unseen
    assert "its art is not compared" in caplog.text and KODI_PASSWORD not in caplog.text

    kodi.settings.pop("videolibrary.artworklevel")  # Kodi answers Invalid params: logged, the movie is sent
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert lib.deliver() == []
    assert "movie sets not updated" in caplog.text and KODI_PASSWORD not in caplog.text


def test_no_sets_folder_in_kodi_or_no_set_costs_nothing(tmp_path: Path, kodi: FakeKodi) -> None:
    lib = Library(tmp_path, kodi)
    kodi.settings["videolibrary.moviesetsfolder"] = ""
    lib.deliver("created")
    lib.write_nfo("A better overview.")
    assert lib.deliver() == []
    # the only folder listed is the refreshed movie's own (a refresh lists it first), no sets folder
    assert [c["directory"] for c in kodi.called("Files.GetDirectory")] == ["smb://nas/movies/The Matrix (1999)/"]
    assert kodi.called("VideoLibrary.GetMovieSetDetails") == []

    kodi.set_of.clear()  # a movie in no set: not even the settings are read
    kodi.calls.clear()
    kodi.moviesets.clear()
    kodi.movie_set.clear()
    lib.deliver()
    assert kodi.called("Settings.GetSettingValue") == []


def test_the_sets_folder_setting_and_the_player_mapping_meet_with_kodis_separator(
        tmp_path: Path, kodi: FakeKodi) -> None:
    """A Windows Kodi: its setting uses backslashes, and so must the paths we send (metarr lists its folder)."""
    lib = Library(tmp_path, kodi)
    win = "D:\\Media\\Sets\\"
    player = replace(lib.settings.players[0],
                     path_mappings={str(lib.root): "smb://nas/movies/", str(tmp_path / "sets"): win})
    lib.settings = replace(lib.settings, players=(player,))
    kodi.settings["videolibrary.moviesetsfolder"] = win
    kodi.files = set()  # Kodi found no art when it created the set
    assert lib.deliver("created") == [{"setid": 1, "art": {"poster": f"{win}{FOLDER}\\poster.jpg",
                                                           "fanart": f"{win}{FOLDER}\\fanart.jpg"}}]
