"""The review page: the library's states and filters from the state store, steering art with a click, the
same-origin and token checks, the password rule for network addresses, and publishing without Dagster."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import polars as pl
import pytest
from starlette.testclient import TestClient

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import ConfigError
from metarr_pipeline.review.app import ReviewApp
from metarr_pipeline.review.dagster_api import stretches
from metarr_pipeline.review.library import library_page
from metarr_pipeline.review.movie import movie_view
from metarr_pipeline.review.server import review_password
from metarr_pipeline.store import Store
from tests.helpers.review_state import UNPUBLISHED, build_review_state

NO_DAGSTER = "http://127.0.0.1:9"  # discard port: nothing answers


@pytest.fixture(scope="module")
def state(demo_library: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_review_state(demo_library, tmp_path_factory.mktemp("review"))


@pytest.fixture
def client(state: Settings):
    app = ReviewApp(state, NO_DAGSTER)
    with TestClient(app.asgi(), base_url="http://127.0.0.1:8300") as c:
        c.app_state = app  # type: ignore[attr-defined]
        yield c


def test_library_counts_states_and_filters(state: Settings) -> None:
    store = Store(state.database_path)
    page = library_page(state, store)
    assert page.counts["all"] == 13 and page.counts["unidentified"] == 1
    assert page.counts["needs_review"] == 3 and page.counts["published"] == 9
    review = library_page(state, store, state="needs_review")
    assert sorted(r.partition_key for r in review.rows) == sorted(UNPUBLISHED)
    assert all(r.state == "needs_review" and r.poster_candidate for r in review.rows)
    found = library_page(state, store, search="matr")
    assert [r.title for r in found.rows] == ["The Matrix"] and found.matching == 1
    odd = library_page(state, store, search="50%_\\")  # LIKE wildcards are plain text
    assert odd.matching == 0
    unidentified = library_page(state, store, state="unidentified").rows[0]
    assert unidentified.partition_key is None and "TMDB" in unidentified.reason


def test_library_page_renders_a_poster_grid_with_filters(client: TestClient) -> None:
    page = client.get("/?state=needs_review")
    assert page.status_code == 200
    assert page.text.count('class="card state-needs_review"') == 3
    assert 'data-state="needs_review"' in page.text and "Needs review <b>3</b>" in page.text
    poster = client.get(page.text.split('src="')[1].split('"')[0].replace("&amp;", "&"))
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"


def test_movie_page_shows_candidates_with_real_file_names(state: Settings, client: TestClient) -> None:
    store = Store(state.database_path)
    movie = store.movie_by_partition("the-matrix-1999-tmdb603")
    view = movie_view(state, store, movie)
    poster = next(t for t in view.types if t.name == "poster")
    names = [c.file_name for c in poster.chosen]
    assert names == ["The Matrix (1999) {tmdb-603}-poster.jpg", "The Matrix (1999) {tmdb-603}-poster1.jpg"]
    assert all(len(c.parts) == 5 for c in poster.candidates)
    page = client.get(f"/movie/{movie.id}")
    assert page.status_code == 200 and "{tmdb-603}-poster1.jpg" in page.text
    assert any(f.name == "title" and f.value == "The Matrix" for f in view.nfo) and not view.nfo_published
    linked = client.get("/key/the-matrix-1999-tmdb603", follow_redirects=False)  # the Dagster UI's links
    assert linked.status_code == 303 and linked.headers["location"] == f"/movie/{movie.id}"
    assert client.get("/key/no-such-movie").status_code == 404


def test_pick_needs_same_origin_and_token_then_changes_the_winner(state: Settings, client: TestClient) -> None:
    store = Store(state.database_path)
    movie = store.movie_by_partition("heat-1995-tmdb949")
    before = movie_view(state, store, movie)
    poster = next(t for t in before.types if t.name == "poster")
    winner = poster.chosen[0].candidate_id
    other = next(c.candidate_id for c in poster.candidates if not c.selected_rank and not c.gate)
    token = client.app_state.token  # type: ignore[attr-defined]
    form = {"token": token, "action": "pick", "type": "poster", "candidate": other}
    refused = client.post(f"/movie/{movie.id}/art", data=form, headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403
    stale = client.post(f"/movie/{movie.id}/art", data=form | {"token": "x"},
                        headers={"Origin": "http://127.0.0.1:8300"})
    assert stale.status_code == 403
    chosen = [c for c in movie_view(state, store, movie).types[0].chosen]
    assert chosen[0].candidate_id == winner  # nothing changed by the refused requests
    done = client.post(f"/movie/{movie.id}/art", data=form, headers={"Origin": "http://127.0.0.1:8300"},
                       follow_redirects=False)
    assert done.status_code == 303 and "selection%20updated" in done.headers["location"]
    after = next(t for t in movie_view(state, store, movie).types if t.name == "poster")
    assert after.chosen[0].candidate_id == other and after.locked and after.chosen[0].picked


def test_publish_without_dagster_says_so_and_publishes_nothing(state: Settings, client: TestClient) -> None:
    token = client.app_state.token  # type: ignore[attr-defined]
    page = client.post("/publish", data={"token": token, "key": "se7en-1995-tmdb807", "which": "selected"},
                       headers={"Origin": "http://127.0.0.1:8300"})
    assert page.status_code == 409
    assert "No Dagster webserver answers" in page.text and NO_DAGSTER in page.text
    assert library_page(state, Store(state.database_path), search="se7en").rows[0].state == "needs_review"


def test_network_host_needs_a_password_and_then_asks_for_it(state: Settings) -> None:
    with pytest.raises(ConfigError, match="METARR_REVIEW_PASSWORD"):
        review_password("0.0.0.0", {})
    assert review_password("127.0.0.1", {}) is None and review_password("::1", {}) is None
    password = review_password("0.0.0.0", {"METARR_REVIEW_PASSWORD": "s3cret"})
    with TestClient(ReviewApp(state, NO_DAGSTER, password, bind_host="0.0.0.0").asgi()) as c:
        assert c.get("/").status_code == 401
        wrong = base64.b64encode(b"me:nope").decode()
        assert c.get("/", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
        right = base64.b64encode(b"me:s3cret").decode()
        assert c.get("/", headers={"Authorization": f"Basic {right}"}).status_code == 200


def test_bound_to_loopback_it_answers_only_loopback_host_names(state: Settings) -> None:
    """A page on a rebound name (evil.example → 127.0.0.1) gets nothing, so it never sees the form token."""
    with TestClient(ReviewApp(state, NO_DAGSTER).asgi(), base_url="http://evil.example:8300") as c:
        page = c.get("/")
        assert page.status_code == 400 and "token" not in page.text
    for base in ("http://localhost:8300", "http://[::1]:8300", "http://127.0.0.1"):
        with TestClient(ReviewApp(state, NO_DAGSTER).asgi(), base_url=base) as c:
            assert c.get("/").status_code == 200, base


def test_publish_runs_cover_only_adjacent_chosen_movies() -> None:
    order = list("abcdefg")
    assert stretches(order, list("bcdf")) == [("b", "d", 3), ("f", "f", 1)]
    assert stretches(order, ["g", "a"]) == [("a", "a", 1), ("g", "g", 1)]
    assert stretches(order, []) == []


def test_the_review_page_speaks_the_dagster_projects_tags() -> None:
    from dagster_project import run_tags
    from metarr_pipeline.review import dagster_api

    assert (dagster_api.RANGE_START, dagster_api.RANGE_END) == (run_tags.RANGE_START, run_tags.RANGE_END)
    assert (dagster_api.TRIGGER_TAG, dagster_api.TRIGGER) == (run_tags.TRIGGER_TAG, run_tags.REVIEW_PAGE)
    assert dagster_api.TRIGGER not in run_tags.AUTOMATIC_TRIGGERS  # a person's choice is published as asked


def test_the_benchmark_state_has_movies_in_every_state(tmp_path: Path) -> None:
    """``python -m bench.review_page`` measures the library page on a state holding every kind of movie."""
    from bench.review_page import generate
    from metarr_pipeline.config import load_settings
    from metarr_pipeline.store.review import STATES

    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f'[data]\ndir = "{tmp_path / "state"}"\n[providers]\nmode = "simulator"\n', encoding="utf-8")
    generate(cfg, 1000)
    settings = load_settings(cfg, check_roots=False)
    page = library_page(settings, Store(settings.database_path))
    assert page.counts["all"] == 1000 and page.pages == 17 and len(page.rows) == 60
    assert all(page.counts[s] > 0 for s in (*STATES, "manual")), page.counts


def test_identify_by_hand_from_search_candidates_or_an_id(state: Settings, client: TestClient) -> None:
    store = Store(state.database_path)
    home_video = next(m for m in store.movies() if m.status != "identified")
    assert client.get(f"/movie/{home_video.id}", follow_redirects=False).headers["location"].endswith("/identify")
    search = client.get(f"/movie/{home_video.id}/identify", params={"q": "Heat", "year": "1995"})
    assert search.status_code == 200 and "tmdb 949" in search.text
    poster = search.text.split('src="/search-poster?u=')[1].split('"')[0]
    image = client.get("/search-poster?u=" + poster.replace("&amp;", "&"))
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert client.get("/search-poster", params={"u": "http://169.254.169.254/x"}).status_code == 400

    token = client.app_state.token  # type: ignore[attr-defined]
    origin = {"Origin": "http://127.0.0.1:8300"}
    bad = client.post(f"/movie/{home_video.id}/identify", data={"token": token, "tmdb_id": "abc"}, headers=origin)
    assert bad.status_code == 200 and "neither a TMDB id" in bad.text
    assert store.movie_by_id(home_video.id).status != "identified"
    done = client.post(f"/movie/{home_video.id}/identify", data={"token": token, "tmdb_id": "tt0113277"},
                       headers=origin, follow_redirects=False)  # Heat's IMDb id
    assert done.status_code == 303 and "identified%20as%20heat-1995-tmdb949-2" in done.headers["location"]
    movie = store.movie_by_id(home_video.id)
    assert (movie.status, movie.tmdb_id, movie.id_source) == ("identified", 949, "manual")
    row = library_page(state, store, search=movie.partition_key).rows[0]
    assert row.state == "needs_review" and row.poster_candidate  # fetched and enriched at once

    from metarr_pipeline.scan.scan import scan_library

    scan_library(state, store, resolver=None)  # a later scan keeps the identification (no search needed)
    again = store.movie_by_id(home_video.id)
    assert (again.status, again.tmdb_id, again.partition_key) == ("identified", 949, movie.partition_key)


def test_the_demo_library_carries_every_hostile_case_through(state: Settings) -> None:
    """The simulator's hostile cases, each on a demo film, come out right after scan, enrich and publish:
    a folder only an alternative title finds, a poster smaller than declared, a PNG named ``.jpg``, a locked cast."""
    from lxml import etree

    from metarr_pipeline.artwork.candidates import candidate_id
    from metarr_pipeline.simulator import Catalog

    store = Store(state.database_path)
    root = state.library.roots[0]
    catalog = Catalog(seed=0)

    def planted_poster(tmdb_id: int, **wanted: object) -> str:
        movie = catalog.movie(tmdb_id)
        assert movie is not None
        image = next(i for i in movie.images if i.kind == "poster"
                     and all(getattr(i, k) == v for k, v in wanted.items()))
        return candidate_id("tmdb", f"https://image.tmdb.org/t/p/original{image.path}")

    # "Kimi no Na wa (2016)": identified through the alternative title, published under TMDB's title.
    kimi = store.movie_by_partition("kimi-no-na-wa-2016-tmdb372058")
    assert kimi is not None and (kimi.status, kimi.tmdb_id) == ("identified", 372058)  # a rescan reads the NFO
    folder = root / "Kimi no Na wa (2016)"
    nfo = etree.fromstring((folder / "Kimi no Na wa (2016).nfo").read_bytes(), etree.XMLParser(recover=False))
    assert nfo.findtext("title") == "Your Name." and nfo.findtext("originaltitle") == "君の名は。"
    assert nfo.findtext("uniqueid[@type='tmdb']") == "372058"
    assert list(folder.glob("Kimi no Na wa (2016)-poster.*"))

    # Schindler's List: the poster declared 2000×3000 is 1000×1500, and loses on its real pixels.
    schindler = store.movie_by_partition("schindler-s-list-1993-tmdb424")
    posters = store.artwork_candidates([schindler.id]).filter(pl.col("type") == "poster")
    liar = posters.filter(pl.col("candidate_id") == planted_poster(424, served_size=(1000, 1500))).row(0, named=True)
    assert (liar["width"], liar["height"]) == (1000, 1500) and liar["selected_rank"] != 1
    winner = posters.filter(pl.col("selected_rank") == 1).row(0, named=True)
    assert winner["width"] * winner["height"] > 1000 * 1500
    published = next((root / "Schindler's List (1993)").glob("Schindler's List (1993)-poster.*"))
    assert hashlib.sha256(published.read_bytes()).hexdigest() == winner["blob_sha"]

    # Se7en: the PNG served under a .jpg name is stored as the PNG it is.
    se7en = store.movie_by_partition("se7en-1995-tmdb807")
    misnamed = store.artwork_candidates([se7en.id]).filter(
        pl.col("candidate_id") == planted_poster(807, served_format="PNG")).row(0, named=True)
    assert misnamed["url"].endswith(".jpg") and misnamed["blob_sha"]
    assert store.blob_rows([misnamed["blob_sha"]])[misnamed["blob_sha"]].ext == "png"

    # Amélie: the user's NFO locks the cast (Jellyfin <lockedfields>Cast); the published NFO keeps theirs.
    amelie = etree.fromstring((root / "Amélie (2001)" / "Amélie (2001).nfo").read_bytes())
    assert [(a.findtext("name"), a.findtext("role")) for a in amelie.findall("actor")] == [
        ("Audrey Tautou", "Amélie"), ("Dominique Pinon", "Joseph")]
