"""Enriching a batch of movies, without touching their folders.

    cached provider responses → candidates (one polars frame for the whole batch)
      → analysis of each small rendition (size, format, perceptual hash; cached by URL, fetched concurrently)
      → score + rank (polars, window per movie × type) → gates, duplicates, selection
      → originals of the winners into the content-addressed blob store (verified; reused when present;
        deferred on an offline re-score, see ``download_originals``)
      → actors and their headshots (shared blobs)
      → one write for the movies whose result changed.

Idempotent by construction: with the same provider data, config and user choices, the analysis comes from
the cache, the ranking is deterministic, the winners' blobs exist, and each movie's state hash matches the
stored one, so a second run downloads nothing and writes nothing. The state hash covers what was chosen, not
whether its bytes are cached yet: fetching an already chosen original later (next enrichment, or publish)
only attaches the blob to the candidate row and is not a new result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from metarr_pipeline.artwork.actors import Actor, select_actors
from metarr_pipeline.artwork.blobs import BlobStore
from metarr_pipeline.artwork.candidates import candidates_frame, fanart_candidates, tmdb_candidates
from metarr_pipeline.artwork.imaging import DUPLICATE_THRESHOLD, ImageError, analyse_rendition, verify_original
from metarr_pipeline.artwork.scoring import PARTS, score_candidates
from metarr_pipeline.artwork.selection import UserChoices, select
from metarr_pipeline.config import Settings
from metarr_pipeline.errors import DisallowedHostError, MetarrError, ProviderNotFound, ProviderResponseError
from metarr_pipeline.providers.fetch import tmdb_key
from metarr_pipeline.providers.http import check_allowed
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.store import MovieRecord, ProviderResponse, Store

log = logging.getLogger(__name__)
HEADSHOT_SIZE = "h632"
_PERMANENT = (ImageError, ProviderNotFound, ProviderResponseError, DisallowedHostError)


@dataclass(frozen=True)
class ChosenArt:
    type: str
    rank: int
    candidate_id: str
    provider: str
    language: str
    width: int
    height: int
    score: float
    parts: dict[str, float]
    blob_sha: str | None
    ext: str


@dataclass(frozen=True)
class MovieEnrichment:
    partition_key: str
    movie_id: int
    status: str  # enriched | unchanged | failed
    error: str = ""
    chosen: tuple[ChosenArt, ...] = ()
    top: tuple[dict[str, Any], ...] = ()  # best candidates per type with their score parts
    duplicates: tuple[tuple[str, str, str], ...] = ()  # (type, candidate, duplicate of)
    failed_candidates: int = 0
    candidates: int = 0
    actors: int = 0
    actors_without_headshot: int = 0
    selection_changed: bool = False
    warnings: tuple[str, ...] = ()


@dataclass
class EnrichReport:
    movies: list[MovieEnrichment]
    counters: dict[str, int] = field(default_factory=dict)
    requests: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failures(self) -> list[MovieEnrichment]:
        return [m for m in self.movies if m.status == "failed"]

    def summary(self) -> dict[str, Any]:
        return {
            "movies": len(self.movies),
            "enriched": sum(1 for m in self.movies if m.status == "enriched"),
            "unchanged": sum(1 for m in self.movies if m.status == "unchanged"),
            "failed": len(self.failures),
            "selection_changed": sum(1 for m in self.movies if m.selection_changed),
            **self.counters,
            "requests": self.requests.get("requests", 0),
            "seconds": round(self.seconds, 3),
        }


def config_fingerprint(settings: Settings) -> str:
    """What in the config can change an enrichment result (for stale detection and backfills)."""
    relevant = {
        "counts": settings.artwork.counts, "weights": settings.scoring.weights,
        "provider_preference": settings.scoring.provider_preference, "language": settings.languages.preferred,
        "actors": settings.actors.max_actors, "duplicate_threshold": DUPLICATE_THRESHOLD,
    }
    return hashlib.sha1(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


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


def enrich_movies(
    settings: Settings,
    store: Store,
    session: ProviderSession,
    partition_keys: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    download_originals: bool = True,
) -> EnrichReport:
    """Enrich a batch. ``download_originals=False`` is the offline re-score (a backfill after a scoring or
    selection config change): everything comes from stored data, and winners whose original is not cached
    keep ``blob_sha`` empty; publish (or the next regular enrichment) fetches them when they are needed."""
    started = time.perf_counter()
    now = now or datetime.now().replace(microsecond=0)
    stats_before = session.fetcher.stats.snapshot()
    lang = settings.languages.preferred
    counts = {k: v for k, v in settings.artwork.counts.items()}
    enabled = {k for k, v in counts.items() if v > 0}
    blobs = BlobStore(settings.cache_dir)
    counters = {"candidates": 0, "previews_analysed": 0, "previews_cached": 0, "originals_downloaded": 0,
                "originals_reused": 0, "originals_deferred": 0, "headshots_downloaded": 0, "headshots_reused": 0,
                "bytes_downloaded": 0}
    lock = threading.Lock()

    def bump(name: str, n: int = 1) -> None:
        with lock:
            counters[name] += n

    movies = [m for m in store.movies(include_gone=False, partition_keys=partition_keys) if m.is_partition]
    ids = [m.id for m in movies if m.id is not None]
    responses = store.provider_responses(
        [("tmdb_movie", tmdb_key(m.tmdb_id, lang)) for m in movies if m.tmdb_id]
        + [("fanart_movie", str(m.tmdb_id)) for m in movies if m.tmdb_id])
    failed_movies: dict[int, str] = {}
    bodies: dict[int, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    base = tmdb_image_base(store, session, settings, now) if movies else ""
    for m in movies:
        assert m.id is not None and m.tmdb_id is not None
        tmdb = responses.get(("tmdb_movie", tmdb_key(m.tmdb_id, lang)))
        if tmdb is None or not tmdb.body:
            failed_movies[m.id] = "no provider metadata yet: materialise provider_metadata (metarr fetch) first"
            continue
        body = json.loads(tmdb.body)
        bodies[m.id] = body
        rows += tmdb_candidates(m.id, body, base, enabled)
        fanart = responses.get(("fanart_movie", str(m.tmdb_id)))
        if fanart is not None and fanart.body:
            rows += fanart_candidates(m.id, json.loads(fanart.body), enabled)
    frame = candidates_frame(rows)
    counters["candidates"] = frame.height

    # --- actors: their headshots download alongside the analysis below (both keep the image hosts busy) ----
    cast_by_movie = {mid: select_actors(((b.get("credits") or {}).get("cast") or []), settings.actors.max_actors)
                     for mid, b in bodies.items()}
    headshot_blobs: list[dict[str, Any]] = []
    background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="headshots")
    headshots = background.submit(_headshots, cast_by_movie, store, session, settings, base, blobs, now, bump,
                                  headshot_blobs)

    # --- analysis of the small renditions (cached by URL) ------------------------------------------------
    previews = frame.get_column("preview_url").unique(maintain_order=True).to_list()
    known = store.image_analysis(previews)
    counters["previews_cached"] = sum(1 for p in previews if p in known)
    fresh_analysis: list[dict[str, Any]] = []
    transient: dict[str, str] = {}

    def analyse(url: str) -> None:
        try:
            check_allowed(url, session.image_hosts)
            response = session.fetcher.get(session.actual(url), kind="preview", provider="image host",
                                           max_bytes=int(settings.providers.max_image_mb * 1024 * 1024))
            facts = analyse_rendition(response.content)
            row = {"preview_url": url, "format": facts.format, "width": facts.width, "height": facts.height,
                   "phash": facts.phash, "error": "", "analysed_at": now}
            bump("bytes_downloaded", len(response.content))
        except _PERMANENT as exc:
            row = {"preview_url": url, "format": "", "width": None, "height": None, "phash": None,
                   "error": str(exc)[:300], "analysed_at": now}
        except MetarrError as exc:  # transient: not cached, retried on the next run
            with lock:
                transient[url] = str(exc)[:300]
            return
        with lock:
            fresh_analysis.append(row)
        bump("previews_analysed")

    todo = [p for p in previews if p not in known]
    _run_concurrently(analyse, todo, download_workers(settings))
    for row in fresh_analysis:
        known[row["preview_url"]] = (row["format"], row["width"], row["height"], row["phash"], row["error"])

    analysis = pl.DataFrame(
        [(u, *known[u]) if u in known else (u, "", None, None, None, transient.get(u, "not analysed"))
         for u in previews],
        schema={"preview_url": pl.String, "a_format": pl.String, "a_width": pl.Int32, "a_height": pl.Int32,
                "phash": pl.UInt64, "analysis_error": pl.String}, orient="row",
    ) if previews else None
    frame = _with_analysis(frame, analysis)

    # --- score, rank, select ------------------------------------------------------------------------------
    ranked = score_candidates(frame, settings.scoring.weights, settings.scoring.provider_preference, lang)
    previous = store.artwork_candidates(ids) if ids else pl.DataFrame()
    choices = _choices(store, ids, previous)
    prev_blobs = _previous_blobs(previous)
    blob_info = store.blob_rows(sorted({sha for sha, _ in prev_blobs.values()}))
    new_blobs: list[dict[str, Any]] = []
    winner_blob: dict[str, tuple[str, str]] = {}  # url → (sha, ext)
    failed: dict[tuple[int, str, str], str] = {}
    selected = ranked
    for _round in range(3):
        selected = select(ranked, counts, UserChoices(choices.picks, choices.rejects, choices.locks,
                                                      choices.previous, failed), DUPLICATE_THRESHOLD)
        winners = selected.filter(pl.col("selected_rank").is_not_null())
        needed: dict[str, list[tuple[int, str, str]]] = {}
        for row in winners.select("movie_id", "type", "candidate_id", "url").iter_rows():
            movie_id, kind, cid, url = row
            if url in winner_blob:
                continue
            prev = prev_blobs.get((movie_id, cid))
            if prev and blobs.has(prev[0], prev[1]):
                winner_blob[url] = prev
                bump("originals_reused")
                continue
            needed.setdefault(url, []).append((movie_id, kind, cid))
        if not needed:
            break
        if not download_originals:
            counters["originals_deferred"] = len(needed)
            break
        outcomes: dict[str, tuple[str, str] | str] = {}

        def download(url: str, outcomes: dict[str, tuple[str, str] | str] = outcomes) -> None:
            try:
                row = download_blob(session, settings, blobs, url, "original", now)
            except MetarrError as exc:
                with lock:
                    outcomes[url] = str(exc)[:300]
                return
            bump("originals_downloaded")
            bump("bytes_downloaded", row["bytes"])
            with lock:
                outcomes[url] = (row["sha256"], row["ext"])
                new_blobs.append(row)

        _run_concurrently(download, list(needed), download_workers(settings))
        for url, result in outcomes.items():
            if isinstance(result, tuple):
                winner_blob[url] = result
            else:
                for movie_id, kind, cid in needed[url]:
                    failed[(movie_id, kind, cid)] = result
        if all(isinstance(outcomes.get(u), tuple) for u in needed):
            break
    blob_info.update({b["sha256"]: b for b in new_blobs})

    selected = selected.with_columns(
        blob_sha=pl.when(pl.col("selected_rank").is_not_null())
        .then(pl.col("url").replace_strict({u: v[0] for u, v in winner_blob.items()}, default=None))
        .otherwise(None),
    )

    # --- actors ---------------------------------------------------------------------------------------------
    people_rows = headshots.result()
    background.shutdown()
    new_blobs += headshot_blobs

    # --- compare with what is stored, write only what changed ---------------------------------------------
    fingerprint = config_fingerprint(settings)
    stored = store.enrichment_rows(ids) if ids else {}
    changed_ids: list[int] = []
    results: list[MovieEnrichment] = []
    candidate_frames: list[pl.DataFrame] = []
    actor_rows: list[dict[str, Any]] = []
    enrichment_rows: list[dict[str, Any]] = []
    per_movie = {k[0]: g for k, g in selected.partition_by("movie_id", as_dict=True).items()} if selected.height else {}
    blob_updates: list[tuple[int, str, str]] = []
    for m in movies:
        assert m.id is not None and m.partition_key is not None
        if m.id in failed_movies:
            results.append(MovieEnrichment(m.partition_key, m.id, "failed", failed_movies[m.id]))
            continue
        group = per_movie.get(m.id, selected.clear())
        table = _stored_columns(group)
        actors = cast_by_movie.get(m.id, [])
        state = _hash({"candidates": table.drop("blob_sha").to_dicts(), "actors": [a.__dict__ for a in actors],
                       "headshots": [people_rows.get(a.person_id, {}).get("blob_sha") for a in actors],
                       "fingerprint": fingerprint})
        sel = table.filter(pl.col("selected_rank").is_not_null()).sort(["type", "selected_rank"])
        selection_hash = _hash(sel.select("type", "selected_rank", "candidate_id").to_dicts())
        prior = stored.get(m.id)
        unchanged = prior is not None and prior["state_hash"] == state
        if unchanged:
            blob_updates += _blob_updates(m.id, sel, prev_blobs)
        selection_changed = prior is None or prior["selection_hash"] != selection_hash
        result = _describe(m, group, blob_info, actors, people_rows, "unchanged" if unchanged else "enriched",
                           selection_changed and not unchanged)
        results.append(result)
        if unchanged:
            continue
        changed_ids.append(m.id)
        candidate_frames.append(table)
        actor_rows += [{"movie_id": m.id, "position": a.order, "person_id": a.person_id, "name": a.name,
                        "role": a.role} for a in actors]
        enrichment_rows.append({
            "movie_id": m.id, "state_hash": state, "selection_hash": selection_hash, "enriched_at": now,
            "selection_changed_at": now if selection_changed else prior["selection_changed_at"],
            "config_fingerprint": fingerprint,
            "summary_json": json.dumps({"candidates": result.candidates, "failed": result.failed_candidates,
                                        "duplicates": len(result.duplicates), "actors": result.actors}),
        })

    store.save_enrichment(
        analysis=pl.DataFrame(fresh_analysis, schema={
            "preview_url": pl.String, "format": pl.String, "width": pl.Int32, "height": pl.Int32,
            "phash": pl.UInt64, "error": pl.String, "analysed_at": pl.Datetime("us")}, orient="row")
        if fresh_analysis else None,
        candidates=pl.concat(candidate_frames) if candidate_frames else None,
        movie_ids=changed_ids,
        actors=pl.DataFrame(actor_rows) if actor_rows else None,
        people=_people_frame(people_rows, changed=True),
        blobs=pl.DataFrame(new_blobs).unique(subset=["sha256"]) if new_blobs else None,
        enrichment=pl.DataFrame(enrichment_rows) if enrichment_rows else None,
    )
    store.set_candidate_blobs(blob_updates)  # unchanged movies whose winners' originals were fetched just now
    after = session.fetcher.stats.snapshot()
    requests = {k: after[k] - stats_before[k] for k in ("requests", "retries", "failures", "bytes")}
    report = EnrichReport(results, counters, requests, time.perf_counter() - started)
    log.info("enrichment: %s", report.summary())
    return report


# ----------------------------------------------------------------------------------------------------------
# helpers


def download_blob(session: ProviderSession, settings: Settings, blobs: BlobStore, url: str, kind: str,
                  now: datetime) -> dict[str, Any]:
    """Download an image from an allowlisted host, check it is complete, store it; the ``blobs`` row."""
    check_allowed(url, session.image_hosts)
    response = session.fetcher.get(session.actual(url), kind=kind, provider="image host",
                                   max_bytes=int(settings.providers.max_image_mb * 1024 * 1024))
    facts = verify_original(response.content)
    blob = blobs.put(response.content, facts.extension)
    return {"sha256": blob.sha256, "ext": blob.ext, "bytes": blob.size, "width": facts.width,
            "height": facts.height, "format": facts.format, "source_url": url, "created_at": now}


def download_workers(settings: Settings) -> int:
    """Threads for image downloads: enough to fill every image host's connection limit at once (each host's
    limiter still caps its own connections); fewer would leave one host idle while the other is busy."""
    return max(2, settings.providers.tmdb.image_max_connections + settings.providers.fanart.image_max_connections)


def _run_concurrently(fn: Any, items: Sequence[Any], workers: int) -> None:
    if not items:
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="art") as pool:
        for _ in pool.map(fn, items):
            pass


def _hash(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _with_analysis(frame: pl.DataFrame, analysis: pl.DataFrame | None) -> pl.DataFrame:
    """Join the analysis and settle each candidate's size: declared size, corrected by the measured aspect."""
    if analysis is None:
        return frame.with_columns(a_format=pl.lit(""), a_width=pl.lit(None, pl.Int32), a_height=pl.lit(None, pl.Int32),
                                  phash=pl.lit(None, pl.UInt64), analysis_error=pl.lit(""))
    joined = frame.join(analysis, on="preview_url", how="left")
    declared_ratio = pl.col("width").cast(pl.Float64) / pl.col("height").cast(pl.Float64)
    measured_ratio = pl.col("a_width").cast(pl.Float64) / pl.col("a_height").cast(pl.Float64)
    wrong = (pl.col("a_width").is_not_null() & pl.col("width").gt(0) & pl.col("height").gt(0)
             & ((declared_ratio / measured_ratio - 1.0).abs() > 0.02))
    missing = pl.col("width").fill_null(0).eq(0) | pl.col("height").fill_null(0).eq(0)
    return joined.with_columns(
        height=pl.when(wrong).then((pl.col("width").cast(pl.Float64) / measured_ratio).round().cast(pl.Int32))
        .when(missing).then(pl.col("a_height")).otherwise(pl.col("height")),
        width=pl.when(missing).then(pl.col("a_width")).otherwise(pl.col("width")),
        analysis_error=pl.col("analysis_error").fill_null("not analysed"),
    )


_STORED = ("movie_id", "type", "candidate_id", "provider", "url", "preview_url", "language", "width", "height",
           "votes", "vote_average", "phash", *(f"s_{p}" for p in PARTS), "score", "rank", "gate", "duplicate_of",
           "selected_rank", "blob_sha")


def _stored_columns(group: pl.DataFrame) -> pl.DataFrame:
    return group.select(_STORED).sort(["type", "rank"])


@dataclass(frozen=True)
class _Choices:
    picks: dict[tuple[int, str], list[str]]
    rejects: frozenset[tuple[int, str, str]]
    locks: frozenset[tuple[int, str]]
    previous: dict[tuple[int, str], list[str]]


def _choices(store: Store, ids: Sequence[int], previous: pl.DataFrame) -> _Choices:
    raw, locks = store.artwork_choices(ids) if ids else ([], [])
    picks: dict[tuple[int, str], list[str]] = {}
    rejects = set()
    for movie_id, kind, cid, action in raw:
        if action == "pick":
            picks.setdefault((movie_id, kind), []).append(cid)
        elif action == "reject":
            rejects.add((movie_id, kind, cid))
    prev_sel: dict[tuple[int, str], list[str]] = {}
    if previous.height:
        for movie_id, kind, cid in (previous.filter(pl.col("selected_rank").is_not_null())
                                    .sort(["movie_id", "type", "selected_rank"])
                                    .select("movie_id", "type", "candidate_id").iter_rows()):
            prev_sel.setdefault((movie_id, kind), []).append(cid)
    return _Choices(picks, frozenset(rejects), frozenset((m, k) for m, k in locks), prev_sel)


def _previous_blobs(previous: pl.DataFrame) -> dict[tuple[int, str], tuple[str, str]]:
    """(movie, candidate) → (sha, ext) of originals cached by earlier runs."""
    if not previous.height:
        return {}
    out: dict[tuple[int, str], tuple[str, str]] = {}
    rows = previous.filter(pl.col("blob_sha").is_not_null()).select("movie_id", "candidate_id", "blob_sha", "url")
    for movie_id, cid, sha, url in rows.iter_rows():
        out[(movie_id, cid)] = (sha, _ext_of(url))
    return out


def _blob_updates(movie_id: int, winners: pl.DataFrame,
                  prev_blobs: dict[tuple[int, str], tuple[str, str]]) -> list[tuple[int, str, str]]:
    """Winners of an unchanged movie whose cached original differs from the stored row (fetched now after an
    offline re-score deferred it, or fetched again because the cached file was gone)."""
    if not winners.height:
        return []
    return [(movie_id, cid, sha) for cid, sha in winners.select("candidate_id", "blob_sha").iter_rows()
            if sha is not None and prev_blobs.get((movie_id, cid), ("",))[0] != sha]


def _ext_of(url: str) -> str:
    ext = url.rsplit(".", 1)[-1].lower() if "." in url.rsplit("/", 1)[-1] else "jpg"
    return "jpg" if ext == "jpeg" else ext


def _headshots(
    cast_by_movie: dict[int, list[Actor]],
    store: Store,
    session: ProviderSession,
    settings: Settings,
    base: str,
    blobs: BlobStore,
    now: datetime,
    bump: Any,
    new_blobs: list[dict[str, Any]],
) -> dict[int, dict[str, Any]]:
    """person → people row; headshots downloaded once per person, shared by every movie they play in."""
    persons: dict[int, Actor] = {}
    for actors in cast_by_movie.values():
        for a in actors:
            persons.setdefault(a.person_id, a)
    known = store.people(sorted(persons))
    rows: dict[int, dict[str, Any]] = {}
    todo: list[Actor] = []
    for pid, a in persons.items():
        prior = known.get(pid)
        thumb = f"{base}/{HEADSHOT_SIZE}{a.profile_path}" if a.profile_path else ""
        if prior and prior["profile_path"] == a.profile_path and prior["name"] == a.name and (
                not a.profile_path or (prior["blob_sha"] and blobs.has(prior["blob_sha"], _ext_of(thumb)))
                or prior["error"]):
            rows[pid] = {**prior, "_changed": False}
            bump("headshots_reused", 1 if prior["blob_sha"] else 0)
            continue
        rows[pid] = {"person_id": pid, "name": a.name, "profile_path": a.profile_path, "thumb_url": thumb,
                     "blob_sha": None, "error": "" if a.profile_path else "no headshot on TMDB", "updated_at": now,
                     "_changed": True}
        if a.profile_path:
            todo.append(a)
    lock = threading.Lock()

    def download(a: Actor) -> None:
        url = rows[a.person_id]["thumb_url"]
        try:
            row = download_blob(session, settings, blobs, url, "headshot", now)
        except MetarrError as exc:
            with lock:
                rows[a.person_id]["error"] = f"headshot unavailable: {str(exc)[:200]}"
            return
        bump("headshots_downloaded")
        bump("bytes_downloaded", row["bytes"])
        with lock:
            rows[a.person_id]["blob_sha"] = row["sha256"]
            new_blobs.append(row)

    _run_concurrently(download, todo, download_workers(settings))
    return rows


def _people_frame(rows: dict[int, dict[str, Any]], changed: bool) -> pl.DataFrame | None:
    items = [{k: v for k, v in r.items() if k != "_changed"} for r in rows.values() if r.get("_changed") == changed]
    if not items:
        return None
    return pl.DataFrame(items, schema={"person_id": pl.Int64, "name": pl.String, "profile_path": pl.String,
                                       "thumb_url": pl.String, "blob_sha": pl.String, "error": pl.String,
                                       "updated_at": pl.Datetime("us")}, orient="row")


def _describe(m: MovieRecord, group: pl.DataFrame, blob_info: dict[str, dict[str, Any]], actors: list[Actor],
              people: dict[int, dict[str, Any]], status: str, selection_changed: bool) -> MovieEnrichment:
    assert m.id is not None and m.partition_key is not None
    chosen = []
    winners = group.filter(pl.col("selected_rank").is_not_null()).sort(["type", "selected_rank"])
    for row in winners.iter_rows(named=True):
        info = blob_info.get(row["blob_sha"] or "", {})
        chosen.append(ChosenArt(row["type"], row["selected_rank"], row["candidate_id"], row["provider"],
                                row["language"], row["width"] or 0, row["height"] or 0, row["score"],
                                {p: round(row[f"s_{p}"], 3) for p in PARTS}, row["blob_sha"],
                                info.get("ext", _ext_of(row["url"]))))
    top = tuple(group.filter(pl.col("rank") <= 5).sort(["type", "rank"]).select(
        "type", "rank", "candidate_id", "provider", "language", "width", "height", "score",
        *(f"s_{p}" for p in PARTS), "gate", "selected_rank").to_dicts()) if group.height else ()
    dup_rows = group.filter(pl.col("duplicate_of").is_not_null()) if group.height else group
    dups = tuple((r["type"], r["candidate_id"], r["duplicate_of"]) for r in dup_rows.iter_rows(named=True))
    failed = group.filter(pl.col("gate").str.starts_with("unreadable") | pl.col("gate").str.starts_with("original"))
    without = sum(1 for a in actors if not people.get(a.person_id, {}).get("blob_sha"))
    return MovieEnrichment(m.partition_key, m.id, status, "", tuple(chosen), top, dups, failed.height, group.height,
                           len(actors), without, selection_changed)
