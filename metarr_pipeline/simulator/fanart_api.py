"""The ``fanart_api`` host: fanart.tv v3's ``GET /v3/movies/{tmdb_id}``.

The same route answers for a TMDB collection id with the collection's art (fanart.tv keeps movie collections
under ``movies/``; Kodi's TMDB scraper asks ``movies/{set id}`` for set art): the catalog's hand-written
collections and the generated ones (ids from 10,000,000, above every movie id).

fanart.tv quirks kept on purpose: ``likes`` and ids are strings, textless is ``"00"`` (or ``""``), a type
without images is absent rather than empty, and a film without art is a 404 (which the pipeline must
treat as "no art", not as a failure).
"""

from __future__ import annotations

from typing import Any

from metarr_pipeline.simulator.artwork import FANART_TYPES
from metarr_pipeline.simulator.catalog import Catalog
from metarr_pipeline.simulator.entries import CollectionEntry, ImageEntry, MovieEntry
from metarr_pipeline.simulator.replies import Reply, Request, fanart_error, json_reply
from metarr_pipeline.simulator.settings import SimulatorConfig


def kind_of(path: str) -> str:
    parts = path.strip("/").split("/")
    return "fanart_movie" if len(parts) == 3 and parts[:2] == ["v3", "movies"] else "other"


def movie_json(movie: MovieEntry, assets_host: str, max_images: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"name": movie.title, "tmdb_id": str(movie.id), "imdb_id": movie.imdb_id or ""}
    return data | images_json(movie.fanart or (), assets_host, max_images)


def collection_json(collection: CollectionEntry, assets_host: str, max_images: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"name": collection.name, "tmdb_id": str(collection.id), "imdb_id": ""}
    return data | images_json(collection.fanart, assets_host, max_images)


def images_json(fanart: tuple[ImageEntry, ...], assets_host: str, max_images: int | None = None) -> dict[str, Any]:
    """Each art kind's list, its first ``max_images`` (most liked first; None: all)."""
    data: dict[str, Any] = {}
    for kind in FANART_TYPES:
        items = []
        for image in [i for i in fanart if i.kind == kind][:max_images]:
            item = {"id": image.fanart_id, "url": f"http://{assets_host}{image.path}", "lang": image.fanart_lang,
                    "likes": str(image.vote_count)}
            if kind == "moviedisc":
                item |= {"disc": image.disc, "disc_type": image.disc_type}
            items.append(item)
        if items:
            data[kind] = items
    return data


class FanartApi:
    def __init__(self, catalog: Catalog, assets_host: str) -> None:
        self.catalog = catalog
        self.assets_host = assets_host

    @staticmethod
    def kind_of(path: str) -> str:
        return kind_of(path)

    def handle(self, request: Request, config: SimulatorConfig) -> Reply:
        key = request.query.get("api_key", "")
        if not key or (config.api_key is not None and key != config.api_key):
            return fanart_error(401, "Invalid API key")
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[:2] != ["v3", "movies"] or not parts[2].isdigit():
            return fanart_error(404, "Not found")
        collection = self.catalog.fanart_collection(int(parts[2]))
        if collection is not None:
            return json_reply(200, collection_json(collection, self.assets_host, config.max_images_per_kind))
        movie = self.catalog.movie(int(parts[2]))
        if movie is None or movie.fanart is None:
            return fanart_error(404, "Not found")
        return json_reply(200, movie_json(movie, self.assets_host, config.max_images_per_kind))
