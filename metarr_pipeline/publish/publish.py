"""Publishing: the one stage that writes into the user's library, so every step is defensive.

Per movie:
1. **Validate**: enriched (or already published), folder present and writable (a real temp-file probe), free
   space (< 100 MB is a warning). A failed validation writes nothing and says why.
2. **Cache completeness**: every blob to publish is present and hashes to its name, else it is downloaded
   again and verified; a provider that now serves different bytes is reported, never silently published.
3. **Plan**: NFO (``naming.nfo_path``), rank-named artwork, ``.actors/`` (and ``extrafanart/`` when enabled).
   A file at a planned path that we did not write (the user's own ``-poster.jpg``) is left alone and
   reported; the user's own NFO is the one exception: it is backed up into the blob store once, its state and
   foreign tags are carried into ours, and ours replaces it.
4. **Write**: the plan is recorded first (so a crash still knows what we may have written), then each file is
   written atomically unless its bytes are already right (mtime untouched, so players see no change).
5. **Remove** files we wrote before that are no longer planned, only if they still hold our bytes.
6. **Record** the files, the NFO hash and a publish-log row.

Unreferenced blobs are reclaimed at the end of a publish run (``reclaim_blobs``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from metarr_pipeline.artwork.blobs import BlobStore
from metarr_pipeline.artwork.enrich import download_blob
from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.models import UserState
from metarr_pipeline.players.queue import queue_notifications
from metarr_pipeline.providers.session import ProviderSession
from metarr_pipeline.publish import naming
from metarr_pipeline.publish.nfo import NfoActor, NfoInput, render_nfo
from metarr_pipeline.publish.writer import check_writable, remove_stale_temps, sha256_file, write_atomic
from metarr_pipeline.store import MovieRecord, Store

log = logging.getLogger(__name__)
LOW_SPACE_BYTES = 100 * 1024 * 1024


class PublishError(MetarrError):
    """One movie could not be published; nothing (or nothing more) was written for it."""


@dataclass(frozen=True)
class Planned:
    path: str  # relative to the movie folder
    role: str  # nfo | art | actor | extrafanart
    sha256: str
    data: bytes | None = None  # NFO text
    blob: tuple[str, str] | None = None  # (sha, ext) for images


@dataclass
class MoviePublish:
    partition_key: str
    status: str  # published | failed | skipped
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    nfo_sha256: str = ""


@dataclass
class PublishReport:
    movies: list[MoviePublish]
    reclaimed_blobs: int = 0
    reclaimed_bytes: int = 0
    seconds: float = 0.0

    @property
    def failures(self) -> list[MoviePublish]:
        return [m for m in self.movies if m.status == "failed"]

    def summary(self) -> dict[str, Any]:
        return {
            "movies": len(self.movies),
            "published": sum(1 for m in self.movies if m.status == "published"),
            "skipped": sum(1 for m in self.movies if m.status == "skipped"),
            "failed": len(self.failures),
            "files_written": sum(len(m.written) for m in self.movies),
            "files_unchanged": sum(len(m.unchanged) for m in self.movies),
            "files_removed": sum(len(m.removed) for m in self.movies),
            "warnings": sum(len(m.warnings) for m in self.movies),
            "reclaimed_blobs": self.reclaimed_blobs,
            "reclaimed_bytes": self.reclaimed_bytes,
            "seconds": round(self.seconds, 3),
        }


def publish_movies(
    settings: Settings,
    store: Store,
    session: ProviderSession | None,
    partition_keys: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    reclaim: bool = True,
    automatic: bool = False,
) -> PublishReport:
    """Publish the given movies. ``automatic`` (auto-publish, scheduled runs) skips movies the user marked
    manual and movies already published and up to date; an explicit request publishes what it names."""
    from metarr_pipeline.orchestration import publish_fingerprint

    started = time.perf_counter()
    now = now or datetime.now().replace(microsecond=0)
    movies = [m for m in store.movies(include_gone=True, partition_keys=partition_keys)
              if m.partition_key and m.status == "identified"]
    skipped: list[MoviePublish] = []
    if automatic:
        states = store.publish_state([m.id for m in movies if m.id is not None])
        keep = []
        for m in movies:
            state = states.get(m.id, {})  # type: ignore[arg-type]
            if m.manual:
                skipped.append(MoviePublish(m.partition_key or "", "skipped", warnings=["marked manual"]))
            elif state.get("state") == "published" or not state.get("enriched"):
                skipped.append(MoviePublish(m.partition_key or "", "skipped"))
            else:
                keep.append(m)
        movies = keep
    fingerprint = publish_fingerprint(settings)
    ids = [m.id for m in movies if m.id is not None]
    context = _Context.load(settings, store, session, ids, now)
    results = []
    for movie in movies:
        assert movie.id is not None and movie.partition_key is not None
        result = MoviePublish(movie.partition_key, "published")
        try:
            _publish_one(movie, context, result)
        except PublishError as exc:
            result.status, result.error = "failed", str(exc)
        except (MetarrError, OSError) as exc:
            result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # one movie never stops the batch; the log keeps the traceback
            log.exception("unexpected error publishing %s", movie.partition_key)
            result.status, result.error = "failed", f"unexpected error: {type(exc).__name__}: {exc}"
        store.log_publish({
            "movie_id": movie.id, "published_at": now, "status": result.status, "written": len(result.written),
            "unchanged": len(result.unchanged), "removed": len(result.removed), "nfo_sha256": result.nfo_sha256,
            "warnings_json": json.dumps(result.warnings, ensure_ascii=False),
            "changes_json": json.dumps({"written": result.written, "removed": result.removed}, ensure_ascii=False),
            "error": result.error, "config_fingerprint": fingerprint,
        })
        results.append(result)
    # Players are told later, by their own step: here the changed movies are only queued (never fails).
    queue_notifications(store, settings, [
        (m, "modified" if context.state.get(m.id, {}).get("published_at") else "created")  # type: ignore[arg-type]
        for m, r in zip(movies, results, strict=True) if r.status == "published" and (r.written or r.removed)], now)
    report = PublishReport(results + skipped)
    if reclaim:
        report.reclaimed_blobs, report.reclaimed_bytes = reclaim_blobs(store, BlobStore(settings.cache_dir))
    report.seconds = time.perf_counter() - started
    log.info("publish: %s", report.summary())
    return report


@dataclass
class _Context:
    settings: Settings
    store: Store
    session: ProviderSession | None
    blobs: BlobStore
    now: datetime
    metadata: dict[int, Any]
    streams: dict[int, Any]
    candidates: pl.DataFrame
    actors: dict[int, list[dict[str, Any]]]
    files: dict[int, dict[str, dict[str, Any]]]
    state: dict[int, dict[str, Any]]
    blob_rows: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, settings: Settings, store: Store, session: ProviderSession | None, ids: list[int],
             now: datetime) -> _Context:
        candidates = store.artwork_candidates(ids) if ids else pl.DataFrame()
        selected = candidates.filter(pl.col("selected_rank").is_not_null()) if candidates.height else candidates
        actors = store.movie_actors(ids) if ids else {}
        shas = set(selected["blob_sha"].drop_nulls().to_list()) if selected.height else set()
        shas |= {a["blob_sha"] for rows in actors.values() for a in rows if a["blob_sha"]}
        return cls(settings, store, session, BlobStore(settings.cache_dir), now,
                   store.movie_metadata(ids) if ids else {}, store.streams(ids) if ids else {}, selected, actors,
                   store.library_files(ids) if ids else {}, store.publish_state(ids) if ids else {},
                   store.blob_rows(sorted(shas)))


def _publish_one(movie: MovieRecord, ctx: _Context, result: MoviePublish) -> None:
    assert movie.id is not None
    folder = Path(movie.folder)
    # 1. validate
    if movie.gone_at is not None:
        raise PublishError(f"the movie is gone from disk since {movie.gone_at:%Y-%m-%d}: nothing to publish")
    if not ctx.state.get(movie.id, {}).get("enriched") or movie.id not in ctx.metadata:
        raise PublishError("not enriched yet: run enrichment (metarr enrich) before publishing")
    if ctx.metadata[movie.id].fetch_error and ctx.metadata[movie.id].fields_json == "{}":
        raise PublishError(f"no provider metadata: {ctx.metadata[movie.id].fetch_error}")
    if not folder.is_dir():
        raise PublishError(f"folder '{folder}' does not exist (moved or deleted since the last scan)")
    try:
        check_writable(folder)
    except OSError as exc:
        raise PublishError(f"folder '{folder}' is not writable ({exc.strerror or exc}): nothing written") from exc
    free = shutil.disk_usage(folder).free
    if free < LOW_SPACE_BYTES:
        result.warnings.append(f"only {free // (1024 * 1024)} MB free on the library volume")
    remove_stale_temps(folder)

    # 2 + 3. plan, with the cache made complete
    plan = _plan(movie, ctx, result)
    ours = ctx.files.get(movie.id, {})
    plan = _skip_user_files(folder, plan, ours, result)
    if movie.kind == "file" and (folder / "movie.nfo").is_file() and "movie.nfo" not in ours \
            and naming.nfo_path(movie.kind, movie.basename or "") != "movie.nfo":
        result.warnings.append("a movie.nfo not written by metarr is in the folder: Kodi's folder mode would read "
                               "it instead of ours (kept; remove or rename it if that is not what you want)")
    _backup_user_nfo(movie, folder, plan, ours, ctx, result)

    # 4. record intent, then write
    intent = [{"path": p.path, "role": p.role, "sha256": p.sha256, "bytes": 0, "mtime_ns": None,
               "written_at": ctx.now} for p in plan if p.path not in ours or ours[p.path]["sha256"] != p.sha256]
    ctx.store.record_library_files(movie.id, intent, replace_all=False)
    final: list[dict[str, Any]] = []
    for item in plan:
        target = folder / item.path
        record = ours.get(item.path)
        if _already_right(target, item, record):
            result.unchanged.append(item.path)
        else:
            data = item.data if item.data is not None else ctx.blobs.read(*item.blob)  # type: ignore[misc]
            write_atomic(target, data)
            result.written.append(item.path)
        st = target.stat()
        final.append({"path": item.path, "role": item.role, "sha256": item.sha256, "bytes": st.st_size,
                      "mtime_ns": st.st_mtime_ns, "written_at": ctx.now})
        if item.role == "nfo":
            result.nfo_sha256 = item.sha256

    # 5. remove what we wrote before and no longer want
    planned = {p.path for p in plan}
    for path, record in sorted(ours.items()):
        if path in planned:
            continue
        target = folder / path
        if not target.is_file():
            continue
        if sha256_file(target) != record["sha256"]:
            result.warnings.append(f"'{path}' was changed since we wrote it: kept, and no longer managed")
            continue
        target.unlink()
        result.removed.append(path)

    # 6. record
    ctx.store.record_library_files(movie.id, final, replace_all=True)


def _already_right(target: Path, item: Planned, record: dict[str, Any] | None) -> bool:
    try:
        st = target.stat()
    except FileNotFoundError:
        return False
    if record and record["sha256"] == item.sha256 and record["mtime_ns"] == st.st_mtime_ns \
            and record["bytes"] == st.st_size:
        return True  # unchanged since we wrote it: no need to read it
    return sha256_file(target) == item.sha256


def _plan(movie: MovieRecord, ctx: _Context, result: MoviePublish) -> list[Planned]:
    assert movie.id is not None
    kind, base = movie.kind, movie.basename or ""
    plan: list[Planned] = []
    selected = ctx.candidates.filter(pl.col("movie_id") == movie.id).sort(["type", "selected_rank"]) \
        if ctx.candidates.height else ctx.candidates
    for row in selected.iter_rows(named=True) if selected.height else []:
        blob = _complete(row["blob_sha"], row["url"], ctx, result, f"{row['type']} {row['selected_rank']}")
        if blob is None:
            continue
        plan.append(Planned(naming.artwork_path(kind, base, row["type"], row["selected_rank"], blob[1]), "art",
                            blob[0], blob=blob))
        if ctx.settings.publish.extrafanart and row["type"] == "fanart":
            plan.append(Planned(naming.extrafanart_path(row["selected_rank"], blob[1]), "extrafanart", blob[0],
                                blob=blob))
    actors_dir = naming.actors_dir(kind)
    nfo_actors = []
    used: set[str] = set()
    for actor in ctx.actors.get(movie.id, []):
        nfo_actors.append(NfoActor(actor["name"], actor["role"] or "", actor["position"], actor["thumb_url"] or ""))
        if not actor["blob_sha"]:
            continue
        info = ctx.blob_rows.get(actor["blob_sha"], {})
        blob = _complete(actor["blob_sha"], actor["thumb_url"], ctx, result, f"headshot of {actor['name']}",
                         ext=info.get("ext", "jpg"))
        name = naming.actor_file_name(actor["name"], blob[1]) if blob else None
        if blob is None or name is None or name in used:
            continue
        used.add(name)
        plan.append(Planned(f"{actors_dir}/{name}", "actor", blob[0], blob=blob))
    nfo_state = movie.nfo()
    data = render_nfo(NfoInput(
        fields=ctx.metadata[movie.id].fields(),
        streams=ctx.streams.get(movie.id),
        actors=nfo_actors,
        user_state=UserState(**nfo_state.get("user_state", {})),
        foreign_tags=nfo_state.get("foreign_tags", []),
        lockdata=movie.lockdata,
        locked_fields=movie.locked_fields,
        dateadded=f"{movie.first_seen:%Y-%m-%d %H:%M:%S}",
    ))
    plan.insert(0, Planned(naming.nfo_path(kind, base), "nfo", hashlib.sha256(data).hexdigest(), data=data))
    return plan


def _complete(sha: str | None, url: str, ctx: _Context, result: MoviePublish, what: str,
              ext: str | None = None) -> tuple[str, str] | None:
    """The blob to publish, present and intact; downloaded again (and verified) when it is not."""
    if not sha:
        return None
    ext = ext or ctx.blob_rows.get(sha, {}).get("ext") or "jpg"
    if ctx.blobs.verify(sha, ext):
        return sha, ext
    if ctx.session is None:
        raise PublishError(f"{what}: cached image {sha[:12]} is missing or damaged and no provider is available")
    try:
        row = download_blob(ctx.session, ctx.settings, ctx.blobs, url, "original", ctx.now)
    except MetarrError as exc:
        raise PublishError(f"{what}: cached image {sha[:12]} is missing and could not be downloaded again: {exc}"
                           ) from exc
    if row["sha256"] != sha:
        result.warnings.append(f"{what}: the provider now serves different bytes for {url} "
                               f"(was {sha[:12]}, now {row['sha256'][:12]}): not published; re-enrich to review it")
        return None
    return sha, row["ext"]


def _skip_user_files(folder: Path, plan: list[Planned], ours: dict[str, dict[str, Any]],
                     result: MoviePublish) -> list[Planned]:
    kept = []
    for item in plan:
        target = folder / item.path
        if item.role != "nfo" and item.path not in ours and target.exists():
            if target.is_file() and sha256_file(target) == item.sha256:
                kept.append(item)  # identical bytes: adopt it (e.g. our own earlier crash, or a copy)
                continue
            result.warnings.append(f"'{item.path}' exists and was not written by metarr: kept untouched")
            continue
        kept.append(item)
    return kept


def _backup_user_nfo(movie: MovieRecord, folder: Path, plan: list[Planned], ours: dict[str, dict[str, Any]],
                     ctx: _Context, result: MoviePublish) -> None:
    """Keep the user's own NFO in the blob store before ours replaces it (its state is carried over too)."""
    assert movie.id is not None
    nfo = next(p for p in plan if p.role == "nfo")
    target = folder / nfo.path
    if nfo.path in ours or not target.is_file():
        return
    data = target.read_bytes()
    if len(data) > 5 * 1024 * 1024:
        raise PublishError(f"'{nfo.path}' is {len(data)} bytes: refusing to replace an NFO that large")
    blob = ctx.blobs.put(data, "nfo")
    ctx.store.record_nfo_backup(movie.id, nfo.path, {"sha256": blob.sha256, "ext": blob.ext, "bytes": blob.size,
                                                     "source_url": str(target)}, ctx.now)
    result.warnings.append(f"'{nfo.path}' was the user's own: backed up ({blob.sha256[:12]}) and replaced, "
                           "with its watched state and extra tags carried over")


def reclaim_blobs(store: Store, blobs: BlobStore) -> tuple[int, int]:
    """Delete blobs nothing refers to any more (after the user approved by publishing)."""
    candidates = store.unreferenced_blobs()
    if not candidates:
        return 0, 0
    deleted = set(store.forget_blobs([sha for sha, _, _ in candidates]))
    freed = 0
    for sha, ext, _ in candidates:
        if sha in deleted:
            freed += blobs.remove(sha, ext)
    return len(deleted), freed
