"""A set's two answers: TMDB's ``/collection/{id}`` (its images appended) and fanart.tv's ``movies/{id}``.

One call per set and provider, cached in ``provider_responses`` like a movie's (``tmdb_collection`` under the
same key the movie fetch uses, so whichever stage asks first serves the other; ``fanart_collection`` by id, a
404 cached too: "fanart.tv has no art for this set" is an answer). A cached TMDB answer without ``images`` (from
before sets had their own art) is asked again. A provider failure fails that set only, with the provider named;
the other sets go on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import ProviderError
from metarr_pipeline.providers.fetch import is_fresh, tmdb_key
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import LibrarySet, ProviderResponse, Store

MAX_WORKERS = 8


@dataclass
class SetAnswers:
    """What the providers say about the batch's sets: bodies by set, failures by set, answers new this run."""

    tmdb: dict[int, dict[str, Any]] = field(default_factory=dict)
    fanart: dict[int, dict[str, Any]] = field(default_factory=dict)  # absent: fanart.tv has nothing (or no key)
    failed: dict[int, str] = field(default_factory=dict)
    fresh: list[ProviderResponse] = field(default_factory=list)
    cache_hits: int = 0


def fetch_set_answers(settings: Settings, store: Store, session: ProviderSession, sets: Sequence[LibrarySet],
                      now: datetime, *, force: bool = False) -> SetAnswers:
    """Both answers of every set, from the cache while young enough, else asked (concurrently)."""
    lang = settings.languages.preferred
    ids = [s.collection_id for s in sets]
    cached = store.provider_responses([("tmdb_collection", tmdb_key(c, lang)) for c in ids]
                                      + [("fanart_collection", str(c)) for c in ids])
    ttls = (timedelta(days=settings.providers.tmdb.cache_ttl_days),
            timedelta(days=settings.providers.fanart.cache_ttl_days))
    answers = SetAnswers()

    def one(cid: int) -> None:
        try:
            tmdb = _tmdb(session, cached.get(("tmdb_collection", tmdb_key(cid, lang))), cid, lang, now,
                         ttls[0], force, answers)
            fanart = _fanart(session, cached.get(("fanart_collection", str(cid))), cid, now, ttls[1], force,
                             answers)
        except ProviderError as exc:
            answers.failed[cid] = str(exc)[:300]
            return
        if tmdb is None:
            answers.failed[cid] = f"TMDB has no collection {cid} (404)"
            return
        answers.tmdb[cid] = tmdb
        if fanart is not None:
            answers.fanart[cid] = fanart

    if ids:
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(ids)), thread_name_prefix="set") as pool:
            list(pool.map(one, ids))
    store.save_fetch(answers.fresh, [])
    return answers


def _tmdb(session: ProviderSession, hit: ProviderResponse | None, cid: int, lang: str, now: datetime,
          ttl: timedelta, force: bool, answers: SetAnswers) -> dict[str, Any] | None:
    body = json.loads(hit.body) if hit is not None and hit.body else None
    if is_fresh(hit, ttl, now=now, force=force) and isinstance(body, dict) and "images" in body:
        answers.cache_hits += 1
        return body
    try:
        body = session.tmdb.collection(cid)
    except ProviderError as exc:
        raise ProviderError(f"TMDB: collection {cid}: {exc}") from exc
    if isinstance(body, dict):
        answers.fresh.append(ProviderResponse("tmdb_collection", tmdb_key(cid, lang), now, 200, _json(body)))
        return body
    return None


def _fanart(session: ProviderSession, hit: ProviderResponse | None, cid: int, now: datetime, ttl: timedelta,
            force: bool, answers: SetAnswers) -> dict[str, Any] | None:
    if session.fanart is None:
        return None
    if is_fresh(hit, ttl, now=now, force=force) and hit is not None:
        answers.cache_hits += 1
        return json.loads(hit.body) if hit.body else None
    try:
        body = session.fanart.collection(cid)
    except ProviderError as exc:
        raise ProviderError(f"fanart.tv: collection {cid}: {exc}") from exc
    text = session.canonical_text(_json(body)) if body is not None else None
    answers.fresh.append(ProviderResponse("fanart_collection", str(cid), now, 200 if body is not None else 404, text))
    return json.loads(text) if text else None


def _json(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, sort_keys=True)
