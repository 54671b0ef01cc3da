"""Issue 15's features read by a real Kodi 20.1: movie-set art and overview, ratings, certification, trailers.

One headless Kodi for the module (tests/helpers/kodi_real.py) whose ``guisettings.xml`` names the same
"Movie set information folder" (``videolibrary.moviesetsfolder``) as our ``[publish] movie_sets_folder``.
The demo library is published against the loopback simulator with every rating source (TMDB, the IMDb
dataset, OMDb) and IMDb's as the default, the certification ladder US → GB (Amélie has a US release without a
US rating), and trailers (Se7en has a local ``-trailer`` file). Kodi scans it once; each test then asks Kodi
over JSON-RPC what it stored and compares it with what we wrote. What Kodi does with each element is in
docs/KODI-SOURCE.md (d). Asserts do not depend on how many films the demo has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from lxml import etree

from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.artwork.sets import SET_ART_TYPES, enrich_collections
from metarr_pipeline.demo.library import generate_demo_library
from metarr_pipeline.metadata.trailers import YOUTUBE_URL
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.keys import ProviderKeys
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.movie_sets import kodi_set_folder_name
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.scan.scan import scan_library
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.simulator.known import KNOWN_MOVIES
from metarr_pipeline.simulator.ratings_api import critics, imdb_numbers
from metarr_pipeline.store import Store
from tests.helpers.kodi_real import KodiProfile, RealKodi, Source
from tests.test_providers import FANART_SECRET, SECRET, make_settings

pytestmark = pytest.mark.timeout(900)

KEYS = ProviderKeys(tmdb_api_key=SECRET, fanart_api_key=FANART_SECRET, omdb_api_key="omdb-kodi-test-0001")
DEFAULT_RATING = "imdb"  # not TMDB's (our writer's fallback), so the configured default is what is checked
LADDER = ("US", "GB")
MATRIX = "The Matrix (1999) {tmdb-603}"
AMELIE = "Amélie (2001)"
SE7EN = "Se7en (1995) {tmdb-807}"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
MOVIE_PROPERTIES = ["file", "title", "ratings", "mpaa", "trailer", "set", "setid"]


def kodi_profile(workdir: Path) -> KodiProfile:
    return KodiProfile(sources=[Source(workdir / "library", False, "library")], moviesets_folder=workdir / "sets")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"), api_key=None)) as s:
        yield s


@dataclass(frozen=True)
class Library:
    root: Path
    sets: Path

    def nfos(self) -> dict[str, etree._Element]:
        """Folder name → the NFO we published for its (non-disc) movie."""
        out = {}
        for nfo in sorted(self.root.glob("*/*.nfo")):
            out[nfo.parent.name] = etree.fromstring(nfo.read_bytes())
        return out

    def video(self, folder: str) -> str:
        nfo = next((self.root / folder).glob("*.nfo"))
        return str(next(f for f in nfo.parent.iterdir() if f.stem == nfo.stem and f.suffix != ".nfo"))


@pytest.fixture(scope="module")
def library(real_kodi: RealKodi, sim: Simulator) -> Library:
    """The demo library published with every issue-15 feature on, then scanned once by Kodi."""
    root, sets, state = (real_kodi.workdir / name for name in ("library", "sets", "pipeline"))
    sets.mkdir()
    state.mkdir()
    generate_demo_library(root)
    ladder = ", ".join(f'"{c}"' for c in LADDER)
    settings = make_settings(state, sim, root=root, extra=(
        f'[publish]\nmovie_sets_folder = "{sets}"\n'
        f'[metadata]\ncertification_countries = [{ladder}]\n'
        f'[ratings]\nsources = ["tmdb", "imdb_dataset", "omdb"]\ndefault = "{DEFAULT_RATING}"\n'
        f'imdb_dataset = "{sim.imdb_dataset_url}"\nomdb_url = "{sim.omdb_api_url}"\n'))
    store = Store(settings.database_path)
    with open_providers(settings, KEYS) as providers:
        scan_library(settings, store, resolver=providers.tmdb)
        fetch_metadata(settings, store, providers)
        enrich_movies(settings, store, providers)
        enrich_collections(settings, store, providers)
        report = publish_movies(settings, store, providers)
    assert not report.failures, [(m.partition_key, m.error) for m in report.failures]
    assert report.movie_sets is not None and not report.movie_sets.problems, report.movie_sets
    real_kodi.scan()
    return Library(root, sets)


def kodi_movies(kodi: RealKodi) -> dict[str, dict[str, Any]]:
    return {m["file"]: m for m in kodi.movies(MOVIE_PROPERTIES)}


def movie_details(kodi: RealKodi, library: Library, folder: str) -> dict[str, Any]:
    """``VideoLibrary.GetMovieDetails`` of the movie in ``folder`` (its id looked up by file)."""
    movie_id = kodi_movies(kodi)[library.video(folder)]["movieid"]
    return kodi.call("VideoLibrary.GetMovieDetails", {"movieid": movie_id,
                                                      "properties": MOVIE_PROPERTIES})["moviedetails"]


def image_path(url: str) -> str:
    """Kodi's ``image://<url-encoded path>/`` → the path."""
    assert url.startswith("image://"), url
    return unquote(url[len("image://"):].rstrip("/"))


# movie sets ------------------------------------------------------------------------------------------------

def test_every_set_we_published_has_our_art_and_overview_in_kodi(real_kodi: RealKodi, library: Library) -> None:
    kodi_sets = {s["label"]: s["setid"] for s in real_kodi.call("VideoLibrary.GetMovieSets")["sets"]}
    folders = sorted(f for f in library.sets.iterdir() if (f / "set.nfo").is_file())
    assert folders, f"no set published into {library.sets}"
    problems, checked, complete = [], 0, []
    for folder in folders:
        set_nfo = etree.fromstring((folder / "set.nfo").read_bytes())
        title, overview = set_nfo.findtext("title"), set_nfo.findtext("overview")
        assert folder.name == kodi_set_folder_name(title) and overview, (folder.name, title, overview)
        if title not in kodi_sets:
            problems.append(f"{title}: not a set in Kodi (Kodi has {sorted(kodi_sets)})")
            continue
        details = real_kodi.call("VideoLibrary.GetMovieSetDetails", {
            "setid": kodi_sets[title], "properties": ["title", "plot", "art"]})["setdetails"]
        if details["plot"] != overview:
            problems.append(f"{title}: Kodi's plot {details['plot']!r}, set.nfo's overview {overview!r}")
        ours = {f.stem.lower(): f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES}
        if not {"poster", "fanart"} <= set(ours):
            problems.append(f"{title}: we wrote only {sorted(ours)}")
        if set(SET_ART_TYPES) <= set(ours):
            complete.append(title)
        for kind, path in sorted(ours.items()):  # every type we write, today's and those to come
            checked += 1
            got = details["art"].get(kind)
            if got is None or image_path(got) != str(path):
                problems.append(f"{title}: Kodi's {kind} art is {got!r}, not our {path}")
    assert not problems and checked, "\n".join(problems)
    assert complete, f"no set got every type of art ({SET_ART_TYPES}) from the sets' stage"


def test_the_movie_nfo_carries_the_set_overview_kodi_20_reads(library: Library) -> None:
    """Kodi 20 reads no set.nfo: a set's plot comes from the <set><overview> of its first movie scanned."""
    sets = {f.name: etree.fromstring((f / "set.nfo").read_bytes()) for f in library.sets.iterdir()
            if (f / "set.nfo").is_file()}
    members = [nfo for nfo in library.nfos().values() if nfo.find("set/name") is not None]
    assert members
    for nfo in members:
        set_nfo = sets[kodi_set_folder_name(nfo.findtext("set/name"))]
        assert nfo.findtext("set/overview") == set_nfo.findtext("overview")
        assert nfo.find("set").get("tmdbcolid") == set_nfo.findtext("uniqueid[@type='tmdb']")


# ratings ---------------------------------------------------------------------------------------------------

def kodi_rating(nfo_rating: etree._Element) -> dict[str, Any]:
    """What Kodi stores for one NFO <rating>: the value normalised to 0-10 (``value / max * 10``)."""
    scale = float(nfo_rating.get("max") or 10)
    return {"rating": pytest.approx(float(nfo_rating.findtext("value")) / scale * 10, abs=0.01),
            "votes": int(nfo_rating.findtext("votes") or 0), "default": nfo_rating.get("default") == "true"}


def test_ratings_come_back_from_kodi_with_every_source_and_our_default(real_kodi: RealKodi,
                                                                       library: Library) -> None:
    movies = kodi_movies(real_kodi)
    problems = []
    for folder, nfo in library.nfos().items():
        want = {r.get("name"): kodi_rating(r) for r in nfo.iterfind("ratings/rating")}
        got = movies[library.video(folder)]["ratings"]
        if got != want:
            problems.append(f"{folder}: NFO {want}, Kodi {got}")
        if want and [n for n, r in got.items() if r["default"]] != [DEFAULT_RATING]:
            problems.append(f"{folder}: Kodi's default rating is not {DEFAULT_RATING}: {got}")
    assert not problems, "\n".join(problems)

    matrix = movie_details(real_kodi, library, MATRIX)["ratings"]
    imdb, votes = imdb_numbers("tt0133093")
    tomatometer, metascore = critics("tt0133093")
    spec = next(m for m in KNOWN_MOVIES if m.id == 603)
    assert matrix == {
        "themoviedb": {"rating": pytest.approx(spec.vote_average), "votes": spec.vote_count, "default": False},
        "imdb": {"rating": pytest.approx(imdb), "votes": votes, "default": True},
        "tomatometerallcritics": {"rating": pytest.approx(tomatometer / 10), "votes": 0, "default": False},
        "metacritic": {"rating": pytest.approx(metascore / 10), "votes": 0, "default": False},
    }


# certification ---------------------------------------------------------------------------------------------

def test_mpaa_follows_the_country_ladder(real_kodi: RealKodi, library: Library) -> None:
    movies = kodi_movies(real_kodi)
    assert movie_details(real_kodi, library, AMELIE)["mpaa"] == "UK:15"  # no US rating: the ladder's next country, GB
    assert movie_details(real_kodi, library, MATRIX)["mpaa"] == "Rated R"  # the first country, in Kodi's scraper form
    wrong = {folder: (nfo.findtext("mpaa"), movies[library.video(folder)]["mpaa"])
             for folder, nfo in library.nfos().items()
             if (nfo.findtext("mpaa") or "") != movies[library.video(folder)]["mpaa"]}
    assert not wrong, wrong


# trailers --------------------------------------------------------------------------------------------------

def test_the_trailer_url_round_trips_and_a_local_trailer_is_kodis_own(real_kodi: RealKodi,
                                                                      library: Library) -> None:
    movies = kodi_movies(real_kodi)
    nfos = library.nfos()
    written = nfos[MATRIX].findtext("trailer")
    assert written and written.startswith(YOUTUBE_URL) and len(written) == len(YOUTUBE_URL) + 11, written
    matrix = movie_details(real_kodi, library, MATRIX)
    assert matrix["trailer"] == written
    assert matrix["set"] == nfos[MATRIX].findtext("set/name") and matrix["setid"] > 0
    # Se7en has "Se7en (1995)-trailer.mkv": we write no <trailer> and Kodi stores the file (FindTrailer).
    assert nfos[SE7EN].find("trailer") is None
    assert movie_details(real_kodi, library, SE7EN)["trailer"] == str(library.root / SE7EN / "Se7en (1995)-trailer.mkv")
    wrong = {folder: (nfo.findtext("trailer"), movies[library.video(folder)]["trailer"])
             for folder, nfo in nfos.items()
             if nfo.find("trailer") is not None and nfo.findtext("trailer") != movies[library.video(folder)]["trailer"]}
    assert not wrong, wrong
