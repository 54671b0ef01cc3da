"""What the schedules and sensors need to decide, as plain functions over the store (no Dagster here).

- **Due for enrichment**: never enriched, provider data older than the TTL, the last fetch failed, or the last
  enrichment was touched by a fault and kept its last good result (``"retry"`` in its summary).
- **Sets due for their art**: a movie set of the library never chosen for, chosen longer ago than the providers'
  TTL, or touched by a fault last time (``"retry"``): :func:`sets_due`.
- **Outdated for publishing**: enriched, not marked manual, and enrichment or metadata newer than the last
  successful publish (or never published).
- **Stale after a config change**: a stage's stored config fingerprint differs from the current one.
- **Batched ranges**: Dagster runs cover contiguous ranges of movie partitions; ``batched_ranges`` covers every
  wanted key with at most ``max_per_run`` partitions per run. Movies inside a range that were not wanted are
  cheap no-ops (their caches are fresh and their results unchanged), so a few big runs beat thousands of
  one-movie runs (seconds of process start-up each).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from metarr_pipeline.config import Settings
from metarr_pipeline.fingerprints import config_fingerprint, publish_fingerprint
from metarr_pipeline.store import Store


def due_for_enrichment(settings: Settings, store: Store, now: datetime | None = None) -> list[str]:
    now = now or datetime.now()
    ttl = timedelta(days=settings.providers.tmdb.cache_ttl_days)
    movies = [m for m in store.movies(include_gone=False) if m.is_partition and m.id is not None]
    ids = [m.id for m in movies if m.id is not None]
    metadata = store.movie_metadata(ids) if ids else {}
    enriched = store.enrichment_rows(ids) if ids else {}
    due = []
    for m in movies:
        meta = metadata.get(m.id)  # type: ignore[arg-type]
        if m.id not in enriched or meta is None or meta.fetch_error or meta.fetched_at is None \
                or now - meta.fetched_at >= ttl or '"retry"' in (enriched[m.id].summary_json or ""):
            due.append(m.partition_key)
    return sorted(k for k in due if k)


def sets_due(settings: Settings, store: Store, now: datetime | None = None) -> list[str]:
    """The partition keys of the library's sets whose art the sets' stage should choose (again)."""
    now = now or datetime.now()
    ttl = timedelta(days=min(settings.providers.tmdb.cache_ttl_days, settings.providers.fanart.cache_ttl_days))
    library = store.library_sets()
    rows = store.collection_rows(list(library)) if library else {}
    return sorted(s.partition_key for cid, s in library.items()
                  if cid not in rows or now - rows[cid].enriched_at >= ttl or '"retry"' in rows[cid].summary_json)


def outdated_for_publish(store: Store, *, include_manual: bool = False) -> list[str]:
    movies = [m for m in store.movies(include_gone=False) if m.is_partition and m.id is not None]
    states = store.publish_state([m.id for m in movies if m.id is not None]) if movies else {}
    keys = []
    for m in movies:
        state = states.get(m.id)  # type: ignore[arg-type]
        if state is not None and state.enriched and state.state != "published" and (include_manual or not m.manual):
            keys.append(m.partition_key)
    return sorted(k for k in keys if k)


def publish_changes(store: Store, partition_keys: Sequence[str]) -> dict[str, str]:
    """When each movie's enrichment or metadata last changed (ISO text), for run keys that follow the changes."""
    movies = [m for m in store.movies(partition_keys=list(partition_keys)) if m.id is not None]
    states = store.publish_state([m.id for m in movies if m.id is not None]) if movies else {}
    out = {}
    for m in movies:
        state = states.get(m.id)  # type: ignore[arg-type]
        changed = state.changed_at if state is not None else None
        out[m.partition_key or ""] = changed.isoformat() if changed else ""
    return out


def stale_movies(settings: Settings, store: Store) -> dict[str, list[str]]:
    """Movies whose enrichment or publish ran under another config than the current one."""
    movies = [m for m in store.movies(include_gone=False) if m.is_partition and m.id is not None]
    ids = [m.id for m in movies if m.id is not None]
    enrich_fp = config_fingerprint(settings)
    publish_fp = publish_fingerprint(settings)
    enriched = store.enrichment_rows(ids) if ids else {}
    published = store.publish_fingerprints(ids) if ids else {}
    out: dict[str, list[str]] = {"enrich": [], "publish": []}
    for m in movies:
        row = enriched.get(m.id)  # type: ignore[arg-type]
        if row is not None and row.config_fingerprint != enrich_fp:
            out["enrich"].append(m.partition_key)  # type: ignore[arg-type]
        fp = published.get(m.id)  # type: ignore[arg-type]
        if fp is not None and fp != publish_fp:
            out["publish"].append(m.partition_key)  # type: ignore[arg-type]
    return {k: sorted(v) for k, v in out.items()}


def batched_ranges(ordered_keys: Sequence[str], wanted: Sequence[str], max_per_run: int) -> list[tuple[str, str]]:
    """Contiguous (start, end) ranges of ``ordered_keys`` covering every wanted key, at most ``max_per_run`` long.

    A range starts at a wanted key and ends at the last wanted key within ``max_per_run`` positions, so unwanted
    keys only appear between wanted ones.
    """
    wanted_set = set(wanted)
    positions = [i for i, k in enumerate(ordered_keys) if k in wanted_set]
    ranges: list[tuple[str, str]] = []
    i = 0
    while i < len(positions):
        start = positions[i]
        j = i
        while j + 1 < len(positions) and positions[j + 1] - start < max_per_run:
            j += 1
        ranges.append((ordered_keys[start], ordered_keys[positions[j]]))
        i = j + 1
    return ranges
