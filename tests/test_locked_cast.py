"""A locked cast (``<lockdata>``, Jellyfin ``Cast`` in ``<lockedfields>``) survives enrichment and is published.

A real folder with a real video and the user's NFO, scanned, fetched from the loopback simulator, enriched and
published; the published NFO holds the user's actors, in their order, and not TMDB's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.demo.media import write_video
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.scan.scan import scan_library
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_orchestration import SMALL
from tests.test_providers import KEYS, make_settings

USER_CAST = """
    <actor><name>Carrie-Anne Moss</name><role>The One</role><order>0</order></actor>
    <actor><name>Jane Nobody</name><role>Extra</role><order>1</order></actor>
"""


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("simcache"))) as s:
        yield s


@pytest.mark.parametrize("lock", ["<lockdata>true</lockdata>", "<lockedfields>Name|Cast</lockedfields>",
                                  "<lockedfields>Actors</lockedfields>"])
def test_a_locked_cast_is_kept_and_published(tmp_path: Path, sim: Simulator, lock: str) -> None:
    root = tmp_path / "lib"
    folder = root / "The Matrix (1999)"
    folder.mkdir(parents=True)
    write_video(folder / "The Matrix (1999).mkv", seconds=0.5)
    (folder / "The Matrix (1999).nfo").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<movie><title>The Matrix</title>'
        f'<uniqueid type="tmdb" default="true">603</uniqueid>{lock}{USER_CAST}</movie>\n', encoding="utf-8")
    settings = make_settings(tmp_path, sim, root=root, extra=SMALL.replace("max_actors = 2", "max_actors = 5"))
    store = Store(settings.database_path)
    scan_library(settings, store)
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers)
        enriched = enrich_movies(settings, store, providers)
        assert not enriched.failures
        report = publish_movies(settings, store, providers)
    assert not report.failures
    movie = store.movies()[0]
    assert [(a["name"], a["role"]) for a in store.movie_actors([movie.id])[movie.id]] == [
        ("Carrie-Anne Moss", "The One"), ("Jane Nobody", "Extra")]
    nfo = etree.fromstring((folder / "The Matrix (1999).nfo").read_bytes())
    actors = [(a.findtext("name"), a.findtext("role"), a.findtext("order")) for a in nfo.findall("actor")]
    assert actors == [("Carrie-Anne Moss", "The One", "0"), ("Jane Nobody", "Extra", "1")]
    # The matched actor still gets TMDB's headshot; the unknown one has none (and nobody else's).
    thumbs = [p.name for p in (folder / ".actors").iterdir()]
    assert len(thumbs) == 1 and thumbs[0].startswith("Carrie-Anne"), thumbs


def test_an_unlocked_cast_comes_from_tmdb(tmp_path: Path, sim: Simulator) -> None:
    root = tmp_path / "lib"
    folder = root / "The Matrix (1999)"
    folder.mkdir(parents=True)
    write_video(folder / "The Matrix (1999).mkv", seconds=0.5)
    (folder / "The Matrix (1999).nfo").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<movie><title>The Matrix</title>'
        f'<uniqueid type="tmdb" default="true">603</uniqueid><lockedfields>Name</lockedfields>{USER_CAST}</movie>\n',
        encoding="utf-8")
    settings = make_settings(tmp_path, sim, root=root, extra=SMALL)
    store = Store(settings.database_path)
    scan_library(settings, store)
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers)
        enrich_movies(settings, store, providers)
    movie = store.movies()[0]
    assert store.movie_actors([movie.id])[movie.id][0]["name"] == "Keanu Reeves"
