"""fanart.tv v3: ``GET /movies/{tmdb_id}``; a 404 means "no art for this movie", not an error."""

from __future__ import annotations

from typing import Any

from metarr_pipeline.errors import ProviderResponseError
from metarr_pipeline.providers.answers import json_answer
from metarr_pipeline.providers.http import HttpFetcher
from metarr_pipeline.providers.keys import ProviderKeys


class FanartClient:
    provider = "fanart.tv"

    def __init__(self, fetcher: HttpFetcher, api_url: str, keys: ProviderKeys) -> None:
        self.fetcher = fetcher
        self.api_url = api_url.rstrip("/")
        self._params = {"api_key": keys.fanart_api_key}
        if keys.fanart_client_key:
            self._params["client_key"] = keys.fanart_client_key

    def movie(self, tmdb_id: int) -> dict[str, Any] | None:
        response, body = json_answer(self.fetcher, lambda: self.fetcher.get(
            f"{self.api_url}/movies/{tmdb_id}", params=self._params, kind="fanart_movie", provider=self.provider,
            not_found_ok=True))
        if response is None or response.status == 404:
            return None
        if not isinstance(body, dict):
            raise ProviderResponseError(f"fanart.tv: movie {tmdb_id}: expected a JSON object ({response.url})")
        return body
