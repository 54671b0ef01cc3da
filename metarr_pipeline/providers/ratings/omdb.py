"""OMDb: IMDb, Rotten Tomatoes and Metacritic ratings, one request per movie, within a daily quota.

The key comes from ``OMDB_API_KEY`` in the environment only and is redacted from every message (it travels as
``?apikey=``). A free key allows 1,000 requests a day, so:

- an answer younger than ``omdb_ttl_days`` is reused from the provider cache (``provider_responses``,
  provider ``omdb``) without a request; "no such title" answers are cached too;
- requests per day (the run's clock) are counted in the state file (``provider_usage``), so every run and process shares
  one quota, and a run never sends more than what is left of it, nor more than ``omdb_per_run``, so the day's
  quota is spread over the day's runs instead of being spent by the first;
- the movies never asked go first, then the oldest answers, so a library larger than a day's quota is
  covered over the following days;
- a 401 (OMDb's answer to a bad key *and* to a spent quota) stops OMDb for this run and records the day's
  quota as spent, so no other run of the day tries again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import ProviderAuthError, ProviderError
from metarr_pipeline.providers.http import HttpFetcher
from metarr_pipeline.providers.ratings.source import Rating, RatingQuery, SourceAnswer, rating
from metarr_pipeline.redaction import redact
from metarr_pipeline.store import ProviderResponse, Store

PROVIDER = "omdb"
_IMDB_ID = re.compile(r"tt\d{7,9}")
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")


def _number(text: object) -> float | None:
    match = _NUMBER.match(str(text or "").replace(",", ""))
    return float(match.group(1)) if match else None


def parse_omdb(body: Mapping[str, Any]) -> dict[str, Rating]:
    """OMDb's answer as Kodi ratings; "N/A" and missing sources are left out, values outside a scale too."""
    if str(body.get("Response")) != "True":
        return {}
    out: dict[str, Rating] = {}
    imdb, votes = _number(body.get("imdbRating")), _number(body.get("imdbVotes"))
    if imdb is not None and 0 <= imdb <= 10:
        out["imdb"] = rating("imdb", imdb, int(votes) if votes else None)
    for entry in body.get("Ratings") or ():
        if not isinstance(entry, Mapping):
            continue
        value = _number(entry.get("Value"))
        name = {"Rotten Tomatoes": "tomatometerallcritics", "Metacritic": "metacritic"}.get(str(entry.get("Source")))
        if name and value is not None and 0 <= value <= 100:
            out[name] = rating(name, value)
    return out


class OmdbRatings:
    name = "omdb"

    def __init__(self, settings: Settings, store: Store, fetcher: HttpFetcher, api_key: str, now: datetime,
                 url_override: str = "") -> None:
        self.settings = settings.ratings
        self.store = store
        self.fetcher = fetcher
        self.api_key = api_key
        self.now = now
        self.url = url_override or self.settings.omdb_url
        self.responses: list[ProviderResponse] = []  # new answers, saved with the metadata

    def _budget(self) -> int:
        used = self.store.provider_usage(PROVIDER, self.now.date())
        return max(0, min(self.settings.omdb_per_run, self.settings.omdb_daily_limit - used))

    def _plan(self, ids: list[str], cached: Mapping[tuple[str, str], ProviderResponse]) -> list[str]:
        """The ids to ask, best first: never asked, then the oldest answers; fresh ones are not asked."""
        fresh_after = self.now - timedelta(days=self.settings.omdb_ttl_days)
        stale = [i for i in ids if (PROVIDER, i) not in cached or cached[(PROVIDER, i)].fetched_at < fresh_after]
        return sorted(stale, key=lambda i: (
            (PROVIDER, i) in cached, cached[(PROVIDER, i)].fetched_at if (PROVIDER, i) in cached else self.now, i))

    def _ask(self, imdb_id: str) -> ProviderResponse:
        response = self.fetcher.get(self.url, params={"i": imdb_id, "apikey": self.api_key}, kind="omdb",
                                    provider="OMDb", max_bytes=256 * 1024)
        body = response.json()
        if not isinstance(body, dict):
            raise ProviderError(f"OMDb: unexpected answer for {imdb_id}")
        return ProviderResponse(PROVIDER, imdb_id, self.now, 200 if body.get("Response") == "True" else 404,
                                json.dumps(body, ensure_ascii=False, sort_keys=True))

    def ratings(self, movies: Sequence[RatingQuery]) -> SourceAnswer:
        answer = SourceAnswer()
        if not self.api_key:
            answer.notes.append("OMDb: OMDB_API_KEY is not set in the environment: skipped")
            return answer
        ids = sorted({m.imdb_id for m in movies if _IMDB_ID.fullmatch(m.imdb_id or "")})
        cached = self.store.provider_responses([(PROVIDER, i) for i in ids])
        wanted = self._plan(ids, cached)
        budget = self._budget()
        answers = {i: r for (_, i), r in cached.items()}
        for imdb_id in wanted[:budget]:
            answer.requests += 1
            try:
                answers[imdb_id] = self._ask(imdb_id)
                self.responses.append(answers[imdb_id])
            except ProviderAuthError:
                answer.notes.append("OMDb refused the key (a wrong OMDB_API_KEY, or the day's quota is spent): "
                                    "stopped until tomorrow")
                self.store.add_provider_usage(PROVIDER, self.now.date(), self.settings.omdb_daily_limit)
                break
            except ProviderError as exc:
                answer.notes.append(f"OMDb: {imdb_id}: {redact(str(exc), (self.api_key,))}")
        self.store.add_provider_usage(PROVIDER, self.now.date(), answer.requests)
        if len(wanted) > budget:
            answer.notes.append(f"OMDb: {len(wanted) - budget} movies left for later runs (daily quota "
                                f"{self.settings.omdb_daily_limit}, at most {self.settings.omdb_per_run} per run)")
        for movie in movies:
            cached_answer = answers.get(movie.imdb_id)
            if cached_answer is not None and cached_answer.body:
                found = parse_omdb(json.loads(cached_answer.body))
                if found:
                    answer.ratings[movie.movie_id] = found
        return answer
