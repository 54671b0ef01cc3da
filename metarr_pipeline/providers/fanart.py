"""fanart.tv v3: ``GET /movies/{tmdb_id}``; a 404 means "no art for this movie", not an error.

The same route takes a TMDB collection id and answers with the set's art (movieposter, moviebackground,
hdmovielogo, hdmovieclearart, moviebanner, moviethumb, moviedisc): :meth:`FanartClient.collection`, the way
Kodi's TMDB scraper asks ``movies/{set id}`` for set art.
"""

from __future__ import annotations

from typing import Any

from metarr_pipeline.errors import ProviderResponseError
from metarr_pipeline.providers.answers import json_answer
from metarr_pipeline.providers.http import Credentials, HttpFetcher
from metarr_pipeline.providers.keys import ProviderKeys


class FanartClient:
    provider = "fanart.tv"
    route = "fanart_api"  # the politeness key and redirect allowlist (HttpFetcher routes)

    def __init__(self, fetcher: HttpFetcher, api_url: str, keys: ProviderKeys) -> None:
        self.fetcher = fetcher
        self.api_url = api_url.rstrip("/")
        params = {"api_key": keys.fanart_api_key or ""}
        if keys.fanart_client_key:
            params["client_key"] = keys.fanart_client_key
        self._credentials = Credentials(params=params)  # only ever sent to the API's own origin

    def movie(self, tmdb_id: int) -> dict[str, Any] | None:
        return self._movies(tmdb_id, "fanart_movie", "movie")

    def collection(self, collection_id: int) -> dict[str, Any] | None:
        """A TMDB collection's art; None (a 404) when fanart.tv has none for the set."""
        return self._movies(collection_id, "fanart_collection", "collection")

    def _movies(self, some_id: int, kind: str, what: str) -> dict[str, Any] | None:
        response, body = json_answer(self.fetcher, lambda: self.fetcher.get(
            f"{self.api_url}/movies/{some_id}", credentials=self._credentials, kind=kind,
            provider=self.provider, not_found_ok=True, route=self.route))
        if response is None or response.status == 404:
            return None
        if not isinstance(body, dict):
            raise ProviderResponseError(f"fanart.tv: {what} {some_id}: expected a JSON object ({response.url})")
        return body
