"""``metarr players notify`` against a real Kodi 20.1: the notification path end to end through the product.

A generated library of 32 movies (tiny real videos, the simulator's generated catalog) is scanned, fetched,
enriched and published by the pipeline, then the CLI tells the real Kodi (tests/helpers/kodi_real.py) about
it through a ``[[players]]`` entry with a password and a path mapping (Kodi sees the library through another
path, as a NAS share would be seen). The tests run in order on one Kodi and one store:

1. every new movie ends up in Kodi, and every notification row is ``sent`` and verified;
2. a changed movie (a new title in the provider data, a user's poster pick, a rejected clearlogo) is
   refreshed in Kodi (new title, new art), not duplicated;
3. with Kodi stopped the notification is recorded failed with the reason and a next attempt; once Kodi is
   back, the retry (when due, without ``--now``) delivers it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import polars as pl
import pytest

from bench.library import library_plan, make_library, make_templates
from metarr_pipeline.artwork.choices import record
from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.cli import main
from metarr_pipeline.config import Settings
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.scan.scan import scan_library
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.store import NotificationRow, Store
from tests.helpers.kodi_real import KodiProfile, RealKodi, Source
from tests.test_providers import KEYS, make_settings

pytestmark = pytest.mark.timeout(900)

MOVIES = 32
KODI_PASSWORD = "kodi-real-Pa55-4711"
PLAYER = "living-room"


def kodi_profile(workdir: Path) -> KodiProfile:
    """Kodi's only video source is the library as Kodi sees it (a symlink standing in for a share)."""
    return KodiProfile(sources=[Source(workdir / "kodi-view" / "movies", False, "movies")], password=KODI_PASSWORD)


@dataclass
class Pipeline:
    settings: Settings
    store: Store
    sim: Simulator
    root: Path  # the library as metarr sees it
    view: Path  # the same folder as Kodi sees it

    def kodi_path(self, folder: str | Path) -> str:
        return str(self.view / Path(folder).relative_to(self.root)) + "/"

    def run(self, keys: list[str] | None = None, *, force: bool = False) -> None:
        """scan → fetch → enrich → publish, as ``metarr demo`` runs them (the CLI's steps, in process)."""
        with open_providers(self.settings, KEYS) as providers:
            if keys is None:
                scan_library(self.settings, self.store, resolver=providers.tmdb)
            fetch_metadata(self.settings, self.store, providers, keys, force=force)
            enrich_movies(self.settings, self.store, providers, keys)
            report = publish_movies(self.settings, self.store, providers, keys)
        assert not report.failures, [(m.partition_key, m.error) for m in report.failures]

    def notify(self, *extra: str) -> int:
        return main(["--config", str(self.settings.config_path), "players", "notify", *extra])

    def rows(self) -> dict[str, NotificationRow]:
        """partition key → its newest notification row."""
        out: dict[str, NotificationRow] = {}
        for r in self.store.notifications():
            out.setdefault(r.partition_key, r)
        return out


@pytest.fixture(scope="module")
def pipeline(real_kodi: RealKodi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    work = real_kodi.workdir
    root, view = work / "library", work / "kodi-view" / "movies"
    plan = library_plan(MOVIES)
    make_library(root, plan, make_templates(tmp_path_factory.mktemp("templates")))
    view.parent.mkdir(parents=True, exist_ok=True)
    view.symlink_to(root, target_is_directory=True)
    players = f"""
[[players]]
type = "kodi"
name = "{PLAYER}"
url = "{real_kodi.url}"
password_env = "TEST_REAL_KODI_PASSWORD"
timeout_seconds = 10
retry_seconds = 1
path_mappings = {{ "{root}" = "{view}" }}

[artwork.counts]  # one each of the types Kodi shows most (test_kodi_real.py checks every type): a quicker enrich
poster = 1
fanart = 1
clearlogo = 1
clearart = 0
discart = 0
banner = 0
landscape = 0
keyart = 0
"""
    (work / "state").mkdir()
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as sim:
        settings = make_settings(work / "state", sim, root=root, extra=players)
        yield Pipeline(settings, Store(settings.database_path), sim, root, view)


@pytest.fixture(autouse=True)
def kodi_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_REAL_KODI_PASSWORD", KODI_PASSWORD)


def kodi_movie(kodi: RealKodi, folder: str, properties: tuple[str, ...] = ("file", "title", "art")) -> list[dict]:
    return kodi.movies(properties, {"field": "path", "operator": "is", "value": folder})


def image_path(url: str) -> str:
    return unquote(url.removeprefix("image://")).rstrip("/")


def test_players_notify_gets_every_new_movie_into_kodi_verified(pipeline: Pipeline, real_kodi: RealKodi) -> None:
    pipeline.run()
    queued = pipeline.rows()
    assert len(queued) == MOVIES and {(r.event, r.status) for r in queued.values()} == {("created", "pending")}
    assert not real_kodi.movies()  # publishing never talks to players

    assert pipeline.notify() == 0
    in_kodi = {m["file"] for m in real_kodi.movies(["file"])}
    want = {pipeline.kodi_path(r.folder) + r.video_file for r in queued.values()}
    assert in_kodi == want  # every movie, each once, at the path Kodi sees
    rows = pipeline.rows()
    assert {r.status for r in rows.values()} == {"sent"}, {k: r.detail for k, r in rows.items() if r.status != "sent"}
    # 32 new folders in one Kodi source: one scan of that source (never a scan that cancels another), verified.
    assert {r.detail for r in rows.values()} == {f"Scan {pipeline.view}/; verified"}
    assert all(r.next_attempt_at is None and r.attempts == 1 for r in rows.values())
    assert pipeline.notify() == 0 and pipeline.rows() == rows  # nothing due: nobody told again


def _published_art(folder: Path, basename: str) -> dict[str, Path]:
    return {p.stem.removeprefix(basename + "-"): p for p in folder.iterdir()
            if p.suffix in (".jpg", ".png") and p.stem.startswith(basename + "-")}


def test_a_changed_movie_is_refreshed_in_kodi_not_duplicated(
        pipeline: Pipeline, real_kodi: RealKodi) -> None:
    store = pipeline.store
    movie = next(m for m in store.movies() if m.tmdb_id and (Path(m.folder) / m.video_file).suffix == ".mkv")
    folder, key = Path(movie.folder), movie.partition_key
    (before,) = kodi_movie(real_kodi, pipeline.kodi_path(folder))
    poster = _published_art(folder, movie.basename)["poster"].read_bytes()
    assert "clearlogo" in before["art"], before["art"]
    # Kodi keeps listings of the folders it read (a small LRU): as after a user browsed the folder in Kodi, this
    # one is cached now, so the refresh below finds art in that listing unless the notifier lists it afresh.
    real_kodi.call("Files.GetDirectory", {"directory": pipeline.kodi_path(folder), "media": "files"})

    pipeline.sim.catalog.edit_movie(movie.tmdb_id, title="A Wholly New Title")  # the provider data changes
    frame = store.artwork_candidates([movie.id])
    posters = frame.filter((pl.col("type") == "poster") & pl.col("selected_rank").is_null() & (pl.col("gate") == ""))
    record(store, key, "poster", posters["candidate_id"][0], "pick")  # what 'metarr art pick' stores
    for logo in frame.filter(pl.col("type") == "clearlogo")["candidate_id"].to_list():
        record(store, key, "clearlogo", logo, "reject")
    pipeline.run([key], force=True)
    art = _published_art(folder, movie.basename)
    assert art["poster"].read_bytes() != poster and "clearlogo" not in art
    nfo = (folder / f"{movie.basename}.nfo").read_text("utf-8")
    assert "<title>A Wholly New Title</title>" in nfo, nfo[:400]
    assert pipeline.rows()[key].event == "modified" and pipeline.rows()[key].status == "pending"

    assert pipeline.notify() == 0
    row = pipeline.rows()[key]
    assert row.status == "sent" and row.detail == f"RefreshMovie {before['movieid']}; verified", row
    (after,) = kodi_movie(real_kodi, pipeline.kodi_path(folder))  # one movie: refreshed, not added twice
    assert after["title"] == "A Wholly New Title" and after["movieid"] != before["movieid"]
    assert {k: image_path(v) for k, v in after["art"].items() if k in art} == \
        {k: str(pipeline.view / folder.name / p.name) for k, p in art.items()}
    assert "clearlogo" not in after["art"]  # Kodi re-read the folder: the rejected logo is gone there too
    assert len(real_kodi.movies()) == MOVIES


def test_kodi_stopped_records_failed_then_the_retry_delivers(
        pipeline: Pipeline, real_kodi: RealKodi) -> None:
    store = pipeline.store
    movie = sorted(store.movies(), key=lambda m: m.partition_key)[-1]
    pipeline.sim.catalog.edit_movie(movie.tmdb_id, title="Changed While Kodi Was Off")
    pipeline.run([movie.partition_key], force=True)

    real_kodi.stop()
    try:
        started = datetime.now()
        assert pipeline.notify() == 1  # a failed delivery is the command's failure, the publish stays good
        row = pipeline.rows()[movie.partition_key]
        assert row.status == "failed" and row.attempts == 1, row
        assert "not reachable" in row.detail and KODI_PASSWORD not in row.detail
        assert row.last_attempt_at is not None and row.last_attempt_at >= started.replace(microsecond=0)
        assert row.next_attempt_at is not None and \
            (row.next_attempt_at - row.last_attempt_at).total_seconds() == pytest.approx(1.0, abs=0.01)
    finally:
        real_kodi.start()

    deadline = time.monotonic() + 30  # the retry is due one second after the failure (retry_seconds = 1)
    while datetime.now() < row.next_attempt_at and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pipeline.notify() == 0
    row = pipeline.rows()[movie.partition_key]
    assert row.status == "sent" and row.attempts == 2 and row.detail.endswith("; verified"), row
    (kodi,) = kodi_movie(real_kodi, pipeline.kodi_path(movie.folder))
    assert kodi["title"] == "Changed While Kodi Was Off"
