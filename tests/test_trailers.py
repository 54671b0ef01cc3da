"""Trailers: TMDB's best YouTube trailer as the current add-on URL; none when Kodi has a local trailer file.

The end-to-end case runs scan → fetch → enrich → publish against the loopback simulator, whose catalog gives
every movie a fan upload larger than the official trailer, a teaser, a French and a Vimeo trailer; the demo
library's Se7en has a local ``-trailer`` file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from lxml import etree

from metarr_pipeline.metadata.trailers import YOUTUBE_URL, best_trailer, current_trailer_url
from metarr_pipeline.publish.trailer import local_trailer
from metarr_pipeline.scan.nfo import parse_nfo
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.simulator.videos import video_key
from metarr_pipeline.store import Store
from tests.test_providers import make_settings
from tests.test_publish import enrich_all, publish

MATRIX = "The Matrix (1999) {tmdb-603}"
SE7EN = "Se7en (1995) {tmdb-807}"


def _video(key: str, **kw: object) -> dict[str, object]:
    return {"key": key, "site": "YouTube", "type": "Trailer", "official": True, "iso_639_1": "en", "size": 1080,
            "published_at": "2020-01-01T00:00:00.000Z", **kw}


@pytest.mark.parametrize(("videos", "language", "expected"), [
    ([_video("fanUpload4K", official=False, size=2160), _video("officialTrl")], "en", "officialTrl"),
    ([_video("teaser00001", type="Teaser"), _video("smallTrailr", size=480)], "en", "smallTrailr"),
    ([_video("englishTrlr"), _video("frenchTrlr0", iso_639_1="fr", size=720)], "fr", "frenchTrlr0"),
    ([_video("germanTrlr0", iso_639_1="de", size=2160), _video("englishTrlr", size=720)], "fr", "englishTrlr"),
    ([_video("size0720trl", size=720), _video("size1080trl")], "en", "size1080trl"),
    ([_video("onlyTeaser0", type="Teaser")], "en", "onlyTeaser0"),
    ([_video("vimeo000001", site="Vimeo"), _video("featurette0", type="Featurette")], "en", None),
    ([_video("bad/key?x=1"), _video("short")], "en", None),
    ([], "en", None),
])
def test_best_trailer_official_then_language_then_size(videos, language, expected) -> None:
    url = best_trailer({"results": videos}, language)
    assert url == (YOUTUBE_URL + expected if expected else "")


def test_the_url_is_the_current_add_on_route() -> None:
    assert best_trailer({"results": [_video("dQw4w9WgXcQ")]}) == \
        "plugin://plugin.video.youtube/play/?video_id=dQw4w9WgXcQ"


def test_local_trailer_follows_kodis_names(tmp_path: Path) -> None:
    folder = tmp_path / "Movie (2000)"
    folder.mkdir()
    (folder / "Movie (2000).mkv").write_bytes(b"x")
    assert local_trailer(str(folder), "file", "Movie (2000)", "Movie (2000).mkv") is None
    (folder / "Movie (2000)-trailer.srt").write_bytes(b"x")  # not a video
    (folder / "Other-trailer.mkv").write_bytes(b"x")  # another name
    assert local_trailer(str(folder), "file", "Movie (2000)", "Movie (2000).mkv") is None
    (folder / "MOVIE-TRAILER.Mp4").write_bytes(b"x")  # Kodi compares case-insensitively
    assert local_trailer(str(folder), "file", "Movie (2000)", "Movie (2000).mkv") == "MOVIE-TRAILER.Mp4"
    assert local_trailer(str(folder), "dvd", "", "VIDEO_TS/VIDEO_TS.IFO") is None  # discs: never local


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


def test_simulator_filters_videos_by_language_like_tmdb(sim: Simulator) -> None:
    def languages(**params: str) -> set[str]:
        reply = httpx.get(f"{sim.tmdb_api_url}/movie/129", params={"api_key": "k", "append_to_response": "videos",
                                                                  **params})
        return {v["iso_639_1"] for v in reply.json()["videos"]["results"]}

    assert languages(language="en") == {"en"}
    assert languages(language="fr", include_video_language="fr,en,null") == {"fr", "en"}
    assert languages(language="en", include_video_language="ja") == {"ja"}  # Spirited Away's original trailer


def _trailer(root: Path, folder: str, basename: str) -> str | None:
    return etree.parse(str(root / folder / f"{basename}.nfo")).getroot().findtext("trailer")


def test_published_trailer_unless_a_local_one_exists(demo_library: Path, tmp_path: Path, sim: Simulator) -> None:
    root = tmp_path / "library"
    for name in (MATRIX, SE7EN):
        shutil.copytree(demo_library / name, root / name)
    assert (root / SE7EN / "Se7en (1995)-trailer.mkv").is_file()
    settings = make_settings(tmp_path, sim, root=root)
    store = Store(settings.database_path)
    enrich_all(settings, store)
    publish(settings, store)
    # The official 1080p English trailer, over the larger fan upload, the teaser and the Vimeo one.
    assert _trailer(root, MATRIX, MATRIX) == YOUTUBE_URL + video_key(0, 603, 2)
    assert _trailer(root, SE7EN, "Se7en (1995)") is None  # Kodi plays the local file itself

    (root / SE7EN / "Se7en (1995)-trailer.mkv").unlink()
    keys = [m.partition_key for m in store.movies() if m.folder.endswith(SE7EN)]
    publish(settings, store, keys)  # publishing it again (by its key) writes the URL now
    assert _trailer(root, SE7EN, "Se7en (1995)") == YOUTUBE_URL + video_key(0, 807, 2)


def test_the_old_add_on_route_is_rewritten_and_other_urls_kept() -> None:
    assert current_trailer_url("plugin://plugin.video.youtube/?action=play_video&videoid=dQw4w9WgXcQ") == \
        YOUTUBE_URL + "dQw4w9WgXcQ"
    assert current_trailer_url(" plugin://plugin.video.youtube/play/?video_id=dQw4w9WgXcQ ") == \
        YOUTUBE_URL + "dQw4w9WgXcQ"
    assert current_trailer_url("smb://nas/trailers/x.mkv") == "smb://nas/trailers/x.mkv"


def test_a_users_trailer_is_a_managed_field_not_a_foreign_tag() -> None:
    nfo = parse_nfo(b"<movie><title>X</title><trailer>plugin://plugin.video.youtube/?action=play_video&amp;"
                    b"videoid=dQw4w9WgXcQ</trailer></movie>", "x.nfo")
    assert nfo.fields["trailer"].endswith("videoid=dQw4w9WgXcQ")
    assert nfo.foreign_tags == ()  # carried as a field, so the published NFO has one <trailer>, not two


def test_a_locked_legacy_trailer_is_published_in_the_current_form(demo_library: Path, tmp_path: Path,
                                                                   sim: Simulator) -> None:
    root = tmp_path / "library"
    shutil.copytree(demo_library / MATRIX, root / MATRIX)
    legacy = "plugin://plugin.video.youtube/?action=play_video&amp;videoid=dQw4w9WgXcQ"
    (root / MATRIX / f"{MATRIX}.nfo").write_text(
        f"<movie><title>The Matrix</title><uniqueid type='tmdb' default='true'>603</uniqueid>"
        f"<trailer>{legacy}</trailer><lockdata>true</lockdata></movie>", encoding="utf-8")
    settings = make_settings(tmp_path, sim, root=root)
    store = Store(settings.database_path)
    enrich_all(settings, store)
    publish(settings, store)
    nfo = etree.parse(str(root / MATRIX / f"{MATRIX}.nfo")).getroot()
    assert [t.text for t in nfo.iter("trailer")] == [YOUTUBE_URL + "dQw4w9WgXcQ"]
