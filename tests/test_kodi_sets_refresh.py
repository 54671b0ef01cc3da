"""A real Kodi 20.1 gets a movie set's new art and overview from the notifier (players/kodi_sets.py).

Kodi takes a set's art and overview once, when it creates the set; a movie refresh never updates them
(docs/KODI-SOURCE.md (d)). One headless Kodi for the module (tests/helpers/kodi_real.py) whose "Movie set
information folder" is our ``[publish] movie_sets_folder``, outside every Kodi source (as users set it up), so
Kodi refuses to list it and the notifier lists metarr's own folder (the same path on both sides here). The
Matrix is published by the pipeline against the simulator, delivered to Kodi by ``deliver_notifications``
(which scans it in), then the set gains a ``clearlogo.png`` and a new overview, and is delivered again. Every
JSON-RPC call the notifier makes is recorded by a real HTTP transport.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from PIL import Image

from metarr_pipeline.config import Settings
from metarr_pipeline.players.deliver import deliver_notifications
from metarr_pipeline.players.queue import queue_notifications
from metarr_pipeline.store import Store
from tests.helpers.kodi_real import KodiProfile, RealKodi, Source
from tests.test_providers import make_settings
from tests.test_publish import MATRIX, enrich_all, publish, sim  # noqa: F401  (sim is a fixture)

pytestmark = pytest.mark.timeout(900)

PLAYER = "kodi-sets"


def kodi_profile(workdir: Path) -> KodiProfile:
    return KodiProfile(sources=[Source(workdir / "library", False, "library")], moviesets_folder=workdir / "sets",
                       extract_flags=False)


class RecordingTransport(httpx.HTTPTransport):
    """A real transport that remembers every JSON-RPC method it carried."""

    def __init__(self) -> None:
        super().__init__()
        self.methods: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"null")
        self.methods.extend(call["method"] for call in (body if isinstance(body, list) else [body]) if call)
        return super().handle_request(request)


@dataclass
class Pipeline:
    settings: Settings
    store: Store
    root: Path
    sets: Path
    now: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))

    def deliver(self, event: str | None = None, folder: str = MATRIX) -> list[str]:
        """Deliver what is due for the movie in ``folder`` (after queueing ``event``); the JSON-RPC methods sent."""
        movie = next(m for m in self.store.movies() if m.folder.endswith(folder))
        self.now += timedelta(minutes=1)
        if event:
            queue_notifications(self.store, self.settings, [(movie, event)], self.now)
        transport = RecordingTransport()
        report = deliver_notifications(self.settings, self.store, [movie.partition_key], now=self.now,
                                       transport=transport)
        assert report.summary()["sent"] >= 1 and report.failed == 0, [p.reasons for p in report.players]
        return transport.methods

    def set_folder(self) -> Path:
        (folder,) = [f for f in self.sets.iterdir() if (f / "set.nfo").is_file()]
        return folder


@pytest.fixture(scope="module")
def pipeline(request: pytest.FixtureRequest, real_kodi: RealKodi, demo_library: Path, sim) -> Pipeline:  # noqa: F811
    """The Matrix published; the player maps only the library when the module says
    ``LIBRARY_ONLY_MAPPING`` (then metarr cannot list the sets folder itself: Kodi's listing must do)."""
    import shutil

    work = real_kodi.workdir
    root, sets = work / "library", work / "sets"
    sets.mkdir(exist_ok=True)
    # The Matrix alone: Kodi's newest movie, which a refresh gives its own id back (docs/KODI-SOURCE.md (c)).
    shutil.copytree(demo_library / MATRIX, root / MATRIX)
    mapping = f'path_mappings = {{ "{root}" = "{root}" }}\n' if getattr(request.module, "LIBRARY_ONLY_MAPPING", False) \
        else ""
    settings = make_settings(work, sim, root=root, extra=(
        f'[publish]\nmovie_sets_folder = "{sets}"\n'
        f'[[players]]\ntype = "kodi"\nname = "{PLAYER}"\nurl = "{real_kodi.url}"\ntimeout_seconds = 10\n{mapping}'))
    store = Store(settings.database_path)
    enrich_all(settings, store)
    report = publish(settings, store)
    assert not report.failures and report.movie_sets is not None and not report.movie_sets.problems
    return Pipeline(settings, store, root, sets)


def kodi_set(kodi: RealKodi) -> dict[str, Any]:
    (movie_set,) = kodi.call("VideoLibrary.GetMovieSets")["sets"]
    return kodi.call("VideoLibrary.GetMovieSetDetails", {
        "setid": movie_set["setid"], "properties": ["title", "plot", "art"]})["setdetails"]


def image_path(url: str) -> str:
    from urllib.parse import unquote

    assert url.startswith("image://"), url
    return unquote(url[len("image://"):].rstrip("/"))


def test_a_sets_new_art_and_overview_reach_kodi_and_nothing_is_sent_twice(
        pipeline: Pipeline, real_kodi: RealKodi) -> None:
    methods = pipeline.deliver()  # publish queued "created": our notifier scans the Matrix into Kodi
    assert "VideoLibrary.Scan" in methods and "VideoLibrary.SetMovieSetDetails" not in methods  # nothing differs
    folder = pipeline.set_folder()
    first = kodi_set(real_kodi)
    overview = etree.fromstring((folder / "set.nfo").read_bytes()).findtext("overview")
    assert first["plot"] == overview and "clearlogo" not in first["art"]
    assert image_path(first["art"]["poster"]) == str(folder / "poster.jpg")

    # The set gains a clearlogo and a new overview (what a later publish writes: the file, set.nfo and every
    # movie NFO's <set><overview>), and the movie is republished.
    logo = io.BytesIO()
    Image.new("RGBA", (400, 155), (200, 30, 30, 255)).save(logo, "PNG")
    (folder / "clearlogo.png").write_bytes(logo.getvalue())
    new_overview = "A rewritten overview of the whole collection."
    for nfo in [folder / "set.nfo", *(pipeline.root / MATRIX).glob("*.nfo")]:
        text = nfo.read_text("utf-8")
        assert f"<overview>{overview}</overview>" in text, nfo
        nfo.write_text(text.replace(f"<overview>{overview}</overview>", f"<overview>{new_overview}</overview>"),
                       "utf-8")

    methods = pipeline.deliver("modified")
    assert "VideoLibrary.RefreshMovie" in methods and methods.count("VideoLibrary.SetMovieSetDetails") == 1
    second = kodi_set(real_kodi)
    assert second["plot"] == new_overview
    assert image_path(second["art"]["clearlogo"]) == str(folder / "clearlogo.png")
    assert {k: image_path(v) for k, v in second["art"].items() if k != "icon"} == {
        f.stem: str(f) for f in folder.iterdir() if f.suffix in (".jpg", ".png")}

    # Delivered again with nothing changed: Kodi is asked, and told nothing about the set.
    methods = pipeline.deliver("modified")
    assert "VideoLibrary.GetMovieSetDetails" in methods and "VideoLibrary.SetMovieSetDetails" not in methods
    third = kodi_set(real_kodi)
    assert (third["plot"], third["art"]) == (second["plot"], second["art"])
