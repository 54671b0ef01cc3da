"""The review web app: Starlette routes over the review modules, server-rendered with Jinja2 templates.

Every page reads the state store through :class:`~metarr_pipeline.store.Store`; every state-changing request is a
POST that must come from the page itself (same ``Origin``, or ``Referer`` when a browser sends no ``Origin``) and
carry the per-process form token; with a password configured, every request needs HTTP basic auth. Bound to
loopback, the app answers only requests addressed to a loopback name (``Host``), so a web page whose name an
attacker re-points at 127.0.0.1 (DNS rebinding) cannot read the form token through the visitor's browser.
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.review.addresses import LOOPBACK_NAMES, is_loopback
from metarr_pipeline.review.dagster_api import DagsterClient, LaunchedRun
from metarr_pipeline.review.identify import default_query, identify_typed, search_hits
from metarr_pipeline.review.images import Thumbnails, placeholder_svg
from metarr_pipeline.review.library import FILTERS, HINTS, LABELS, keys_needing_review, library_page
from metarr_pipeline.review.movie import movie_view
from metarr_pipeline.review.sets import sets_page
from metarr_pipeline.review.steer import ACTIONS, reselect, steer
from metarr_pipeline.store import Store

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
IMAGE_CACHE = "public, max-age=3600"


class ReviewApp:
    """The app's state: settings, store, thumbnails (with their lazy provider session) and the Dagster client."""

    def __init__(self, settings: Settings, dagster_url: str, password: str | None = None,
                 bind_host: str = "127.0.0.1") -> None:
        self.settings = settings
        self.store = Store(settings.database_path)
        self.thumbs = Thumbnails(settings)
        self.dagster = DagsterClient(dagster_url)
        self.password = password
        self.hosts = LOOPBACK_NAMES if is_loopback(bind_host) else None  # None: any Host (the password guards)
        self.token = secrets.token_urlsafe(24)
        self.launched: list[LaunchedRun] = []
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape())
        self.templates.globals.update(labels=LABELS, filters=FILTERS, hints=HINTS, token=self.token,
                                      dagster_url=dagster_url, quote=quote)

    def render(self, name: str, status: int = 200, **context: object) -> HTMLResponse:
        return HTMLResponse(self.templates.get_template(name).render(**context), status_code=status)

    def asgi(self) -> Starlette:
        routes = [
            Route("/", self.library), Route("/movie/{movie_id:int}", self.movie), Route("/key/{key}", self.by_key),
            Route("/movie/{movie_id:int}/art", self.art, methods=["POST"]),
            Route("/movie/{movie_id:int}/identify", self.identify, methods=["GET", "POST"]),
            Route("/publish", self.publish, methods=["GET", "POST"]), Route("/sets", self.sets),
            Route("/set-art/{collection_id:int}/{kind}", self.set_art),
            Route("/thumb/{movie_id:int}/{kind}/{candidate_id}", self.thumb),
            Route("/poster/{movie_id:int}", self.poster), Route("/headshot/{person_id:int}", self.headshot),
            Route("/search-poster", self.search_poster),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
        app = Starlette(routes=routes, lifespan=self._lifespan,
                        exception_handlers={PermissionError: self._refused})  # type: ignore[dict-item]
        return self._guarded(app)

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        self.thumbs.close()  # the provider session (and an embedded simulator) ends with the server

    def _guarded(self, app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and self.hosts is not None and _host_name(Request(scope)) not in self.hosts:
                await PlainTextResponse("metarr review: unexpected Host header", 400)(scope, receive, send)
                return
            if scope["type"] == "http" and not self.authorised(Request(scope)):
                response = PlainTextResponse("metarr review: password required", 401,
                                             headers={"WWW-Authenticate": 'Basic realm="metarr review"'})
                await response(scope, receive, send)
                return
            await app(scope, receive, send)
        return guarded

    async def _refused(self, request: Request, exc: Exception) -> Response:
        return self.render("error.html", 403, message=f"Refused: {exc}.")

    # --- guards -----------------------------------------------------------------------------------

    def authorised(self, request: Request) -> bool:
        if not self.password:
            return True
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            _, _, given = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(given.encode(), self.password.encode())

    async def form(self, request: Request) -> dict[str, list[str]]:
        """The POSTed form, after the same-origin and token checks (raises ``PermissionError``)."""
        origin = request.headers.get("origin") or request.headers.get("referer") or ""
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        parts = urlsplit(origin)
        if not origin or f"{parts.scheme}://{parts.netloc}" != own:
            raise PermissionError("cross-origin request refused")
        fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
        if not hmac.compare_digest((fields.get("token") or [""])[0], self.token):
            raise PermissionError("missing or stale form token: reload the page")
        return fields

    # --- pages ------------------------------------------------------------------------------------

    def library(self, request: Request) -> Response:
        q = request.query_params
        page = library_page(self.settings, self.store, state=q.get("state", "all"), search=q.get("q", ""),
                            page=_int(q.get("page"), 1))
        return self.render("library.html", page=page, message=q.get("done", ""))

    def movie(self, request: Request) -> Response:
        movie = self.store.movie_by_id(request.path_params["movie_id"])
        if movie is None:
            return self.render("error.html", 404, message="No such movie.")
        if movie.status != "identified" or not movie.partition_key:
            return RedirectResponse(f"/movie/{movie.id}/identify", 303)
        view = movie_view(self.settings, self.store, movie)
        return self.render("movie.html", view=view, message=request.query_params.get("done", ""),
                           error=request.query_params.get("error", ""))

    def by_key(self, request: Request) -> Response:
        """A movie by its partition key: the links in the Dagster UI's metadata point here."""
        movie = self.store.movie_by_partition(request.path_params["key"])
        if movie is None:
            return self.render("error.html", 404, message="No movie with this partition key.")
        return RedirectResponse(f"/movie/{movie.id}", 303)

    # The POST handlers check the form in the event loop, then do their blocking work (the store, a re-selection,
    # provider and Dagster requests) in the thread pool, as Starlette does for the plain ``def`` pages.

    async def art(self, request: Request) -> Response:
        return await run_in_threadpool(self._art, request, await self.form(request))

    def _art(self, request: Request, fields: dict[str, list[str]]) -> Response:
        movie = self.store.movie_by_id(request.path_params["movie_id"])
        if movie is None or not movie.partition_key:
            return self.render("error.html", 404, message="No such movie.")
        action, kind = _one(fields, "action"), _one(fields, "type")
        candidate = _one(fields, "candidate") or None
        if action not in ACTIONS:
            return self.render("error.html", 400, message=f"Unknown action '{action[:20]}'.")
        try:
            steer(self.settings, self.store, self.thumbs.session(), movie.partition_key, kind, candidate, action)
        except MetarrError as exc:
            return RedirectResponse(f"/movie/{movie.id}?error={quote(str(exc))}#{quote(kind)}", 303)
        what = f"{action} {kind} {candidate}" if candidate else f"{action} {kind}"
        try:
            self.dagster.report_selection([movie.partition_key], f"review page: {what}; selection made again")
        except MetarrError as exc:  # the choice stands; Dagster learns of it with the next enrichment run
            log.info("review: selection change not reported to Dagster: %s", exc)
        return RedirectResponse(f"/movie/{movie.id}?done={quote(what + ': selection updated')}#{quote(kind)}", 303)

    async def identify(self, request: Request) -> Response:
        fields = await self.form(request) if request.method == "POST" else None
        return await run_in_threadpool(self._identify, request, fields)

    def _identify(self, request: Request, fields: dict[str, list[str]] | None) -> Response:
        movie = self.store.movie_by_id(request.path_params["movie_id"])
        if movie is None:
            return self.render("error.html", 404, message="No such movie.")
        error = ""
        if fields is not None:
            try:
                session = self.thumbs.session()
                key = identify_typed(self.store, self.settings, session, movie, _one(fields, "tmdb_id")).partition_key
                assert key is not None  # identified movies always have one
                reselect(self.settings, self.store, session, key)
                return RedirectResponse(f"/movie/{movie.id}?done={quote('identified as ' + key)}", 303)
            except MetarrError as exc:
                error = str(exc)
        title, year = default_query(movie)
        query = request.query_params.get("q", title)
        year = _int(request.query_params.get("year"), year or 0) or None
        try:
            hits = search_hits(self.settings, self.store, self.thumbs.session(), movie, query, year) if query else []
        except MetarrError as exc:
            hits, error = [], error or f"TMDB search failed: {exc}"
        return self.render("identify.html", movie=movie, hits=hits, query=query, year=year or "", error=error)

    async def publish(self, request: Request) -> Response:
        fields = await self.form(request) if request.method == "POST" else None
        return await run_in_threadpool(self._publish, fields)

    def _publish(self, fields: dict[str, list[str]] | None) -> Response:
        if fields is None:
            return self.render("publish.html", runs=self.launched, dagster_up=self.dagster.available(),
                               needing=keys_needing_review(self.settings, self.store), error="", launched=[])
        keys = [k for k in fields.get("key", []) if k]
        if _one(fields, "which") == "needs_review":
            keys = keys_needing_review(self.settings, self.store)
        error, launched = "", []
        if not keys:
            error = "No movie selected."
        else:
            try:
                launched = self.dagster.publish(keys)
                self.launched = (launched + self.launched)[:50]
            except MetarrError as exc:
                error = str(exc)
        return self.render("publish.html", 200 if not error else 409, runs=self.launched, launched=launched,
                           dagster_up=not error or self.dagster.available(),
                           needing=keys_needing_review(self.settings, self.store), error=error)

    # --- images -----------------------------------------------------------------------------------

    def _image(self, data: bytes | None, label: str) -> Response:
        if data is None:
            return Response(placeholder_svg(label), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": IMAGE_CACHE})

    def thumb(self, request: Request) -> Response:
        p = request.path_params
        found = self.store.candidate_image(p["movie_id"], p["kind"], p["candidate_id"])
        if found is None:
            return self._image(None, "no image")
        url, sha, ext = found
        return self._image(self.thumbs.thumbnail(url, (sha, ext) if sha else None), "no image")

    def poster(self, request: Request) -> Response:
        """The selected poster of a movie (the library grid), or a card with its title."""
        movie_id = request.path_params["movie_id"]
        candidate = request.query_params.get("c", "")
        found = self.store.candidate_image(movie_id, "poster", candidate) if candidate else None
        data = self.thumbs.thumbnail(found[0], (found[1], found[2]) if found[1] else None) if found else None
        return self._image(data, request.query_params.get("t", "no poster"))

    def sets(self, request: Request) -> Response:
        return self.render("sets.html", sets=sets_page(self.store))

    def set_art(self, request: Request) -> Response:
        """A set's chosen image of one type, thumbnailed from its cached blob."""
        p = request.path_params
        art = next((a for a in self.store.collection_selection([p["collection_id"]]).get(p["collection_id"], ())
                    if a.type == p["kind"]), None)
        data = self.thumbs.thumbnail(art.url, (art.blob_sha, art.ext) if art.blob_sha else None) if art else None
        return self._image(data, "no image")

    def headshot(self, request: Request) -> Response:
        found = self.store.person_image(request.path_params["person_id"])
        data = self.thumbs.thumbnail(found[0], (found[1], found[2]) if found[1] else None) if found else None
        return self._image(data, "no photo")

    def search_poster(self, request: Request) -> Response:
        url = request.query_params.get("u", "")
        if not url.startswith("https://image.tmdb.org/"):  # only TMDB posters of a search answer
            return PlainTextResponse("not a TMDB image", 400)
        return self._image(self.thumbs.thumbnail(url), "no poster")


def _host_name(request: Request) -> str:
    host = request.headers.get("host", "").lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def _one(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0].strip()


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default
