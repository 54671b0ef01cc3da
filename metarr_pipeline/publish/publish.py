"""Publishing: the one stage that writes into the user's library, so every step is defensive.

Per movie:
1. **Validate**: enriched (or already published), folder present, free space (< 100 MB is a warning), and
   writable (a real temp-file probe, only once step 3 shows a write or removal is due, so a publish that changes
   nothing leaves the folder's mtime alone). A failed validation writes nothing and says why.
2. **Plan**: NFO (``naming.nfo_path``), rank-named artwork, ``.actors/`` (and ``extrafanart/`` when enabled).
   A file at a planned path that we did not write (the user's own ``-poster.jpg``) is left alone and
   reported; the user's own NFO is the one exception: it is backed up into the blob store once, its state and
   foreign tags are carried into ours, and ours replaces it.
3. **Cache completeness**, only as deep as needed: a file already right in the library needs its blob only
   present (one ``stat``: exists, recorded size; restored from the library's own copy when it is not); a file
   to write has its blob read once and hashed, and a missing or damaged blob is downloaded again and verified
   before anything is written. A provider that now serves different bytes is reported, never silently
   published.
4. **Write**: the plan is recorded first (so a crash still knows what we may have written), then each file is
   written atomically unless its bytes are already right (mtime untouched, so players see no change).
5. **Remove** files we wrote before that are no longer planned, only if they still hold our bytes.
6. **Record** the files (only when they changed) and, once per batch, the publish-log rows.

Winners chosen by an offline re-score may have no cached original yet (``blob_sha`` empty): they are
downloaded (concurrently, for the whole batch) before the movies are published and attached to their
candidate rows; one that cannot be fetched is not published and is reported on its movie, whose other files
are published as usual (an earlier file of ours at that name is kept until the new original can be fetched).

Unreferenced blobs are reclaimed at the end of a publish run (``reclaim_blobs``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from metarr_pipeline.artwork.blobs import BlobStore
from metarr_pipeline.artwork.enrich import download_blob, download_workers
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
    url: str = ""  # where an image's original can be downloaded again
    what: str = ""  # how messages name an image ("poster 1", "headshot of ...")


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
    _fetch_deferred_originals(context, [m.id for m in movies if m.id is not None and m.gone_at is None])
    results: list[MoviePublish] = []
    log_rows: list[dict[str, Any]] = []
    try:
        for start in range(0, len(movies), CHUNK):
            chunk = [(m, MoviePublish(m.partition_key or "", "published")) for m in movies[start:start + CHUNK]]
            _publish_chunk(chunk, context)
            for movie, result in chunk:
                log_rows.append({
                    "movie_id": movie.id, "published_at": now, "status": result.status,
                    "written": len(result.written), "unchanged": len(result.unchanged),
                    "removed": len(result.removed), "nfo_sha256": result.nfo_sha256,
                    "warnings_json": json.dumps(result.warnings, ensure_ascii=False),
                    "changes_json": json.dumps({"written": result.written, "removed": result.removed},
                                               ensure_ascii=False),
                    "error": result.error, "config_fingerprint": fingerprint,
                })
                results.append(result)
    finally:
        # One transaction for the batch, written even when the loop is interrupted: the movies done so far
        # are logged (a crash before this only means they count as not yet published, and publishing them
        # again finds their files already right).
        store.log_publish_many(log_rows)
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
    selected: dict[int, list[dict[str, Any]]]  # movie → its selected candidates, by type then rank
    actors: dict[int, list[dict[str, Any]]]
    files: dict[int, dict[str, dict[str, Any]]]
    state: dict[int, dict[str, Any]]
    blob_rows: dict[str, dict[str, Any]]
    deferred_errors: dict[tuple[int, str], str] = field(default_factory=dict)  # (movie, candidate) → why

    @classmethod
    def load(cls, settings: Settings, store: Store, session: ProviderSession | None, ids: list[int],
             now: datetime) -> _Context:
        candidates = store.artwork_candidates(ids) if ids else pl.DataFrame()
        selected = candidates.filter(pl.col("selected_rank").is_not_null()) if candidates.height else candidates
        by_movie: dict[int, list[dict[str, Any]]] = {}
        if selected.height:
            for row in selected.sort(["movie_id", "type", "selected_rank"]).iter_rows(named=True):
                by_movie.setdefault(row["movie_id"], []).append(row)
        actors = store.movie_actors(ids) if ids else {}
        shas = set(selected["blob_sha"].drop_nulls().to_list()) if selected.height else set()
        shas |= {a["blob_sha"] for rows in actors.values() for a in rows if a["blob_sha"]}
        return cls(settings, store, session, BlobStore(settings.cache_dir), now,
                   store.movie_metadata(ids) if ids else {}, store.streams(ids) if ids else {}, by_movie, actors,
                   store.library_files(ids) if ids else {}, store.publish_state(ids) if ids else {},
                   store.blob_rows(sorted(shas)))


def _fetch_deferred_originals(ctx: _Context, movie_ids: list[int]) -> None:
    """Download the originals of selected winners that have none cached yet (an offline re-score chose them),
    concurrently for the whole batch, and attach them to their candidate rows in one store write."""
    missing = [row for movie_id in movie_ids for row in ctx.selected.get(movie_id, []) if not row["blob_sha"]]
    if not missing:
        return
    session = ctx.session
    if session is None:
        for row in missing:
            ctx.deferred_errors[(row["movie_id"], row["candidate_id"])] = "no provider is available"
        return
    outcomes: dict[str, dict[str, Any] | str] = {}

    def fetch(url: str) -> None:
        try:
            outcomes[url] = download_blob(session, ctx.settings, ctx.blobs, url, "original", ctx.now)
        except (MetarrError, OSError) as exc:
            outcomes[url] = str(exc)[:300] or type(exc).__name__

    urls = sorted({row["url"] for row in missing})
    with ThreadPoolExecutor(max_workers=min(download_workers(ctx.settings), len(urls)),
                            thread_name_prefix="publish-art") as pool:
        for _ in pool.map(fetch, urls):
            pass
    refs: list[tuple[int, str, str]] = []
    new_blobs: dict[str, dict[str, Any]] = {}
    for row in missing:
        got = outcomes[row["url"]]
        if isinstance(got, str):
            ctx.deferred_errors[(row["movie_id"], row["candidate_id"])] = got
            continue
        row["blob_sha"] = got["sha256"]
        refs.append((row["movie_id"], row["candidate_id"], got["sha256"]))
        new_blobs.setdefault(got["sha256"], got)
        ctx.blob_rows.setdefault(got["sha256"], got)
    if refs:
        ctx.store.set_candidate_blobs(refs, pl.DataFrame(list(new_blobs.values())))
    log.info("publish: %d deferred original(s) downloaded, %d failed", len(new_blobs),
             len(urls) - sum(1 for v in outcomes.values() if not isinstance(v, str)))


CHUNK = 25
"""Movies whose file records are written in one transaction (intents before any of their files are written,
final rows after): each store transaction costs a DuckDB open, ~20 ms, more than publishing an unchanged
movie. A chunk's image bytes are held in memory between the two (a few MB per movie)."""


@dataclass
class _Prepared:
    movie: MovieRecord
    result: MoviePublish
    folder: Path
    plan: list[Planned]
    ours: dict[str, dict[str, Any]]
    to_write: dict[str, bytes]
    keep: set[str]
    intent: list[dict[str, Any]]


def _fail(result: MoviePublish, exc: BaseException) -> None:
    if isinstance(exc, PublishError):
        result.status, result.error = "failed", str(exc)
    elif isinstance(exc, MetarrError | OSError):
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
    else:  # one movie never stops the batch; the log keeps the traceback
        log.error("unexpected error publishing %s", result.partition_key, exc_info=exc)
        result.status, result.error = "failed", f"unexpected error: {type(exc).__name__}: {exc}"


def _publish_chunk(chunk: list[tuple[MovieRecord, MoviePublish]], ctx: _Context) -> None:
    """Prepare every movie (validate, plan, verify what will be written), record their intents in one
    transaction, write their files, then record their final rows in one transaction."""
    prepared: list[_Prepared] = []
    for movie, result in chunk:
        try:
            prepared.append(_prepare(movie, ctx, result))
        except Exception as exc:  # sorted by _fail: one movie never stops the batch
            _fail(result, exc)
    try:
        ctx.store.record_library_files_many({p.movie.id: p.intent for p in prepared if p.intent},  # type: ignore[misc]
                                            replace_all=False)
    except MetarrError as exc:  # nothing of this chunk was written
        for p in prepared:
            _fail(p.result, exc)
        return
    finals: dict[int, list[dict[str, Any]]] = {}
    for p in prepared:
        try:
            rows = _write(p, ctx)
        except Exception as exc:  # its intent rows stay: the next publish adopts what it wrote
            _fail(p.result, exc)
            continue
        if rows is not None:
            finals[p.movie.id] = rows  # type: ignore[index]
    try:
        ctx.store.record_library_files_many(finals, replace_all=True)
    except MetarrError as exc:
        for p in prepared:
            if p.movie.id in finals:
                _fail(p.result, exc)


def _prepare(movie: MovieRecord, ctx: _Context, result: MoviePublish) -> _Prepared:
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
    free = shutil.disk_usage(folder).free
    if free < LOW_SPACE_BYTES:
        result.warnings.append(f"only {free // (1024 * 1024)} MB free on the library volume")
    remove_stale_temps(folder)

    # 2. plan (no blob is read here: step 3 checks each one only as deeply as its file needs)
    keep: set[str] = set()
    plan = _plan(movie, ctx, result, keep)
    ours = ctx.files.get(movie.id, {})
    plan = _skip_user_files(folder, plan, ours, result)

    # 3. cache completeness; every image to write is read, verified (or repaired) before anything is written
    to_write: dict[str, bytes] = {}
    resolved: dict[str, bytes | None] = {}  # sha → verified bytes (None: not publishable), once per movie
    ready: list[Planned] = []
    for item in plan:
        target = folder / item.path
        right = _already_right(target, item, ours.get(item.path))
        if right and item.blob is not None and not _blob_present(item, target, ctx):
            right = False  # the library copy did not hash right either: repair the cache, then write
        if not right:
            if item.data is not None:
                data: bytes | None = item.data
            else:
                assert item.blob is not None
                if item.blob[0] not in resolved:
                    resolved[item.blob[0]] = _blob_bytes(item, ctx, result)
                data = resolved[item.blob[0]]
            if data is None:
                continue  # the provider now serves different bytes: reported, not published
            to_write[item.path] = data
        ready.append(item)
    plan = ready
    if to_write or set(ours) - {p.path for p in plan}:  # a write or a removal is due: probe only then
        _check_writable(folder)

    if movie.kind == "file" and (folder / "movie.nfo").is_file() and "movie.nfo" not in ours \
            and naming.nfo_path(movie.kind, movie.basename or "", movie.video_file) != "movie.nfo":
        result.warnings.append("a movie.nfo not written by metarr is in the folder: Kodi's folder mode would read "
                               "it instead of ours (kept; remove or rename it if that is not what you want)")
    _backup_user_nfo(movie, folder, plan, ours, ctx, result)

    # 4. the intent, recorded before any write so a crash still knows what we may have written
    intent = [{"path": p.path, "role": p.role, "sha256": p.sha256, "bytes": 0, "mtime_ns": None,
               "written_at": ctx.now} for p in plan if p.path not in ours or ours[p.path]["sha256"] != p.sha256]
    return _Prepared(movie, result, folder, plan, ours, to_write, keep, intent)


def _check_writable(folder: Path) -> None:
    """The temp-file probe changes the folder's mtime, so it runs only when a write or a removal is due: a
    publish that changes nothing must leave every folder as it was (players and file watchers see folders)."""
    try:
        check_writable(folder)
    except OSError as exc:
        raise PublishError(f"folder '{folder}' is not writable ({exc.strerror or exc}): nothing written") from exc


def _write(prepared: _Prepared, ctx: _Context) -> list[dict[str, Any]] | None:
    """Write, remove what is ours and no longer wanted; the final rows, or None when they are as recorded."""
    result, folder, plan, ours = prepared.result, prepared.folder, prepared.plan, prepared.ours
    to_write, keep = prepared.to_write, prepared.keep
    final: list[dict[str, Any]] = []
    for item in plan:
        target = folder / item.path
        if item.path in to_write:
            write_atomic(target, to_write.pop(item.path))
            result.written.append(item.path)
        else:
            result.unchanged.append(item.path)
        st = target.stat()
        row = {"path": item.path, "role": item.role, "sha256": item.sha256, "bytes": st.st_size,
               "mtime_ns": st.st_mtime_ns, "written_at": ctx.now}
        before = ours.get(item.path)
        if before is not None and _record_key(before) == _record_key(row):
            row["written_at"] = before["written_at"]  # the same file as recorded: keep when it was written
        final.append(row)
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
        if _kept(path, keep):
            final.append({k: record[k] for k in ("path", "role", "sha256", "bytes", "mtime_ns", "written_at")})
            continue  # its new original could not be fetched: the earlier file stays until it can
        if sha256_file(target) != record["sha256"]:
            result.warnings.append(f"'{path}' was changed since we wrote it: kept, and no longer managed")
            continue
        target.unlink()
        result.removed.append(path)

    # 6. to record, only when something differs from what is recorded (written_at aside)
    if {r["path"]: _record_key(r) for r in final} != {p: _record_key(r) for p, r in ours.items()}:
        return final
    return None


def _record_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["role"], row["sha256"], row["bytes"], row["mtime_ns"]


def _kept(path: str, keep: set[str]) -> bool:
    """A file of ours named for an image whose new original could not be fetched (``keep`` holds the
    names without their extension, which depends on the image not yet known)."""
    return any(path.startswith(prefix) and "/" not in path[len(prefix):] for prefix in keep)


def _already_right(target: Path, item: Planned, record: dict[str, Any] | None) -> bool:
    try:
        st = target.stat()
    except FileNotFoundError:
        return False
    if record and record["sha256"] == item.sha256 and record["mtime_ns"] == st.st_mtime_ns \
            and record["bytes"] == st.st_size:
        return True  # unchanged since we wrote it: no need to read it
    return sha256_file(target) == item.sha256


def _plan(movie: MovieRecord, ctx: _Context, result: MoviePublish, keep: set[str]) -> list[Planned]:
    assert movie.id is not None
    kind, base = movie.kind, movie.basename or ""
    plan: list[Planned] = []
    extrafanart = ctx.settings.publish.extrafanart
    for row in ctx.selected.get(movie.id, []):
        what, sha = f"{row['type']} {row['selected_rank']}", row["blob_sha"]
        if not sha:
            reason = ctx.deferred_errors.get((movie.id, row["candidate_id"]), "not downloaded")
            result.warnings.append(f"{what}: its original {row['url']} is not cached and could not be downloaded "
                                   f"({reason}): not published")
            keep.add(naming.artwork_path(kind, base, row["type"], row["selected_rank"], ""))
            if extrafanart and row["type"] == "fanart":
                keep.add(naming.extrafanart_path(row["selected_rank"], ""))
            continue
        blob = (sha, ctx.blob_rows.get(sha, {}).get("ext") or "jpg")
        plan.append(Planned(naming.artwork_path(kind, base, row["type"], row["selected_rank"], blob[1]), "art",
                            sha, blob=blob, url=row["url"], what=what))
        if extrafanart and row["type"] == "fanart":
            plan.append(Planned(naming.extrafanart_path(row["selected_rank"], blob[1]), "extrafanart", sha,
                                blob=blob, url=row["url"], what=what))
    actors_dir = naming.actors_dir(kind)
    nfo_actors = []
    used: set[str] = set()
    for actor in ctx.actors.get(movie.id, []):
        nfo_actors.append(NfoActor(actor["name"], actor["role"] or "", actor["position"], actor["thumb_url"] or ""))
        if not actor["blob_sha"]:
            continue
        ext = ctx.blob_rows.get(actor["blob_sha"], {}).get("ext") or "jpg"
        name = naming.actor_file_name(actor["name"], ext)
        if name is None or name in used:
            continue
        used.add(name)
        plan.append(Planned(f"{actors_dir}/{name}", "actor", actor["blob_sha"], blob=(actor["blob_sha"], ext),
                            url=actor["thumb_url"] or "", what=f"headshot of {actor['name']}"))
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
    plan.insert(0, Planned(naming.nfo_path(kind, base, movie.video_file), "nfo", hashlib.sha256(data).hexdigest(),
                           data=data))
    return plan


def _blob_present(item: Planned, target: Path, ctx: _Context) -> bool:
    """For a library file already right: its blob need only be present (one ``stat``, recorded size). A missing
    one is restored from the library's copy when that hashes right (offline, nothing downloaded)."""
    assert item.blob is not None
    sha, ext = item.blob
    if ctx.blobs.present(sha, ext, ctx.blob_rows.get(sha, {}).get("bytes")):
        return True
    data = target.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        return False
    ctx.blobs.put(data, ext)  # absent or of the wrong size, so put() really writes it
    log.info("publish: cached image %s restored from %s", sha[:12], target)
    return True


def _blob_bytes(item: Planned, ctx: _Context, result: MoviePublish) -> bytes | None:
    """The verified bytes of an image to write: read once and hashed; a missing or damaged blob is downloaded
    again (and verified). ``None`` when the provider now serves different bytes (reported on the movie)."""
    assert item.blob is not None
    sha, ext = item.blob
    data = ctx.blobs.read_verified(sha, ext)
    if data is not None:
        return data
    what, url = item.what, item.url
    if ctx.session is None:
        raise PublishError(f"{what}: cached image {sha[:12]} is missing or damaged and no provider is available")
    log.warning("publish: cached image %s (%s) is missing or damaged: downloading it again", sha[:12], what)
    ctx.blobs.remove(sha, ext)  # a damaged copy of the right size would otherwise be kept by put()
    try:
        row = download_blob(ctx.session, ctx.settings, ctx.blobs, url, "original", ctx.now)
    except MetarrError as exc:
        raise PublishError(f"{what}: cached image {sha[:12]} is missing or damaged and could not be downloaded "
                           f"again: {exc}") from exc
    if row["sha256"] != sha:
        result.warnings.append(f"{what}: the provider now serves different bytes for {url} "
                               f"(was {sha[:12]}, now {row['sha256'][:12]}): not published; re-enrich to review it")
        return None
    data = ctx.blobs.read_verified(sha, row["ext"])
    if data is None:
        raise PublishError(f"{what}: cached image {sha[:12]} is still damaged after downloading it again")
    return data


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
