"""Where a provider's images live: TMDB publishes its image base URL, fanart.tv puts full URLs in its data.

TMDB's ``/configuration`` changes rarely, so its answer is cached in ``provider_responses`` like any other
provider response (with the same TTL), in canonical form (``ProviderSession.canonical``) so the candidate
URLs built from it stay valid when the simulator of another run listened on other ports.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from metarr_pipeline.config import Settings
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import ProviderResponse, Store


def tmdb_image_base(store: Store, session: ProviderSession, settings: Settings, now: datetime) -> str:
    """TMDB's image base URL from ``/configuration``, cached like any provider response (canonical form)."""
    key = ("tmdb_configuration", "images")
    cached = store.provider_responses([key]).get(key)
    ttl = timedelta(days=settings.providers.tmdb.cache_ttl_days)
    if cached is not None and cached.body and now - cached.fetched_at < ttl:
        return json.loads(cached.body)["base"]
    base = session.canonical(session.tmdb.image_base_url()).rstrip("/")
    store.save_fetch([ProviderResponse(key[0], key[1], now, 200, json.dumps({"base": base}))], [])
    return base
