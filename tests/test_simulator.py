"""The provider simulator: the TMDB v3 / fanart.tv v3 contract the real clients are written against, the
catalog's planted variety and near-duplicates, and the knobs (limits, faults, log).

Every test talks HTTP over loopback with httpx, as the clients will.
"""

from __future__ import annotations

import io
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import imagehash
import pytest
from PIL import Image

from metarr_pipeline.simulator import Catalog, Faults, RequestRecord, Simulator, SimulatorConfig, tmdb_json
from metarr_pipeline.simulator.cli import run_cli
from metarr_pipeline.simulator.images import render
from metarr_pipeline.simulator.variety import generated_traits

KEY = {"api_key": "test-key"}
APPEND = "images,credits,release_dates,external_ids,keywords"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """One unlimited simulator for the contract tests (knob tests start their own)."""
    config = SimulatorConfig(rate_limit={}, image_cache_dir=tmp_path_factory.mktemp("sim-cache"))
    with Simulator(config) as simulator:
        yield simulator


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _movie(sim: Simulator, client: httpx.Client, movie_id: int, **params: str) -> httpx.Response:
    return client.get(f"{sim.tmdb_api_url}/movie/{movie_id}", params={**KEY, **params})


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# -- TMDB API -----------------------------------------------------------------------------------------------

def test_configuration_points_at_the_image_host(sim: Simulator, client: httpx.Client) -> None:
    response = client.get(f"{sim.tmdb_api_url}/configuration", params=KEY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    images = response.json()["images"]
    assert images["base_url"] == images["secure_base_url"] == f"http://{sim.hosts['tmdb_images']}/t/p/"
    assert images["poster_sizes"] == ["w92", "w154", "w185", "w342", "w500", "w780", "original"]
    assert images["backdrop_sizes"] == ["w300", "w780", "w1280", "original"]
    assert "h632" in images["profile_sizes"] and "w300" in images["logo_sizes"]
    assert response.json()["change_keys"] == []


def test_movie_with_every_appended_section_uses_tmdb_field_names(sim: Simulator, client: httpx.Client) -> None:
    data = _movie(sim, client, 603, append_to_response=APPEND, language="en-US",
                  include_image_language="en,null").json()
    assert {"id", "imdb_id", "title", "original_title", "original_language", "overview", "tagline", "runtime",
            "release_date", "status", "vote_average", "vote_count", "popularity", "genres", "production_companies",
            "production_countries", "spoken_languages", "belongs_to_collection", "poster_path",
            "backdrop_path"} <= set(data)
    assert (data["id"], data["imdb_id"], data["title"], data["release_date"]) == (603, "tt0133093", "The Matrix",
                                                                                  "1999-03-30")
    assert data["belongs_to_collection"]["id"] == 2344
    assert set(data["belongs_to_collection"]) == {"id", "name", "poster_path", "backdrop_path"}
    assert {"id": 878, "name": "Science Fiction"} in data["genres"]
    assert set(data["production_companies"][0]) == {"id", "name", "logo_path", "origin_country"}
    assert set(data["production_countries"][0]) == {"iso_3166_1", "name"}

    images = data["images"]
    assert set(images) == {"posters", "backdrops", "logos"}
    assert 5 <= len(images["posters"]) <= 20 and len(images["backdrops"]) >= 5 and images["logos"]
    assert set(images["posters"][0]) == {"file_path", "width", "height", "aspect_ratio", "iso_639_1",
                                         "vote_average", "vote_count"}
    assert images["posters"][0]["file_path"].startswith("/") and images["posters"][0]["file_path"].endswith(".jpg")
    assert all(logo["file_path"].endswith(".png") for logo in images["logos"])

    cast, crew = data["credits"]["cast"], data["credits"]["crew"]
    assert {"id", "name", "original_name", "character", "order", "profile_path", "credit_id",
            "known_for_department", "gender"} <= set(cast[0])
    assert cast[0]["name"] == "Keanu Reeves" and cast[0]["order"] == 0
    assert {"id", "name", "job", "department", "profile_path", "credit_id"} <= set(crew[0])
    assert {c["name"] for c in crew if c["job"] == "Director"} == {"Lana Wachowski", "Lilly Wachowski"}

    us = next(r for r in data["release_dates"]["results"] if r["iso_3166_1"] == "US")
    assert {"certification": "R", "type": 3}.items() <= us["release_dates"][1].items()
    assert set(us["release_dates"][0]) >= {"certification", "type", "release_date", "iso_639_1", "note"}
    assert data["external_ids"]["imdb_id"] == "tt0133093"
    assert set(data["external_ids"]) >= {"imdb_id", "wikidata_id", "facebook_id", "instagram_id", "twitter_id"}
    assert isinstance(data["keywords"]["keywords"], list)


def test_include_image_language_decides_about_textless_images(sim: Simulator, client: httpx.Client) -> None:
    def languages(**params: str) -> set[str | None]:
        images = _movie(sim, client, 603, append_to_response="images", **params).json()["images"]
        return {i["iso_639_1"] for kind in ("posters", "backdrops") for i in images[kind]}

    assert languages(language="en", include_image_language="en,null") == {"en", None}
    assert None not in languages(language="en", include_image_language="en,fr")
    assert languages(language="fr-FR", include_image_language="fr,en,null") == {"fr", "en", None}
    assert languages(language="en") == {"en"}  # forgetting the parameter loses textless images, as on TMDB


def test_language_selects_the_translation(sim: Simulator, client: httpx.Client) -> None:
    english = _movie(sim, client, 194, language="en-US").json()
    french = _movie(sim, client, 194, language="fr-FR").json()
    assert english["title"] == "Amélie"
    assert french["title"] == "Le Fabuleux Destin d'Amélie Poulain"
    assert english["original_title"] == french["original_title"] == "Le Fabuleux Destin d'Amélie Poulain"
    assert english["original_language"] == "fr" and english["overview"] != french["overview"]
    assert _movie(sim, client, 194, language="de").json()["title"] == "Amélie"  # no German: English
    assert _movie(sim, client, 129, language="ja").json()["title"] == "千と千尋の神隠し"


def test_an_edited_movie_is_served_changed_even_after_a_cached_answer(tmp_path: Path, client: httpx.Client) -> None:
    """Provider data changes upstream (a refresh must see it): the edit wins over the cached answer."""
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path)) as sim:
        before = _movie(sim, client, 194, language="en-US").json()
        assert before["title"] == "Amélie"
        sim.catalog.edit_movie(194, title="Amélie, Restored", tagline="New tagline")
        after = _movie(sim, client, 194, language="en-US").json()
        assert (after["title"], after["tagline"]) == ("Amélie, Restored", "New tagline")
        assert {k: v for k, v in after.items() if k not in ("title", "tagline")} == \
            {k: v for k, v in before.items() if k not in ("title", "tagline")}
        assert _movie(sim, client, 194, language="fr-FR").json()["title"] == "Le Fabuleux Destin d'Amélie Poulain"
        with pytest.raises(KeyError, match="no movie 997"):
            sim.catalog.edit_movie(997, title="x")
        with pytest.raises(TypeError):
            sim.catalog.edit_movie(194, colour="red")
        assert sim.catalog.movie(194).title == "Amélie, Restored"  # a failed edit changed nothing


@pytest.mark.parametrize("movie_id", [997, 9_999_999, 10_000_000, 0])
def test_unknown_and_removed_ids_are_404(sim: Simulator, client: httpx.Client, movie_id: int) -> None:
    response = _movie(sim, client, movie_id)
    assert response.status_code == 404
    assert response.json() == {"status_code": 34, "status_message": "The resource you requested could not be found.",
                               "success": False}


def test_merged_id_redirects_to_the_new_one(sim: Simulator, client: httpx.Client) -> None:
    response = _movie(sim, client, 9_000_001, language="en-US", append_to_response="credits")
    assert response.status_code == 301
    assert response.headers["location"].startswith("/3/movie/603?")
    assert "append_to_response=credits" in response.headers["location"]
    followed = client.get(f"{sim.tmdb_api_url}/movie/9000001", params={**KEY, "append_to_response": "credits"},
                          follow_redirects=True)
    assert followed.status_code == 200 and followed.json()["id"] == 603 and "credits" in followed.json()
    assert followed.url.path == "/3/movie/603"


def test_auth_rejects_missing_and_wrong_keys() -> None:
    with Simulator(SimulatorConfig(api_key="s3cret", rate_limit={})) as sim, httpx.Client() as client:
        url = f"{sim.tmdb_api_url}/movie/603"
        expected = {"status_code": 7, "status_message": "Invalid API key: You must be granted a valid key.",
                    "success": False}
        for response in (client.get(url), client.get(url, params={"api_key": "wrong"}),
                         client.get(url, headers={"Authorization": "Bearer wrong"})):
            assert response.status_code == 401 and response.json() == expected
        assert client.get(url, params={"api_key": "s3cret"}).status_code == 200
        assert client.get(url, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        fanart = f"{sim.fanart_api_url}/movies/603"
        assert client.get(fanart).json() == {"status": "error", "error message": "Invalid API key"}
        assert client.get(fanart, params={"api_key": "wrong"}).status_code == 401
        assert client.get(fanart, params={"api_key": "s3cret", "client_key": "mine"}).status_code == 200
    with Simulator(SimulatorConfig(rate_limit={})) as sim, httpx.Client() as client:  # any key
        assert client.get(f"{sim.tmdb_api_url}/movie/603").status_code == 401
        assert client.get(f"{sim.tmdb_api_url}/movie/603", headers={"Authorization": "Bearer x"}).status_code == 200


def test_collection(sim: Simulator, client: httpx.Client) -> None:
    data = client.get(f"{sim.tmdb_api_url}/collection/2344", params={**KEY, "language": "en"}).json()
    assert data["name"] == "The Matrix Collection" and data["overview"]
    assert [p["id"] for p in data["parts"]] == [603, 604, 605, 624860]
    assert {"id", "title", "release_date"} <= set(data["parts"][0])
    assert data["poster_path"] and data["backdrop_path"]
    generated = _movie(sim, client, 12).json()["belongs_to_collection"]  # 12 % 5 == 2
    parts = client.get(f"{sim.tmdb_api_url}/collection/{generated['id']}", params=KEY).json()["parts"]
    assert 12 in [p["id"] for p in parts]
    assert client.get(f"{sim.tmdb_api_url}/collection/999", params=KEY).status_code == 404


def test_collection_images_from_tmdb_and_fanart(sim: Simulator, client: httpx.Client) -> None:
    """A set's art: TMDB's posters and backdrops appended to ``/collection/{id}`` (filtered by image language,
    also alone at ``/collection/{id}/images``), and fanart.tv's collection entry at ``/movies/{collection id}``
    with every type a set folder holds, each image served by the image hosts."""
    params = {**KEY, "language": "en", "append_to_response": "images", "include_image_language": "en,null"}
    data = client.get(f"{sim.tmdb_api_url}/collection/2344", params=params).json()
    posters, backdrops = data["images"]["posters"], data["images"]["backdrops"]
    assert posters[0]["file_path"] == data["poster_path"] and posters[0]["iso_639_1"] is None
    assert {p["iso_639_1"] for p in posters} == {None, "en"}  # the French poster is filtered out
    assert backdrops[0]["file_path"] == data["backdrop_path"]
    alone = client.get(f"{sim.tmdb_api_url}/collection/2344/images", params=KEY).json()
    assert alone["id"] == 2344 and set(alone) == {"id", "posters", "backdrops"}
    assert "images" not in client.get(f"{sim.tmdb_api_url}/collection/2344", params=KEY).json()
    for image in posters + backdrops:
        assert client.get(f"{sim.tmdb_image_url}/w300{image['file_path']}").status_code == 200
    fanart = client.get(f"{sim.fanart_api_url}/movies/2344", params=KEY).json()
    assert fanart["name"] == "The Matrix Collection"
    assert {"movieposter", "moviebackground", "hdmovielogo", "hdmovieclearart", "moviebanner", "moviethumb",
            "moviedisc"} <= set(fanart)
    for kind in ("hdmovielogo", "moviedisc"):
        url = fanart[kind][0]["url"]
        assert client.get(url).headers["content-type"] == "image/png"
        assert client.get(url.replace("/fanart/", "/preview/", 1)).status_code == 200
    generated = _movie(sim, client, 12).json()["belongs_to_collection"]["id"]
    assert "moviedisc" in client.get(f"{sim.fanart_api_url}/movies/{generated}", params=KEY).json()
    assert client.get(f"{sim.fanart_api_url}/movies/603", params=KEY).json()["name"] == "The Matrix"


def test_search_disambiguates_by_year(sim: Simulator, client: httpx.Client) -> None:
    def search(query: str, **params: str) -> list[tuple[int, str]]:
        response = client.get(f"{sim.tmdb_api_url}/search/movie",
                              params={**KEY, "query": query, "include_adult": "false", "page": "1", **params})
        data = response.json()
        assert data["page"] == 1 and data["total_results"] == len(data["results"])
        return [(r["id"], r["release_date"]) for r in data["results"]]

    assert {movie_id for movie_id, _ in search("Heat")} == {949, 11379}
    assert search("Heat", year="1995") == [(949, "1995-12-15")]
    assert search("heat", year="1986") == [(11379, "1986-03-14")]
    assert search("Untitled Home Video") == []
    assert [m for m, _ in search("Schindler's List", year="1993")] == [424]
    assert [m for m, _ in search("Amelie", year="2001")] == [194]  # accents ignored
    assert [m for m, _ in search("千と千尋の神隠し")] == [129]
    first = client.get(f"{sim.tmdb_api_url}/search/movie", params={**KEY, "query": "Heat"}).json()["results"][0]
    assert {"id", "title", "original_title", "release_date", "popularity", "vote_count", "overview"} <= set(first)


def test_find_by_imdb_id(sim: Simulator, client: httpx.Client) -> None:
    def find(external_id: str) -> dict:
        return client.get(f"{sim.tmdb_api_url}/find/{external_id}",
                          params={**KEY, "external_source": "imdb_id"}).json()

    found = find("tt0133093")
    assert [m["id"] for m in found["movie_results"]] == [603]
    assert found["person_results"] == [] and found["tv_results"] == []
    assert find("tt0000001")["movie_results"] == []
    generated_imdb = _movie(sim, client, 12345).json()["imdb_id"]
    assert [m["id"] for m in find(generated_imdb)["movie_results"]] == [12345]


# -- fanart.tv ----------------------------------------------------------------------------------------------

def test_fanart_movie_shape(sim: Simulator, client: httpx.Client) -> None:
    response = client.get(f"{sim.fanart_api_url}/movies/603", params=KEY)
    data = response.json()
    assert (data["name"], data["tmdb_id"], data["imdb_id"]) == ("The Matrix", "603", "tt0133093")
    types = set(data) - {"name", "tmdb_id", "imdb_id"}
    assert {"hdmovielogo", "movieposter", "moviebackground"} <= types
    assert types <= {"hdmovielogo", "movielogo", "hdmovieclearart", "movieclearart", "movieart", "movieposter",
                     "moviebackground", "moviebanner", "moviethumb", "moviedisc"}
    items = [item for kind in types for item in data[kind]]
    assert all(isinstance(i["likes"], str) and i["likes"].isdigit() and isinstance(i["id"], str) for i in items)
    assert all(i["url"].startswith(f"http://{sim.fanart_assets_host}/fanart/movies/603/") for i in items)
    assert all(data[kind] for kind in types)  # types without images are absent, not empty
    languages = {i["lang"] for i in items}
    assert "00" in languages and "en" in languages
    for disc in data.get("moviedisc", []):
        assert disc["disc"].isdigit() and disc["disc_type"]


@pytest.mark.parametrize("movie_id", [11379, 3, 997])  # hand-written without art, id % 20 == 3, removed
def test_fanart_404_means_no_art(sim: Simulator, client: httpx.Client, movie_id: int) -> None:
    response = client.get(f"{sim.fanart_api_url}/movies/{movie_id}", params=KEY)
    assert response.status_code == 404
    assert response.json() == {"status": "error", "error message": "Not found"}


# -- images -------------------------------------------------------------------------------------------------

def test_tmdb_image_sizes(sim: Simulator, client: httpx.Client) -> None:
    images = _movie(sim, client, 603, append_to_response="images", include_image_language="en,null,fr").json()["images"]
    poster = next(p for p in images["posters"] if (p["width"], p["height"]) == (2000, 3000))
    base = sim.tmdb_image_url
    w300 = client.get(f"{base}/w300{poster['file_path']}")
    assert w300.headers["content-type"] == "image/jpeg"
    assert int(w300.headers["content-length"]) == len(w300.content)
    assert _image(w300.content).size == (300, 450) and _image(w300.content).format == "JPEG"
    assert _image(client.get(f"{base}/original{poster['file_path']}").content).size == (2000, 3000)
    backdrop = images["backdrops"][0]
    original = _image(client.get(f"{base}/original{backdrop['file_path']}").content)
    assert original.size == (backdrop["width"], backdrop["height"])
    assert _image(client.get(f"{base}/w780{backdrop['file_path']}").content).width == 780

    logo = images["logos"][0]
    response = client.get(f"{base}/original{logo['file_path']}")
    png = _image(response.content)
    assert response.headers["content-type"] == "image/png" and png.format == "PNG"
    assert png.mode == "RGBA" and png.size == (logo["width"], logo["height"])
    assert png.getchannel("A").getextrema()[0] == 0  # really transparent somewhere

    assert client.get(f"{base}/w300/{'x' * 27}.jpg").status_code == 404
    assert client.get(f"{base}/w301{poster['file_path']}").status_code == 404
    stem = poster["file_path"][1:-4]
    forged = stem[:-4] + ("AAAA" if stem[-4:] != "AAAA" else "BBBB")  # right shape, wrong check characters
    assert client.get(f"{base}/w300/{forged}.jpg").status_code == 404


def test_headshots_are_served_and_some_are_missing(sim: Simulator, client: httpx.Client) -> None:
    cast = _movie(sim, client, 680, append_to_response="credits").json()["credits"]["cast"]
    with_profile = next(c for c in cast if c["profile_path"])
    assert any(c["profile_path"] is None for c in cast)
    response = client.get(f"{sim.tmdb_image_url}/h632{with_profile['profile_path']}")
    assert response.status_code == 200 and _image(response.content).height <= 632


def test_fanart_assets_full_size_and_preview(sim: Simulator, client: httpx.Client) -> None:
    data = client.get(f"{sim.fanart_api_url}/movies/603", params=KEY).json()
    entry = Catalog(0).movie(603)
    assert entry is not None and entry.fanart is not None
    declared = {f"http://{sim.fanart_assets_host}{i.path}": i for i in entry.fanart}
    for kind, fmt in (("movieposter", "JPEG"), ("hdmovielogo", "PNG")):
        url = data[kind][0]["url"]
        full = _image(client.get(url).content)
        assert full.format == fmt and full.size == (declared[url].width, declared[url].height)
        preview_response = client.get(url.replace("/fanart/", "/preview/", 1))
        preview = _image(preview_response.content)
        assert preview.format == fmt and preview.width <= 200
        assert preview_response.headers["content-type"] == ("image/png" if fmt == "PNG" else "image/jpeg")
    assert client.get(f"http://{sim.fanart_assets_host}/fanart/movies/603/movieposter/nope.jpg").status_code == 404


# -- planted near-duplicates --------------------------------------------------------------------------------

_GROUP = {"poster": "poster", "movieposter": "poster", "backdrop": "backdrop", "moviebackground": "backdrop",
          "moviethumb": "backdrop", "logo": "logo", "hdmovielogo": "logo", "movielogo": "logo"}


def test_planted_duplicates_hash_close_and_distinct_pictures_far(sim: Simulator, client: httpx.Client) -> None:
    """What the dedup stage relies on, measured as it will measure: pHash of TMDB w300 / fanart previews."""
    catalog = Catalog(0)
    duplicate_distances, distinct_distances = [], []
    for movie_id in (603, 129, 12, 1001):
        movie = catalog.movie(movie_id)
        assert movie is not None and movie.fanart
        images = [i for i in (*movie.images, *movie.fanart) if i.kind in _GROUP]
        hashes = {}
        for image in images:
            if image.provider == "tmdb":
                url = f"{sim.tmdb_image_url}/w300{image.path}"
            else:
                url = f"http://{sim.fanart_assets_host}{image.path.replace('/fanart/', '/preview/', 1)}"
            hashes[image.path] = imagehash.phash(_image(client.get(url).content))
        pairs = catalog.planted_duplicates(movie_id)
        assert {variant for _, _, variant in pairs} == {"reencode", "resize", "crossprovider"}
        for duplicate, original, _ in pairs:
            if duplicate in hashes:
                duplicate_distances.append(hashes[duplicate] - hashes[original])
        for a, b in itertools.combinations(images, 2):
            if _GROUP[a.kind] == _GROUP[b.kind] and a.picture_id != b.picture_id:
                distinct_distances.append(hashes[a.path] - hashes[b.path])
    assert len(duplicate_distances) >= 20
    assert max(duplicate_distances) <= 6
    far = sum(d >= 16 for d in distinct_distances) / len(distinct_distances)
    assert far >= 0.99 and min(distinct_distances) >= 10  # a clear margin over the duplicates


def test_planted_duplicates_api() -> None:
    catalog = Catalog(0)
    pairs = catalog.planted_duplicates(603, fanart_assets_host="127.0.0.1:1")
    movie = catalog.movie(603)
    assert movie is not None and movie.fanart is not None
    by_name = {i.path: i for i in movie.images} | {f"http://127.0.0.1:1{i.path}": i for i in movie.fanart}
    for duplicate, original, variant in pairs:
        dup, orig = by_name[duplicate], by_name[original]
        assert dup.picture_id == orig.picture_id and orig.variant == "original" and dup.variant == variant
        if variant == "reencode":
            assert (dup.width, dup.height) == (orig.width, orig.height) and dup.quality < orig.quality
        elif variant == "resize":
            assert dup.width != orig.width and abs(dup.aspect_ratio / orig.aspect_ratio - 1) < 0.01
        else:
            assert dup.provider == "fanart" and orig.provider == "tmdb"
            assert abs(dup.aspect_ratio / orig.aspect_ratio - 1) < 0.01
    assert catalog.planted_duplicates(997) == []


# -- catalog ------------------------------------------------------------------------------------------------

def test_catalog_variety_follows_the_documented_rules() -> None:
    catalog = Catalog(0)
    assert set(catalog.known_ids()) >= {603, 194, 101, 335984, 949, 27205, 146, 424, 807, 680, 129, 11379}
    assert catalog.movie(9_999_998) is not None and catalog.movie(997 * 5) is None
    assert catalog.redirect(9_000_001) == 603 and catalog.movie(9_000_001) is None
    no_fanart, no_images, no_credits, large = catalog.movie(3), catalog.movie(5), catalog.movie(7), catalog.movie(4)
    assert no_fanart is not None and no_fanart.fanart is None and "no_fanart" in no_fanart.traits
    assert no_images is not None and no_images.images == () and "no_images" in no_images.traits
    assert no_credits is not None and no_credits.cast == () and no_credits.crew == ()
    assert large is not None and len(large.cast) >= 60
    names = [c.person.name for c in large.cast]
    assert {"../../x", "<b>Bold</b>", "A/B", "Zoë Kravitz"} <= set(names)
    assert any('"' in name for name in names)
    ids = [c.person.id for c in large.cast]
    twice = [pid for pid in set(ids) if ids.count(pid) == 2]
    assert twice and len({c.character for c in large.cast if c.person.id == twice[0]}) == 2
    share = {trait: sum(trait in generated_traits(i) for i in range(1, 20_001)) / 20_000
             for trait in ("no_fanart", "no_images", "no_credits", "large_cast", "collection")}
    assert share == pytest.approx({"no_fanart": 0.15, "no_images": 0.03, "no_credits": 0.032, "large_cast": 0.05,
                                   "collection": 0.20}, abs=0.01)
    missing_profiles = [c for m in (catalog.movie(i) for i in (1, 2, 8)) if m for c in m.cast if not c.person.profile]
    assert missing_profiles


def test_generated_films_carry_the_hostile_cases_too() -> None:
    """The hand-written films' hostile cases, planted on 2 % of generated ids each (so a generated library meets
    them): an alternative title only the search by it finds, a poster smaller than declared, a PNG named .jpg."""
    catalog = Catalog(0)
    share = {trait: sum(trait in generated_traits(i) for i in range(1, 20_001)) / 20_000
             for trait in ("alt_title", "misdeclared_size", "misnamed_png")}
    assert share == pytest.approx({"alt_title": 0.02, "misdeclared_size": 0.02, "misnamed_png": 0.02}, abs=0.001)
    alt = catalog.movie(61)
    assert alt is not None and "alt_title" in alt.traits
    ((country, title),) = alt.alternative_titles
    assert country == "US" and title not in (alt.title, alt.original_title)
    assert catalog.search(title, alt.year) == [61] and catalog.search(title, alt.year + 3) == []
    assert catalog.movie(62) is not None and catalog.movie(62).alternative_titles == ()  # type: ignore[union-attr]
    liar = next(i for i in catalog.movie(123).images if i.kind == "poster")  # type: ignore[union-attr]
    assert (liar.width, liar.height, liar.served_size) == (2000, 3000, (1000, 1500))
    png = next(i for i in catalog.movie(37).images if i.kind == "poster")  # type: ignore[union-attr]
    assert png.served_format == "PNG" and png.path.endswith(".jpg")


def test_catalog_is_deterministic() -> None:
    first, second = Catalog(seed=0), Catalog(seed=0)
    for movie_id in (603, 4242, 9_876_543):
        a, b = first.movie(movie_id), second.movie(movie_id)
        assert a is not None and b is not None and a is not b
        assert json.dumps(tmdb_json.movie(a, first, "en", tmdb_json.APPENDABLE, None)) == json.dumps(
            tmdb_json.movie(b, second, "en", tmdb_json.APPENDABLE, None))
        assert first.planted_duplicates(movie_id) == second.planted_duplicates(movie_id)
    poster = first.movie(4242).images[0]  # type: ignore[union-attr]
    render_args = (poster.picture_id, poster.style, 300, 450, poster.fmt, poster.quality, poster.caption)
    assert render(*render_args) == render(*render_args)
    assert Catalog(seed=1).movie(4242).images[0].path != poster.path  # type: ignore[union-attr]


def test_two_simulators_serve_identical_bytes_through_a_shared_cache(tmp_path: Path) -> None:
    config = SimulatorConfig(rate_limit={}, image_cache_dir=tmp_path / "cache")
    path = Catalog(0).movie(27205).images[0].path  # type: ignore[union-attr]
    bodies = []
    for _ in range(2):
        with Simulator(config) as sim, httpx.Client() as client:
            bodies.append(client.get(f"{sim.tmdb_image_url}/w185{path}").content)
    assert bodies[0] == bodies[1]
    cached = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert len(cached) == 1 and not cached[0].name.endswith(".tmp")


# -- knobs --------------------------------------------------------------------------------------------------

def test_rate_limit_answers_429_with_retry_after() -> None:
    with Simulator(SimulatorConfig(rate_limit={"tmdb_api": 20})) as sim, httpx.Client() as client:
        started = time.monotonic()
        responses = [client.get(f"{sim.tmdb_api_url}/configuration", params=KEY) for _ in range(60)]
        elapsed = time.monotonic() - started
        limited = [r for r in responses if r.status_code == 429]
        assert limited and all(r.headers["retry-after"] == "1" for r in limited)
        assert limited[0].json()["status_code"] == 25
        assert "(20)" in limited[0].json()["status_message"]
        assert sum(r.status_code == 200 for r in responses) <= 20 * (1 + int(elapsed))


def test_connection_cap_answers_429() -> None:
    config = SimulatorConfig(rate_limit={}, max_connections={"tmdb_api": 2}, latency_seconds=0.3)
    with Simulator(config) as sim:
        statuses: list[int] = []

        def call() -> None:
            with httpx.Client() as client:
                statuses.append(client.get(f"{sim.tmdb_api_url}/configuration", params=KEY).status_code)

        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses.count(429) >= 3 and statuses.count(200) >= 1
        assert all(r.status in (200, 429) for r in sim.requests("tmdb_api"))


def test_error_and_429_faults_and_set_config_switches_them() -> None:
    config = SimulatorConfig(rate_limit={}, faults={"tmdb_api": Faults(error_rate=1.0)})
    with Simulator(config) as faulty, httpx.Client() as client:
        responses = [client.get(f"{faulty.tmdb_api_url}/configuration", params=KEY) for _ in range(20)]
        assert {r.status_code for r in responses} <= {500, 502, 503}
        assert all(r.headers.get("retry-after") == "1" for r in responses if r.status_code == 503)
        faulty.set_config(replace(config, faults={"tmdb_api": Faults(rate_limit_rate=1.0)}))
        limited = client.get(f"{faulty.tmdb_api_url}/configuration", params=KEY)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
        assert limited.json()["status_code"] == 25
        faulty.set_config(replace(config, faults={}))
        assert client.get(f"{faulty.tmdb_api_url}/configuration", params=KEY).status_code == 200


def test_truncated_answers_are_short() -> None:
    config = SimulatorConfig(rate_limit={}, faults={"tmdb_images": Faults(truncate_rate=1.0)})
    path = Catalog(0).movie(603).images[0].path  # type: ignore[union-attr]
    with Simulator(config) as sim, httpx.Client() as client:
        try:
            response = client.get(f"{sim.tmdb_image_url}/w300{path}")
        except httpx.RemoteProtocolError:
            pass
        else:
            assert len(response.content) < int(response.headers["content-length"])
        record = sim.requests("tmdb_images")[-1]
        assert record.status == 200 and record.bytes_sent > 0


def test_garbage_and_wrong_type_faults() -> None:
    path = Catalog(0).movie(603).images[0].path  # type: ignore[union-attr]
    config = SimulatorConfig(rate_limit={}, faults={"tmdb_images": Faults(garbage_rate=1.0),
                                                    "tmdb_api": Faults(wrong_type_rate=1.0),
                                                    "fanart_api": Faults(malformed_json_rate=1.0)})
    with Simulator(config) as sim, httpx.Client() as client:
        garbage = client.get(f"{sim.tmdb_image_url}/w300{path}")
        assert garbage.status_code == 200 and garbage.headers["content-type"] == "image/jpeg"
        with pytest.raises(OSError):
            _image(garbage.content)
        junk = client.get(f"{sim.tmdb_api_url}/configuration", params=KEY)
        assert junk.headers["content-type"].startswith("text/plain")
        with pytest.raises(json.JSONDecodeError):
            junk.json()
        broken = client.get(f"{sim.fanart_api_url}/movies/603", params=KEY)
        assert broken.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            broken.json()
        sim.set_config(replace(config, faults={"tmdb_images": Faults(wrong_type_rate=1.0)}))
        mislabelled = client.get(f"{sim.tmdb_image_url}/w300{path}")
        assert mislabelled.headers["content-type"].startswith("text/html")
        assert _image(mislabelled.content).format == "JPEG"


def test_hang_makes_client_timeouts_fire_and_stop_releases_it() -> None:
    config = SimulatorConfig(rate_limit={}, faults={"tmdb_api": Faults(hang_rate=1.0, hang_seconds=30)})
    sim = Simulator(config).start()
    try:
        with httpx.Client(timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
            client.get(f"{sim.tmdb_api_url}/configuration", params=KEY)
    finally:
        started = time.monotonic()
        sim.stop()
    assert time.monotonic() - started < 5


def test_request_log_records_and_redacts(sim: Simulator, client: httpx.Client) -> None:
    sim.clear_log()
    client.get(f"{sim.tmdb_api_url}/movie/603", params={"api_key": "very-secret", "language": "en"})
    client.get(f"{sim.fanart_api_url}/movies/603", params={"api_key": "also-secret", "client_key": "mine"})
    client.get(f"{sim.tmdb_api_url}/movie/997", params=KEY)
    records = sim.requests()
    assert [(r.host, r.kind, r.status) for r in records] == [
        ("tmdb_api", "movie", 200), ("fanart_api", "fanart_movie", 200), ("tmdb_api", "movie", 404)]
    assert all(isinstance(r, RequestRecord) and r.started <= r.finished and r.bytes_sent > 0 for r in records)
    assert records[0].query == "api_key=***&language=en" and records[0].path == "/3/movie/603"
    assert "secret" not in repr(records) and "mine" not in records[1].query
    assert [r.host for r in sim.requests("fanart_api")] == ["fanart_api"]
    sim.clear_log()
    assert sim.requests() == []


def test_run_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--host", "--port-base", "--latency", "--tmdb-rps", "--max-connections", "--error-rate", "--seed"):
        assert flag in out


def test_serve_forever_writes_the_request_log_on_exit(tmp_path: Path) -> None:
    """``--request-log``: how the benchmark reads a simulator process's log (also dumped on SIGUSR1)."""
    from metarr_pipeline.simulator.cli import serve_forever

    stop, lines = threading.Event(), []
    log = tmp_path / "requests.jsonl"
    config = SimulatorConfig(rate_limit={}, image_cache_dir=tmp_path / "cache")
    server = threading.Thread(target=serve_forever, args=(config,),
                              kwargs={"stop": stop, "out": lines.append, "request_log": log})
    server.start()
    deadline = time.monotonic() + 10
    while not any("TMDB API" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.02)
    api = next(line.split()[-1] for line in lines if "TMDB API" in line)
    httpx.get(f"{api}/movie/603", params={"api_key": "secret-key"})
    stop.set()
    server.join(timeout=10)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["host"], r["kind"], r["status"]) for r in records] == [("tmdb_api", "movie", 200)]
    assert "secret" not in log.read_text()


def test_max_images_per_kind_keeps_the_first_images_of_every_list_and_none_keeps_them_all(tmp_path: Path) -> None:
    """The benchmark's lighter image set (``--max-images-per-kind``): every TMDB images list (appended to a movie or
    a collection, or alone) and every fanart.tv art list holds the first K images of each kind, best first, for
    movies and collections; without it (None) every image the catalog has is served, as before."""
    from metarr_pipeline.simulator.cli import build_parser, config_from_args

    assert config_from_args(build_parser().parse_args([])).max_images_per_kind is None
    assert config_from_args(build_parser().parse_args(["--max-images-per-kind", "3"])).max_images_per_kind == 3
    with pytest.raises(ValueError, match="max_images_per_kind"):
        SimulatorConfig(max_images_per_kind=0)
    movie_id = 102  # generated, in a collection (102 % 5 == 2), with fanart.tv art
    catalog = Catalog(seed=0)
    entry = catalog.movie(movie_id)
    assert entry is not None and entry.collection_id and entry.fanart
    set_entry = catalog.collection(entry.collection_id)
    assert set_entry is not None
    config = SimulatorConfig(rate_limit={}, image_cache_dir=tmp_path / "cache")
    lang = {"language": "en", "include_image_language": "en,null"}
    urls = {  # each answer → its images lists by kind
        "movie": (f"/movie/{movie_id}", {"append_to_response": "images,credits", **lang}, lambda d: d["images"]),
        "movie images": (f"/movie/{movie_id}/images", lang, lambda d: d),
        "set": (f"/collection/{set_entry.id}", {"append_to_response": "images", **lang}, lambda d: d["images"]),
        "set images": (f"/collection/{set_entry.id}/images", lang, lambda d: d),
    }

    def lists(sim: Simulator, client: httpx.Client) -> dict[str, dict[str, list[str]]]:
        out = {}
        for name, (path, params, pick) in urls.items():
            data = pick(client.get(f"{sim.tmdb_api_url}{path}", params={**KEY, **params}).json())
            out[name] = {k: [i["file_path"] for i in v] for k, v in data.items() if k in ("posters", "backdrops",
                                                                                          "logos")}
        for name, tmdb_id in (("fanart", movie_id), ("fanart set", set_entry.id)):
            data = client.get(f"{sim.fanart_api_url}/movies/{tmdb_id}", params=KEY).json()
            out[name] = {k: [i["url"] for i in v] for k, v in data.items() if isinstance(v, list)}
        return out

    with Simulator(config) as sim, httpx.Client(timeout=10) as client:
        full = lists(sim, client)
        sim.set_config(replace(config, max_images_per_kind=1))  # a set has at most 3 of a kind: 1 cuts every list
        light = lists(sim, client)
    wanted = {None, "en"}
    assert full["movie"]["posters"] == [i.path for i in entry.tmdb_images("poster") if i.language in wanted]
    assert full["set"]["backdrops"] == [i.path for i in set_entry.images
                                        if i.kind == "backdrop" and i.language in wanted]
    assert full["fanart"]["moviebackground"] == [f"http://{sim.fanart_assets_host}{i.path}" for i in entry.fanart
                                                 if i.kind == "moviebackground"]
    assert full["movie"] == full["movie images"] and full["set"] == full["set images"]
    for name, by_kind in full.items():
        assert set(light[name]) == set(by_kind), name
        for kind, images in by_kind.items():
            assert light[name][kind] == images[:1], (name, kind)
    capped = [(name, kind) for name, by_kind in full.items() for kind, images in by_kind.items() if len(images) > 1]
    assert {name for name, _ in capped} == set(full), capped  # every list was cut somewhere


def test_the_request_log_keeps_the_newest_request_log_limit_records() -> None:
    """``--request-log-limit``: a benchmark of many movies keeps every request of a stage (the default bounds the
    memory at 500,000 records)."""
    from metarr_pipeline.simulator.cli import build_parser, config_from_args

    assert config_from_args(build_parser().parse_args([])).request_log_limit == 500_000
    assert config_from_args(build_parser().parse_args(["--request-log-limit", "2000000"])).request_log_limit == 2_000_000
    with pytest.raises(ValueError, match="request_log_limit"):
        SimulatorConfig(request_log_limit=0)
    with Simulator(SimulatorConfig(rate_limit={}, request_log_limit=2)) as sim, httpx.Client(timeout=10) as client:
        for movie_id in (603, 604, 605):
            client.get(f"{sim.tmdb_api_url}/movie/{movie_id}", params=KEY)
        assert [r.path for r in sim.requests()] == ["/3/movie/604", "/3/movie/605"]
