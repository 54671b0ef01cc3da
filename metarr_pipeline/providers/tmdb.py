"""TMDB v3: one request per movie, plus collections, search and find for identification.

``GET /movie/{id}`` with ``append_to_response=images,credits,release_dates,external_ids,keywords`` gives
everything enrichment needs in one call. ``include_image_language={lang},en,null`` is essential: without
``null`` TMDB silently drops textless images, which are the best fanart and keyart.

The client returns raw JSON (stored as-is in the provider cache, so a re-score never refetches) and
implements the scan's :class:`~metarr_pipeline.scan.identify.IdResolver` for the search rung.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from metarr_pipeline.errors import ProviderAuthError, ProviderNotFound
from metarr_pipeline.models import SearchOutcome
from metarr_pipeline.providers.http import Credentials, HttpFetcher
from metarr_pipeline.providers.keys import ProviderKeys

APPEND = "images,credits,release_dates,external_ids,keywords"
_MOVIE_PATH = re.compile(r"/movie/(\d+)")


@dataclass(frozen=True)
class MovieResponse:
    requested_id: int
    tmdb_id: int  # differs from requested_id when TMDB redirected a merged id
    body: dict[str, Any]


class TmdbClient:
    provider = "TMDB"
    route = "tmdb_api"  # the politeness key and redirect allowlist (HttpFetcher routes)

    def __init__(self, fetcher: HttpFetcher, api_url: str, keys: ProviderKeys, language: str = "en") -> None:
        self.fetcher = fetcher
        self.api_url = api_url.rstrip("/")
        self.language = language
        self._headers: dict[str, str] = {"Accept": "application/json"}
        # Sent only to the API's own origin: a redirect elsewhere never carries them (providers.redirects).
        if keys.tmdb_read_token:
            self._credentials = Credentials(headers={"Authorization": f"Bearer {keys.tmdb_read_token}"})
        else:
            self._credentials = Credentials(params={"api_key": keys.tmdb_api_key} if keys.tmdb_api_key else {})
        self._image_base: str | None = None
        self._image_lock = threading.Lock()

    def _get(self, path: str, params: dict[str, str], kind: str, not_found_ok: bool = False) -> Any:
        try:
            response = self.fetcher.get(
                f"{self.api_url}{path}", params=params, headers=self._headers, credentials=self._credentials,
                kind=kind, provider=self.provider, not_found_ok=not_found_ok, route=self.route,
            )
        except ProviderAuthError as exc:
            raise ProviderAuthError(
                "TMDB rejected the credentials: check your TMDB key (TMDB_API_KEY or TMDB_READ_ACCESS_TOKEN)"
                f" [{exc}]") from None
        if response.status == 404:
            return None
        return response

    @property
    def image_languages(self) -> str:
        langs = [self.language, "en", "null"]
        return ",".join(dict.fromkeys(langs))

    def movie(self, tmdb_id: int) -> MovieResponse:
        response = self._get(f"/movie/{tmdb_id}", {
            "append_to_response": APPEND, "language": self.language,
            "include_image_language": self.image_languages,
        }, "movie")
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("id"), int):
            from metarr_pipeline.errors import ProviderResponseError

            raise ProviderResponseError(f"TMDB: movie {tmdb_id}: response has no movie id ({response.url})")
        match = _MOVIE_PATH.search(response.url)
        final_id = int(match.group(1)) if match else body["id"]
        return MovieResponse(requested_id=tmdb_id, tmdb_id=body.get("id", final_id), body=body)

    def collection(self, collection_id: int) -> dict[str, Any] | None:
        response = self._get(f"/collection/{collection_id}", {"language": self.language}, "collection",
                             not_found_ok=True)
        return None if response is None else response.json()

    def image_base_url(self) -> str:
        """The CDN base from ``/configuration``, fetched once per client (cached)."""
        with self._image_lock:
            if self._image_base is None:
                body = self._get("/configuration", {}, "configuration").json()
                images = body.get("images", {}) if isinstance(body, dict) else {}
                self._image_base = (images.get("secure_base_url") or images.get("base_url") or "").rstrip("/")
            return self._image_base

    # --- IdResolver -------------------------------------------------------------------------------

    def find_by_imdb(self, imdb_id: str) -> int | None:
        response = self._get(f"/find/{imdb_id}", {"external_source": "imdb_id"}, "find", not_found_ok=True)
        if response is None:
            return None
        results = response.json().get("movie_results") or []
        return int(results[0]["id"]) if len(results) == 1 else None

    def search(self, title: str, year: int | None) -> SearchOutcome:
        params = {"query": title, "include_adult": "false", "language": self.language, "page": "1"}
        if year:
            params["year"] = str(year)
        try:
            response = self._get("/search/movie", params, "search")
        except ProviderNotFound:
            return SearchOutcome(None, reason="TMDB search found no movie")
        results = response.json().get("results") or []
        return pick_search_result(title, year, results)


def _norm(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.findall(r"\w+", plain))


def pick_search_result(title: str, year: int | None, results: list[dict[str, Any]]) -> SearchOutcome:
    """A confident unique match only: exact (accent-insensitive) title, and the year when we have one.

    Several exact-title matches without a year to tell them apart, or no exact match, stay unidentified
    with the candidates listed, because a wrong identification is worse than none.
    """
    def year_of(r: dict[str, Any]) -> int | None:
        date = r.get("release_date") or ""
        return int(date[:4]) if date[:4].isdigit() else None

    def label(r: dict[str, Any]) -> str:
        y = year_of(r)
        return f"{r.get('title')} ({y if y else '?'}) tmdb-{r.get('id')}"

    wanted = _norm(title)
    exact = [r for r in results if wanted in (_norm(r.get("title", "")), _norm(r.get("original_title", "")))]
    if year:
        same_year = [r for r in exact if year_of(r) == year]
        if not same_year:  # release dates differ by country: allow ±1 year when it is unambiguous
            same_year = [r for r in exact if year_of(r) and abs(year_of(r) - year) <= 1]  # type: ignore[operator]
        exact = same_year
    if len(exact) == 1:
        return SearchOutcome(int(exact[0]["id"]))
    candidates = tuple(label(r) for r in (exact or results)[:5])
    if not results:
        return SearchOutcome(None, reason="TMDB search found no movie")
    if len(exact) > 1:
        return SearchOutcome(None, candidates, f"TMDB search found {len(exact)} movies with this title")
    return SearchOutcome(None, candidates, "TMDB search found no exact title match")
