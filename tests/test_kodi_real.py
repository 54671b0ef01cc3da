"""The published demo library, read by a real Kodi 20 (``metadata.local``), in both folder modes.

One headless Kodi for the module (tests/helpers/kodi_real.py) with two video sources holding the same
published library: ``default`` (useFolderNames 0) and ``folders`` (useFolderNames 1, "Movies are in
separate folders that match the movie title"). Kodi scans both once; each test then checks one thing we
promise (KODI.md) against what Kodi stored: every movie is there, every artwork file we wrote is Kodi's art
of that type, every actor we gave a headshot file has it as thumb, and every NFO field comes back equal.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from lxml import etree

from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.demo.library import DEMO_MOVIES, DemoMovie, generate_demo_library
from metarr_pipeline.models import UserState
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.naming import actor_file_name
from metarr_pipeline.publish.nfo import NfoInput, kodi_audio_codec, render_nfo
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.scan.probe import probe_file
from metarr_pipeline.scan.scan import scan_library
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.helpers.kodi_real import KodiProfile, RealKodi, Source
from tests.test_providers import KEYS, make_settings

pytestmark = pytest.mark.timeout(900)

MODES = {"default": False, "folders": True}  # source name → useFolderNames
IMAGE_SUFFIXES = {".jpg", ".png"}
PROPERTIES = ["file", "title", "originaltitle", "sorttitle", "plot", "plotoutline", "tagline", "mpaa", "runtime",
              "genre", "country", "studio", "tag", "director", "writer", "premiered", "year", "set", "userrating",
              "top250", "ratings", "uniqueid", "imdbnumber", "dateadded", "playcount", "lastplayed", "resume",
              "trailer", "cast", "art", "streamdetails"]


def kodi_profile(workdir: Path) -> KodiProfile:
    sources = [Source(workdir / "libraries" / mode, folders, mode) for mode, folders in MODES.items()]
    return KodiProfile(sources=[*sources, Source(workdir / "libraries" / "extras", False, "extras")])


@dataclass(frozen=True)
class Published:
    """One demo movie as we published it: where Kodi should find it and what we wrote for it."""

    demo: DemoMovie
    folder: Path

    @property
    def video(self) -> Path:
        """The file Kodi lists as the movie (a disc's index file)."""
        kind = self.demo.kind
        if kind == "dvd":
            return self.folder / "VIDEO_TS" / "VIDEO_TS.IFO"
        if kind == "bluray":
            return self.folder / "BDMV" / "index.bdmv"
        return self.folder / self.demo.main

    @property
    def nfo(self) -> Path:
        kind = self.demo.kind
        if kind == "dvd":
            return self.folder / "VIDEO_TS" / "VIDEO_TS.nfo"
        if kind == "bluray":
            return self.folder / "BDMV" / "index.nfo"
        return self.video.with_suffix(".nfo")

    @property
    def actors_dir(self) -> Path:
        return self.nfo.parent / ".actors"

    def art_files(self) -> dict[str, Path]:
        """Art type → the file we wrote: ``{basename}-{type}.ext`` for a file, bare ``{type}.ext`` for a disc."""
        prefix = "" if self.demo.kind in ("dvd", "bluray") else self.video.stem + "-"
        out = {}
        for f in self.folder.iterdir():
            if f.suffix.lower() in IMAGE_SUFFIXES and f.name.startswith(prefix):
                kind = f.stem[len(prefix):]
                if kind.isalnum():
                    out[kind.lower()] = f
        return out

    def tree(self) -> etree._Element:
        return etree.fromstring(self.nfo.read_bytes())


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


def publish_demo(root: Path, workdir: Path, sim: Simulator) -> None:
    """The pipeline as ``metarr demo`` runs it (scan, fetch, enrich, publish), against the simulator."""
    generate_demo_library(root)
    settings = make_settings(workdir, sim, root=root)
    store = Store(settings.database_path)
    with open_providers(settings, KEYS) as providers:
        scan_library(settings, store, resolver=providers.tmdb)
        fetch_metadata(settings, store, providers)
        enrich_movies(settings, store, providers)
        report = publish_movies(settings, store, providers)
    assert not report.failures, [(m.partition_key, m.error) for m in report.failures]


@pytest.fixture(scope="module")
def library(real_kodi: RealKodi, sim: Simulator) -> dict[str, list[Published]]:
    """Mode → the published movies in that source, after Kodi scanned every source once."""
    libraries = real_kodi.workdir / "libraries"
    state = real_kodi.workdir / "pipeline"
    state.mkdir()
    publish_demo(libraries / "default", state, sim)
    shutil.copytree(libraries / "default", libraries / "folders", symlinks=True)
    real_kodi.scan()
    out = {}
    for mode in MODES:
        published = [Published(d, libraries / mode / d.folder) for d in DEMO_MOVIES]
        out[mode] = [p for p in published if p.nfo.is_file()]
    assert len(out["default"]) >= 10, "the demo library should publish at least ten movies"
    return out


def kodi_movies(kodi: RealKodi, mode: str) -> dict[str, dict[str, Any]]:
    """Kodi's movies of one source, by file."""
    root = str(kodi.workdir / "libraries" / mode) + "/"
    movies = kodi.movies(PROPERTIES, {"field": "path", "operator": "startswith", "value": root})
    return {m["file"]: m for m in movies}


def image_path(url: str) -> str:
    """Kodi's ``image://<url-encoded path>/`` → the path."""
    assert url.startswith("image://"), url
    return unquote(url[len("image://"):].rstrip("/"))


@pytest.mark.parametrize("mode", MODES)
def test_every_published_movie_is_in_kodi(real_kodi: RealKodi, library: dict[str, list[Published]], mode: str) -> None:
    movies = kodi_movies(real_kodi, mode)
    expected = {str(p.video) for p in library[mode]}
    assert expected <= set(movies), sorted(expected - set(movies))
    assert len(movies) == len(expected), sorted(set(movies) - expected)  # no duplicates, nothing unpublished


@pytest.mark.parametrize("mode", MODES)
def test_every_art_file_we_wrote_is_kodis_art(real_kodi: RealKodi, library: dict[str, list[Published]], mode: str) -> None:
    movies = kodi_movies(real_kodi, mode)
    problems = []
    for p in library[mode]:
        art = movies[str(p.video)]["art"]
        ours = p.art_files()
        assert {"poster", "fanart"} <= set(ours), (p.folder.name, sorted(ours))
        for kind, path in sorted(ours.items()):
            if kind not in art:
                problems.append(f"{p.folder.name}: no {kind} in Kodi (we wrote {path.name})")
            elif image_path(art[kind]) != str(path):
                problems.append(f"{p.folder.name}: Kodi's {kind} is {image_path(art[kind])}, not {path}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("mode", MODES)
def test_actors_with_a_headshot_have_their_actors_file_as_thumb(
        real_kodi: RealKodi, library: dict[str, list[Published]], mode: str) -> None:
    movies = kodi_movies(real_kodi, mode)
    checked, problems = 0, []
    for p in library[mode]:
        files = {f.stem: f for f in p.actors_dir.iterdir()} if p.actors_dir.is_dir() else {}
        cast = {c["name"]: c for c in movies[str(p.video)]["cast"]}
        for name in (a.findtext("name") for a in p.tree().findall("actor")):
            ours = files.get(name.replace(" ", "_"))
            if ours is None:
                continue
            checked += 1
            thumb = cast.get(name, {}).get("thumbnail", "")
            # Kodi keeps one thumb per actor name for the library: the first movie scanned decides which file.
            if not thumb or not image_path(thumb).endswith(f"/.actors/{ours.name}"):
                problems.append(f"{p.folder.name}: {name!r} has thumb {thumb!r}, not {ours}")
    assert checked >= 20 and not problems, "\n".join(problems)


def _texts(nfo: etree._Element, tag: str) -> list[str]:
    return [e.text or "" for e in nfo.findall(tag)]


def nfo_expectations(nfo: etree._Element) -> dict[str, Any]:
    """What Kodi should report, per JSON-RPC property, for the fields our NFO holds."""
    want: dict[str, Any] = {}
    scalars = {"title": "title", "originaltitle": "originaltitle", "sorttitle": "sorttitle", "plot": "plot",
               "outline": "plotoutline", "tagline": "tagline", "mpaa": "mpaa", "premiered": "premiered",
               "trailer": "trailer", "dateadded": "dateadded", "lastplayed": "lastplayed"}
    for tag, prop in scalars.items():
        if nfo.find(tag) is not None:
            want[prop] = nfo.findtext(tag)
    lists = {"genre": "genre", "country": "country", "studio": "studio", "tag": "tag", "director": "director",
             "credits": "writer"}
    for tag, prop in lists.items():
        if nfo.find(tag) is not None:
            want[prop] = _texts(nfo, tag)
    for tag in ("year", "userrating", "top250", "playcount"):
        if nfo.find(tag) is not None:
            want[tag] = int(nfo.findtext(tag))
    if nfo.find("runtime") is not None:
        want["runtime"] = int(nfo.findtext("runtime")) * 60
    if nfo.find("set/name") is not None:
        want["set"] = nfo.findtext("set/name")
    if nfo.find("uniqueid") is not None:
        want["uniqueid"] = {u.get("type"): u.text for u in nfo.findall("uniqueid")}
        want["imdbnumber"] = next(u.text for u in nfo.findall("uniqueid") if u.get("default") == "true")
    if nfo.find("ratings") is not None:
        # Kodi normalises each rating to 0-10 (value / max * 10, CVideoInfoTag::ParseNative; KODI-SOURCE.md (d))
        want["ratings"] = {r.get("name"): {"default": r.get("default") == "true",
                                           "rating": pytest.approx(float(r.findtext("value")) * 10
                                                                   / float(r.get("max") or 10), abs=0.01),
                                           "votes": int(r.findtext("votes") or 0)}
                           for r in nfo.findall("ratings/rating")}
    if nfo.find("resume") is not None:
        want["resume"] = {"position": float(nfo.findtext("resume/position")),
                          "total": float(nfo.findtext("resume/total"))}
    want["cast"] = [{"name": a.findtext("name"), "role": a.findtext("role") or "", "order": int(a.findtext("order"))}
                    for a in nfo.findall("actor")]
    return want


def _probed_seconds(movie: dict[str, Any]) -> int | None:
    video = (movie.get("streamdetails") or {}).get("video") or []
    return video[0].get("duration") if video else None


@pytest.mark.parametrize("mode", MODES)
def test_nfo_fields_come_back_equal(real_kodi: RealKodi, library: dict[str, list[Published]], mode: str) -> None:
    movies = kodi_movies(real_kodi, mode)
    problems = []
    for p in library[mode]:
        movie = movies[str(p.video)]
        for prop, want in nfo_expectations(p.tree()).items():
            got = movie.get(prop)
            if prop == "cast":
                got = [{"name": c["name"], "role": c["role"], "order": c["order"]} for c in got]
            elif prop == "tag":  # Kodi lists tags in its database's order
                got, want = sorted(got), sorted(want)
            elif prop == "lastplayed":  # measured: Kodi 20.1 keeps only the date of an NFO's <lastplayed>
                got, want = (got or "")[:10], want[:10]
            elif prop == "runtime" and got == _probed_seconds(movie):
                continue  # Kodi probed the file: its runtime is the stream's (2 s demo videos), not the NFO's
            elif prop == "ratings":
                got = {k: {"default": v["default"], "rating": v["rating"], "votes": v["votes"]}
                       for k, v in got.items()}
            if got != want:
                problems.append(f"{p.folder.name}: {prop}: NFO {want!r}, Kodi {got!r}")
    assert not problems, "\n".join(problems)


# Kodi's actor thumb rule (CVideoInfoScanner::FetchActorThumbs; docs/KODI-SOURCE.md (a)) ----------------------

KODI_ACTOR_EXAMPLES = {  # name in the NFO → the .actors file Kodi matches (None: no file can match)
    "Keanu Reeves": "Keanu_Reeves.jpg",
    "Robert Downey Jr.": "Robert_Downey_Jr..jpg",  # the trailing dot stays: Kodi strips only ".jpg"
    "Zoë Kravitz": "Zoë_Kravitz.jpg",
    "Carrie-Anne Moss": "Carrie-Anne_Moss.jpg",
    " Mary  Ann\tLee ": "Mary__Ann\tLee.jpg",  # measured: Kodi trims the name's ends, keeps inner white space
    "Tom: Part?": "Tom:_Part?.jpg",  # legal on Linux, and Kodi compares the name as it is
    "AC/DC": None,  # a file name cannot hold "/"
    "back\\slash": None,  # Kodi splits file names on "\\" too
    ".hidden": None,  # Kodi does not list hidden files
    "..": None,
    "   ": None,
}


def test_actor_file_name_is_kodis_rule() -> None:
    for name, expected in KODI_ACTOR_EXAMPLES.items():
        assert actor_file_name(name, "jpg") == expected, name
    assert actor_file_name("x" * 300, "jpg") is None  # longer than a file name can be


def test_kodi_finds_every_actor_file_we_name(real_kodi: RealKodi, library: dict[str, list[Published]]) -> None:
    """A movie whose cast has Kodi's awkward names; each headshot file is named by actor_file_name."""
    source = library["default"][0]
    folder = real_kodi.workdir / "libraries" / "extras" / "Actors (2000)"
    (folder / ".actors").mkdir(parents=True)
    shutil.copy(source.video, folder / f"Actors (2000){source.video.suffix}")
    headshot = next(source.actors_dir.glob("*.jpg")).read_bytes()
    names = [n for n, f in KODI_ACTOR_EXAMPLES.items() if f]
    actors = "".join(f"<actor><name>{n.strip()}</name><order>{i}</order></actor>"  # trimmed, as nfo.py writes
                     for i, n in enumerate(names))
    (folder / "Actors (2000).nfo").write_text(
        f"<movie><title>Actors</title><premiered>2000-01-01</premiered>{actors}</movie>", "utf-8")
    for name in names:
        (folder / ".actors" / actor_file_name(name, "jpg")).write_bytes(headshot)
    real_kodi.scan(str(folder) + "/")
    movie = real_kodi.movies(["cast"], {"field": "path", "operator": "is", "value": str(folder) + "/"})
    assert len(movie) == 1, movie
    thumbs = {c["name"]: image_path(c["thumbnail"]) if c.get("thumbnail") else "" for c in movie[0]["cast"]}
    wrong = {n: thumbs.get(n.strip()) for n in names
             if thumbs.get(n.strip()) != str(folder / ".actors" / actor_file_name(n, "jpg"))}
    assert not wrong, (wrong, list(thumbs))


# <fileinfo> = what Kodi's own probe reports (docs/KODI-SOURCE.md (b)) ----------------------------------------

def nfo_streams_as_kodi(nfo: etree._Element) -> dict[str, list[tuple[Any, ...]]]:
    d = nfo.find("fileinfo/streamdetails")
    assert d is not None
    return {"video": [(v.findtext("codec"), int(v.findtext("width")), int(v.findtext("height")))
                      for v in d.findall("video")],
            "audio": [(a.findtext("codec"), int(a.findtext("channels") or 0), a.findtext("language") or "")
                      for a in d.findall("audio")],
            "subtitle": [s.findtext("language") or "" for s in d.findall("subtitle")]}


def kodi_streams(movie: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    d = movie["streamdetails"]
    return {"video": [(v["codec"], v["width"], v["height"]) for v in d["video"]],
            "audio": [(a["codec"], a["channels"], a["language"]) for a in d["audio"]],
            "subtitle": [s["language"] for s in d["subtitle"]]}


def test_kodi_audio_codec_names() -> None:
    """Kodi 20's CDVDDemuxFFmpeg::GetStreamCodecName: FFmpeg's names, DTS by profile."""
    assert [kodi_audio_codec(c) for c in ("aac", "ac3", "eac3", "truehd", "flac", "mp3", "opus")] == \
        ["aac", "ac3", "eac3", "truehd", "flac", "mp3", "opus"]
    assert kodi_audio_codec("dts") == "dca" and kodi_audio_codec("dts", "DTS-ES") == "dca"
    assert kodi_audio_codec("dts", "DTS-HD MA") == "dtshd_ma" and kodi_audio_codec("dts", "DTS-HD HRA") == "dtshd_hra"


def test_fileinfo_is_what_kodis_probe_reports(real_kodi: RealKodi, library: dict[str, list[Published]]) -> None:
    """Kodi probed every demo file (its default): our <fileinfo> must say what it says (external subtitles
    included, which Kodi's probe does not list)."""
    movies = kodi_movies(real_kodi, "default")
    wrong = {p.folder.name: (nfo_streams_as_kodi(p.tree()), kodi_streams(movies[str(p.video)]))
             for p in library["default"]
             if nfo_streams_as_kodi(p.tree()) != kodi_streams(movies[str(p.video)])}
    assert not wrong, wrong


def test_dts_is_written_with_kodis_codec_name(real_kodi: RealKodi, library: dict[str, list[Published]]) -> None:
    folder = real_kodi.workdir / "libraries" / "extras" / "DTS (2001)"
    folder.mkdir(parents=True)
    video = folder / "DTS (2001).mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=10", "-f", "lavfi",
                    "-i", "sine=frequency=440:sample_rate=48000", "-t", "2", "-c:v", "libx264", "-c:a", "dca",
                    "-strict", "-2", "-ac", "2", "-metadata:s:a:0", "language=eng", str(video)], check=True)
    nfo = render_nfo(NfoInput(fields={"title": "DTS", "premiered": "2001-01-01"}, streams=probe_file(video),
                              actors=(), user_state=UserState(), foreign_tags=()))
    (folder / "DTS (2001).nfo").write_bytes(nfo)
    real_kodi.scan(str(folder) + "/")
    movie = real_kodi.movies(["streamdetails"], {"field": "path", "operator": "is", "value": str(folder) + "/"})
    assert len(movie) == 1, movie
    assert kodi_streams(movie[0])["audio"] == [("dca", 2, "eng")]  # Kodi's name for (core) DTS
    assert nfo_streams_as_kodi(etree.fromstring(nfo))["audio"] == kodi_streams(movie[0])["audio"]
