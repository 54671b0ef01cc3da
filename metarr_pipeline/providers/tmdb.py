"""TMDB v3: one request per movie, plus collections, search and find for identification.

``GET /collection/{id}`` appends ``images`` too (``append_to_response`` takes any collection method there, as TMDB
clients document it, e.g. CRAN TMDb's ``collection(key, 10, append_to_response = "images")``; the same images
are also ``/collection/{id}/images``), so a set costs one call for its text and its art.

``GET /movie/{id}`` with ``append_to_response=images,credits,release_dates,external_ids,keywords,videos``
gives everything enrichment needs in one call. ``include_image_language={lang},en,null`` is essential: without
``null`` TMDB silently drops textless images, which are the best fanart and keyart; likewise
``include_video_language={lang},en,null``, or TMDB sends only the videos in the request's language.

The client returns raw JSON (stored as-is in the provider cache, so a re-score never refetches) and
implements the scan's :class:`~metarr_pipeline.scan.identify.IdResolver` for the search rung.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from metarr_pipeline.errors import ProviderAuthError, ProviderNotFound
from metarr_pipeline.models import SearchOutcome
from metarr_pipeline.providers.answers import json_answer
from metarr_pipeline.providers.http import Credentials, HttpFetcher
from metarr_pipeline.providers.keys import ProviderKeys

APPEND = "images,credits,release_dates,external_ids,keywords,videos"
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
        response, body = json_answer(self.fetcher, lambda: self._get(f"/movie/{tmdb_id}", {
            "append_to_response": APPEND, "language": self.language,
            "include_image_language": self.image_languages, "include_video_language": self.image_languages,
        }, "movie"))
        assert response is not None  # a 404 raised ProviderNotFound
        if not isinstance(body, dict) or not isinstance(body.get("id"), int):
            from metarr_pipeline.errors import ProviderResponseError

            raise ProviderResponseError(f"TMDB: movie {tmdb_id}: response has no movie id ({response.url})")
        match = _MOVIE_PATH.search(response.url)
        final_id = int(match.group(1)) if match else body["id"]
        return MovieResponse(requested_id=tmdb_id, tmdb_id=body.get("id", final_id), body=body)

    def collection(self, collection_id: int) -> dict[str, Any] | None:
        """The set's name, overview and parts, with its posters and backdrops appended (one call per set, the
        same ``include_image_language`` as a movie's, so textless art is kept); None when TMDB has no such set."""
        _, body = json_answer(self.fetcher, lambda: self._get(
            f"/collection/{collection_id}", {"language": self.language, "append_to_response": "images",
                                             "include_image_language": self.image_languages},
            "collection", not_found_ok=True))
        return body

    # --- IdResolver -------------------------------------------------------------------------------

    def find_by_imdb(self, imdb_id: str) -> int | None:
        _, body = json_answer(self.fetcher, lambda: self._get(
            f"/find/{imdb_id}", {"external_source": "imdb_id"}, "find", not_found_ok=True))
        results = (body.get("movie_results") if isinstance(body, dict) else None) or []
        return int(results[0]["id"]) if len(results) == 1 else None

    def search_results(self, title: str, year: int | None) -> list[dict[str, Any]]:
        """The first page of ``/search/movie`` as TMDB lists it (title, original title, date, poster path)."""
        params = {"query": title, "include_adult": "false", "language": self.language, "page": "1"}
        if year:
            params["year"] = str(year)
        try:
            _, body = json_answer(self.fetcher, lambda: self._get("/search/movie", params, "search"))
        except ProviderNotFound:
            return []
        results = body.get("results") if isinstance(body, dict) else None
        return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []

    def search(self, title: str, year: int | None) -> SearchOutcome:
        results = self.search_results(title, year)
        outcome = pick_search_result(title, year, results)
        if outcome.tmdb_id is None and outcome.reason == NO_EXACT_MATCH and year:
            return pick_by_other_titles(title, year, results, self.other_titles) or outcome
        return outcome

    def other_titles(self, tmdb_id: int) -> list[str]:
        """A movie's alternative and translated titles: one ``/movie/{id}`` call appending both."""
        _, body = json_answer(self.fetcher, lambda: self._get(
            f"/movie/{tmdb_id}", {"append_to_response": "alternative_titles,translations", "language": self.language},
            "identify", not_found_ok=True))
        return other_titles(body) if isinstance(body, dict) else []

    def summary(self, tmdb_id: int) -> dict[str, Any] | None:
        """The movie as a list shows it (title, original title, release date, poster path), or None (404)."""
        _, body = json_answer(self.fetcher, lambda: self._get(
            f"/movie/{tmdb_id}", {"language": self.language}, "identify", not_found_ok=True))
        return body if isinstance(body, dict) and isinstance(body.get("id"), int) else None


def _norm(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.findall(r"\w+", plain))


NO_EXACT_MATCH = "TMDB search found no exact title match"
MAX_OTHER_TITLE_LOOKUPS = 5  # search results of the right year whose other titles are asked for


def year_of(result: dict[str, Any]) -> int | None:
    date = result.get("release_date") or ""
    return int(date[:4]) if date[:4].isdigit() else None


def label(result: dict[str, Any]) -> str:
    y = year_of(result)
    return f"{result.get('title')} ({y if y else '?'}) tmdb-{result.get('id')}"


def other_titles(body: dict[str, Any]) -> list[str]:
    """Alternative titles and translated titles from a ``/movie/{id}`` body that appended both."""
    alt = body.get("alternative_titles") or {}
    trans = body.get("translations") or {}
    titles = [t.get("title") for t in (alt.get("titles") or []) if isinstance(t, dict)]
    titles += [(t.get("data") or {}).get("title") for t in (trans.get("translations") or []) if isinstance(t, dict)]
    return [t for t in titles if isinstance(t, str) and t.strip()]


def pick_by_other_titles(title: str, year: int, results: list[dict[str, Any]],
                         titles_of: Callable[[int], list[str]]) -> SearchOutcome | None:
    """The rung after an exact title: a search result of the same year (±1) one of whose alternative or
    translated titles is the folder's title (accent-, case- and punctuation-insensitive), when exactly one is.

    This is how Kodi's and tinyMediaManager's scrapers find a film filed under its romanised or original title.
    Several such results stay unidentified with the candidates listed; None when none matches.
    """
    wanted = _norm(title)
    close = [r for r in results if isinstance(r.get("id"), int) and year_of(r) and abs(year_of(r) - year) <= 1]  # type: ignore[operator]
    matched = [r for r in close[:MAX_OTHER_TITLE_LOOKUPS] if wanted in {_norm(t) for t in titles_of(r["id"])}]
    if len(matched) == 1:
        return SearchOutcome(int(matched[0]["id"]))
    if matched:
        return SearchOutcome(None, tuple(label(r) for r in matched[:5]),
                             f"TMDB search found {len(matched)} movies with this alternative title")
    return None


def pick_search_result(title: str, year: int | None, results: list[dict[str, Any]]) -> SearchOutcome:
    """A confident unique match only: exact (accent-insensitive) title, and the year when we have one.

    Several exact-title matches without a year to tell them apart, or no exact match, stay unidentified
    with the candidates listed, because a wrong identification is worse than none.
    """
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
    return SearchOutcome(None, candidates, NO_EXACT_MATCH)
