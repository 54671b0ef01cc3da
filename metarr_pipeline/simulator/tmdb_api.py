"""The ``tmdb_api`` host: TMDB v3's endpoints the pipeline uses, with TMDB's auth, errors and redirects.

``/3/configuration``, ``/3/movie/{id}`` (+ ``append_to_response``, and each appendable part alone at
``/3/movie/{id}/{part}``), ``/3/collection/{id}`` (+ ``append_to_response=images``) and
``/3/collection/{id}/images``, ``/3/search/movie``, ``/3/find/{external_id}``.
Auth: ``Authorization: Bearer <token>`` or ``?api_key=``; either, when valid, is enough.
"""

from __future__ import annotations

import re
from functools import lru_cache

import metarr_pipeline.simulator.tmdb_json as tmdb_json
from metarr_pipeline.simulator.catalog import Catalog
from metarr_pipeline.simulator.replies import (
    JSON_TYPE,
    Reply,
    Request,
    encode_json,
    json_reply,
    tmdb_error,
    tmdb_not_found,
    tmdb_unauthorized,
)
from metarr_pipeline.simulator.settings import SimulatorConfig

PAGE_SIZE = 20
_LEADING_ID = re.compile(r"(\d+)(?:-[^/]*)?")  # TMDB accepts "603" and "603-the-matrix"


def kind_of(path: str) -> str:
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "3":
        if parts[1] == "configuration":
            return "configuration"
        if parts[1] in ("movie", "collection", "find"):
            return parts[1]
        if parts[1:3] == ["search", "movie"]:
            return "search"
    return "other"


def authorized(request: Request, config: SimulatorConfig) -> bool:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    offered = [key for key in (token, request.query.get("api_key", "")) if key]
    if config.api_key is None:
        return bool(offered)
    return config.api_key in offered


def _language(request: Request) -> str:
    """``fr-FR`` and ``fr`` both select French; no parameter means TMDB's default, en-US."""
    return (request.query.get("language") or "en-US").split("-")[0].lower() or "en"


def _image_languages(request: Request, parameter: str = "include_image_language") -> frozenset[str | None] | None:
    raw = request.query.get(parameter)
    if raw is None:
        return None
    codes = (code.strip().lower() for code in raw.split(","))
    return frozenset(None if code == "null" else code for code in codes if code)


class TmdbApi:
    """Routes of the ``tmdb_api`` host. Movie bodies are cached: they are immutable per request shape and
    catalog revision."""

    def __init__(self, catalog: Catalog, images_host: str) -> None:
        self.catalog = catalog
        self._configuration = encode_json(tmdb_json.configuration(images_host))
        self._movie_body = lru_cache(maxsize=1024)(self._movie_body_uncached)

    @staticmethod
    def kind_of(path: str) -> str:
        return kind_of(path)

    def handle(self, request: Request, config: SimulatorConfig) -> Reply:
        if not authorized(request, config):
            return tmdb_unauthorized()
        parts = request.path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "3":
            return tmdb_not_found()
        resource, rest = parts[1], parts[2:]
        if resource == "configuration" and not rest:
            return Reply(200, self._configuration, JSON_TYPE)
        if resource == "movie" and rest:
            return self._movie(request, rest, config.max_images_per_kind)
        if resource == "collection" and (len(rest) == 1 or rest[1:] == ["images"]):
            return self._collection(request, rest, config.max_images_per_kind)
        if resource == "search" and rest == ["movie"]:
            return self._search(request)
        if resource == "find" and len(rest) == 1:
            return self._find(request, rest[0])
        return tmdb_not_found()

    def _movie(self, request: Request, rest: list[str], max_images: int | None) -> Reply:
        match = _LEADING_ID.fullmatch(rest[0])
        section = rest[1] if len(rest) == 2 else None
        if match is None or len(rest) > 2 or (section is not None and section not in tmdb_json.APPENDABLE):
            return tmdb_not_found()
        movie_id = int(match.group(1))
        target = self.catalog.redirect(movie_id)
        if target is not None:
            # A merged entry: same path and query, new id. Path-absolute, so it works on any host name.
            query = f"?{request.raw_query}" if request.raw_query else ""
            location = f"/3/movie/{target}" + (f"/{section}" if section else "") + query
            return tmdb_error(301, 34, "The resource you requested has moved.", (("Location", location),))
        if self.catalog.movie(movie_id) is None:
            return tmdb_not_found()
        append = tuple(s.strip() for s in request.query.get("append_to_response", "").split(",") if s.strip())
        body = self._movie_body(movie_id, _language(request), append, _image_languages(request), section,
                                _image_languages(request, "include_video_language"), self.catalog.revision,
                                max_images)
        return Reply(200, body, JSON_TYPE)

    def _movie_body_uncached(self, movie_id: int, language: str, append: tuple[str, ...],
                             image_languages: frozenset[str | None] | None, section: str | None,
                             video_languages: frozenset[str | None] | None,
                             revision: int,  # the catalog's revision: an edit is never served stale
                             max_images: int | None = None) -> bytes:
        entry = self.catalog.movie(movie_id)
        assert entry is not None
        if section is not None:
            return encode_json({"id": movie_id, **tmdb_json.movie_section(
                entry, section, language, image_languages, self.catalog.seed, video_languages, max_images)})
        return encode_json(tmdb_json.movie(entry, self.catalog, language, append, image_languages, video_languages,
                                           max_images))

    def _collection(self, request: Request, rest: list[str], max_images: int | None) -> Reply:
        if not rest[0].isdigit():
            return tmdb_not_found()
        append = tuple(s.strip() for s in request.query.get("append_to_response", "").split(",") if s.strip())
        data = tmdb_json.collection(int(rest[0]), self.catalog, _language(request), append,
                                    _image_languages(request), max_images)
        if data is None:
            return tmdb_not_found()
        if len(rest) == 2:  # /collection/{id}/images
            data = {"id": data["id"], **tmdb_json.collection_images(
                self.catalog.collection(int(rest[0])), _language(request), _image_languages(request),  # type: ignore[arg-type]
                max_images)}
        return json_reply(200, data)

    def _search(self, request: Request) -> Reply:
        raw_year = request.query.get("year") or request.query.get("primary_release_year") or ""
        year = int(raw_year) if raw_year.isdigit() else None
        raw_page = request.query.get("page", "1")
        page = max(1, int(raw_page)) if raw_page.isdigit() else 1
        ids = self.catalog.search(request.query.get("query", ""), year)
        language = _language(request)
        results = []
        for movie_id in ids[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]:
            entry = self.catalog.movie(movie_id)
            if entry is not None:
                results.append(tmdb_json.movie_summary(entry, language))
        total_pages = max(1, -(-len(ids) // PAGE_SIZE))
        return json_reply(200, {"page": page, "results": results, "total_pages": total_pages,
                                "total_results": len(ids)})

    def _find(self, request: Request, external_id: str) -> Reply:
        movie_results = []
        if request.query.get("external_source") == "imdb_id":
            movie_id = self.catalog.find_imdb(external_id)
            entry = self.catalog.movie(movie_id) if movie_id is not None else None
            if entry is not None:
                movie_results.append({**tmdb_json.movie_summary(entry, _language(request)), "media_type": "movie"})
        return json_reply(200, {"movie_results": movie_results, "person_results": [], "tv_results": [],
                                "tv_episode_results": [], "tv_season_results": []})
