"""Stage 1, collect candidates: every image the providers offer for the batch, as one polars frame.

Reads only what the fetch stage cached (``provider_responses``), so collecting costs no request. TMDB images
are named under TMDB's canonical image base (``providers.images``), never the configured endpoint, so the
names stay valid when the endpoint changes. A movie without cached TMDB metadata fails here and is left
out of every later stage. A movie whose last fetch failed (the fetch kept its previous answer) is enriched
from that answer and counts as faulted, so it keeps its last good result and says why.
"""

from __future__ import annotations

import json
from typing import Any

from metarr_pipeline.artwork.actors import locked_cast, select_actors
from metarr_pipeline.artwork.candidates import candidates_frame, provider_candidates
from metarr_pipeline.artwork.enrich.batch import Batch
from metarr_pipeline.metadata.merge import locked_fields
from metarr_pipeline.providers.fetch import tmdb_key
from metarr_pipeline.providers.images import TMDB_IMAGE_BASE

NO_METADATA = "no provider metadata yet: materialise provider_metadata (metarr fetch) first"


def collect_candidates(batch: Batch) -> None:
    """Fill ``candidates`` (types with a count > 0), ``cast``, ``image_base`` and ``failed_movies``."""
    settings, movies = batch.settings, batch.movies
    lang = settings.languages.preferred
    enabled = settings.artwork.enabled
    responses = batch.store.provider_responses(
        [("tmdb_movie", tmdb_key(m.tmdb_id, lang)) for m in movies if m.tmdb_id]
        + [("fanart_movie", str(m.tmdb_id)) for m in movies if m.tmdb_id])
    bodies: dict[int, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    batch.image_base = TMDB_IMAGE_BASE
    for movie_id, meta in (batch.store.movie_metadata(batch.ids) if movies else {}).items():
        if meta.fetch_error:
            batch.fault([movie_id], f"provider answer failed: {meta.fetch_error[:200]}")
    for m in movies:
        assert m.id is not None and m.tmdb_id is not None
        tmdb = responses.get(("tmdb_movie", tmdb_key(m.tmdb_id, lang)))
        if tmdb is None or not tmdb.body:
            batch.failed_movies[m.id] = NO_METADATA
            continue
        body = json.loads(tmdb.body)
        bodies[m.id] = body
        fanart = responses.get(("fanart_movie", str(m.tmdb_id)))
        rows += provider_candidates(m.id, body, json.loads(fanart.body) if fanart and fanart.body else None, enabled)
    batch.candidates = candidates_frame(rows)
    batch.counters["candidates"] = batch.candidates.height
    batch.cast = {mid: select_actors(((b.get("credits") or {}).get("cast") or []), settings.actors.max_actors)
                  for mid, b in bodies.items()}
    for m in movies:  # a locked cast is the user's: their NFO's actors, not the provider's
        if m.id in batch.cast and "actors" in locked_fields(m.lockdata, m.locked_fields):
            everyone = select_actors(((bodies[m.id].get("credits") or {}).get("cast") or []), 10**6)
            batch.cast[m.id] = locked_cast(m.nfo().get("fields", {}).get("actors") or [], everyone)
