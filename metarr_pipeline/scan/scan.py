"""The library scan: discovery → NFO → identification → probe (cached) → one batched write.

Design notes
- All file-system and FFmpeg work happens before the store is touched; the result is written in one
  short transaction (see ``metarr_pipeline.store``), so a scan of 10,000 movies holds no lock while
  it probes.
- Probing is the only expensive step, so it is cached by (video file, size, mtime): an unchanged
  library re-scans without opening a single video. Sidecar subtitles are re-read from the folder
  listing every time (cheap), so adding ``Movie.en.srt`` updates the streams without a re-probe.
- A movie row is never deleted. A folder that disappears is marked gone (its history and partition key
  are kept for when it comes back); a folder that reappears elsewhere with the same TMDB id or the same
  video file (size + mtime) is recognised as moved and keeps its row and partition key.
- A library root that is unreadable, or suddenly empty while the store knows movies in it, is treated
  as unmounted: its movies are left alone instead of being marked gone.
- One movie's failure (unreadable folder, corrupt video, broken NFO, unexpected error) is recorded on
  that movie with a reason; the rest of the library is scanned regardless.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import MetarrError, ProbeError, ProviderAuthError
from metarr_pipeline.models import ExistingNfo, StreamDetails
from metarr_pipeline.scan.discover import Discovery, FoundMovie, discover
from metarr_pipeline.scan.identify import Identity, IdResolver, identify, partition_key
from metarr_pipeline.scan.nfo import find_nfo, read_nfo
from metarr_pipeline.scan.probe import external_subtitles, probe_file
from metarr_pipeline.store import MovieRecord, ScanWrite, Store

log = logging.getLogger(__name__)

Prober = Callable[[Path], StreamDetails]


@dataclass(frozen=True)
class MovieOutcome:
    folder: str
    status: str
    partition_key: str | None
    tmdb_id: int | None
    reason: str = ""
    warnings: tuple[str, ...] = ()
    probe_error: str = ""
    change: str = ""  # new | moved | changed | returned | "" (unchanged)


@dataclass(frozen=True)
class ScanReport:
    """What one scan found; ``summary()`` is what the CLI prints and the Dagster asset shows."""

    outcomes: tuple[MovieOutcome, ...]
    skipped: tuple[tuple[str, str], ...]
    unreadable_roots: tuple[str, ...]
    gone: tuple[str, ...]
    probed: int
    probe_cache_hits: int
    seconds: float
    partitions: tuple[str, ...] = field(default_factory=tuple)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def probe_failures(self) -> list[MovieOutcome]:
        return [o for o in self.outcomes if o.probe_error]

    def summary(self) -> dict[str, Any]:
        return {
            "found": len(self.outcomes),
            "identified": self.count("identified"),
            "unidentified": self.count("unidentified"),
            "invalid": self.count("invalid"),
            "probe_failures": len(self.probe_failures),
            "probed": self.probed,
            "probe_cache_hits": self.probe_cache_hits,
            "new": sum(1 for o in self.outcomes if o.change == "new"),
            "moved": sum(1 for o in self.outcomes if o.change == "moved"),
            "changed": sum(1 for o in self.outcomes if o.change == "changed"),
            "returned": sum(1 for o in self.outcomes if o.change == "returned"),
            "gone": len(self.gone),
            "skipped": len(self.skipped),
            "unreadable_roots": list(self.unreadable_roots),
            "seconds": round(self.seconds, 3),
        }

    def problems(self) -> list[tuple[str, str]]:
        """(folder, reason) for every movie that needs the user's attention."""
        rows = [(o.folder, o.reason) for o in self.outcomes if o.status != "identified"]
        rows += [(o.folder, f"probe failed: {o.probe_error}") for o in self.probe_failures]
        return rows


def scan_library(
    settings: Settings,
    store: Store,
    *,
    resolver: IdResolver | None = None,
    prober: Prober = probe_file,
    now: datetime | None = None,
) -> ScanReport:
    started = time.perf_counter()
    now = now or datetime.now()
    roots = [str(r) for r in settings.library.roots]
    prior_rows = store.movies()
    prior_streams = store.streams()
    discovery = discover(settings.library.roots, settings.library.ignore_patterns)
    unreadable = set(discovery.unreadable_roots) | _emptied_roots(discovery, prior_rows, roots)

    by_folder = {m.folder: m for m in prior_rows}
    found_folders = {f.folder for f in discovery.movies}
    vanished = [m for m in prior_rows if m.folder not in found_folders and m.gone_at is None
                and m.library_root in roots and m.library_root not in unreadable]
    movers = _match_moves([f for f in discovery.movies if f.folder not in by_folder], vanished)

    plans = []
    for found in discovery.movies:
        prior = by_folder.get(found.folder) or movers.get(found.folder)
        plans.append(_plan(found, prior, resolver))

    probes = _probe_all(plans, prior_streams, prober, settings.scan.probe_workers)

    taken = {m.partition_key for m in prior_rows if m.partition_key}
    records: list[MovieRecord] = []
    streams: dict[str, StreamDetails] = {}
    outcomes: list[MovieOutcome] = []
    moved_from = {prior.id for prior in movers.values()}
    for plan in plans:
        details, probe_error, reprobed = probes.get(plan.found.folder, (None, "", False))
        record, change = _record(plan, details, probe_error, now, taken)
        if record.partition_key:
            taken.add(record.partition_key)
        if plan.prior is None or record != _aligned(plan.prior, record):
            records.append(record)
        if details is not None and (reprobed or _streams_differ(plan.prior, details, prior_streams)):
            streams[record.folder] = details
        outcomes.append(MovieOutcome(record.folder, record.status, record.partition_key, record.tmdb_id,
                                     record.reason, record.warnings, record.probe_error, change))

    gone = [m for m in vanished if m.id not in moved_from]
    report = ScanReport(
        outcomes=tuple(outcomes),
        skipped=discovery.skipped,
        unreadable_roots=tuple(sorted(unreadable)),
        gone=tuple(m.folder for m in gone),
        probed=sum(1 for _, _, reprobed in probes.values() if reprobed),
        probe_cache_hits=sum(1 for _, _, reprobed in probes.values() if not reprobed),
        seconds=time.perf_counter() - started,
    )
    store.apply_scan(ScanWrite(
        movies=records,
        streams=streams,
        seen_ids=[p.prior.id for p in plans if p.prior is not None and p.prior.id is not None],
        gone_ids=[m.id for m in gone if m.id is not None],
        seen_at=now,
        started_at=now,
        roots=roots,
        summary=report.summary(),
    ))
    report = replace(report, partitions=tuple(store.partition_keys()))
    log.info("scan of %d root(s): %s", len(roots), json.dumps(report.summary()))
    return report


@dataclass(frozen=True)
class _Plan:
    found: FoundMovie
    prior: MovieRecord | None
    identity: Identity | None
    nfo: ExistingNfo | None
    nfo_file: str
    error: str = ""


def _plan(found: FoundMovie, prior: MovieRecord | None, resolver: IdResolver | None) -> _Plan:
    if found.kind == "invalid":
        return _Plan(found, prior, None, None, "")
    try:
        nfo_path = find_nfo(found.path, found.kind, found.basename, found.video_file)
        nfo = read_nfo(nfo_path) if nfo_path else None
        nfo_file = nfo_path.relative_to(found.path).as_posix() if nfo_path else ""
        identity = (_keep_manual(prior, nfo) or _reuse_search(prior, found, nfo)
                    or identify(found.path.name, found.basename, nfo, resolver))
        return _Plan(found, prior, identity, nfo, nfo_file)
    except ProviderAuthError:
        raise  # the key is wrong: stop the scan before anything is written, rather than mark movies unidentified
    except (MetarrError, OSError, ValueError) as exc:
        return _Plan(found, prior, None, None, "", error=f"cannot scan folder: {exc}")
    except Exception as exc:  # one movie must never stop the library; the log keeps the traceback
        log.exception("unexpected error while scanning %s", found.folder)
        return _Plan(found, prior, None, None, "", error=f"unexpected error: {type(exc).__name__}: {exc}")


def _keep_manual(prior: MovieRecord | None, nfo: ExistingNfo | None) -> Identity | None:
    """An identification made by hand (``metarr identify``) outlives rescans and renames, ahead of every rung."""
    if prior is None or prior.id_source != "manual" or prior.tmdb_id is None:
        return None
    nfo_tmdb = nfo.uniqueids.get("tmdb") if nfo else None
    warnings = () if not nfo_tmdb or nfo_tmdb == str(prior.tmdb_id) else (
        f"NFO says TMDB {nfo_tmdb} but the movie was identified by hand as {prior.tmdb_id}; using the manual "
        "choice (metarr identify changes it)",)
    return Identity("identified", prior.tmdb_id, prior.imdb_id, "manual", prior.title, prior.year, warnings=warnings)


def _reuse_search(prior: MovieRecord | None, found: FoundMovie, nfo: ExistingNfo | None) -> Identity | None:
    """Don't ask the provider again for a movie a previous search identified, unless its name changed."""
    if (prior is None or prior.id_source != "search" or prior.tmdb_id is None or prior.folder != found.folder
            or (nfo is not None and nfo.uniqueids.get("tmdb"))):
        return None
    return Identity("identified", prior.tmdb_id, prior.imdb_id, "search", prior.title, prior.year)


def _probe_all(
    plans: Sequence[_Plan],
    prior_streams: dict[int, StreamDetails],
    prober: Prober,
    workers: int,
) -> dict[str, tuple[StreamDetails | None, str, bool]]:
    """Probe what changed, concurrently; reuse stored streams for the rest (sidecars re-read)."""
    results: dict[str, tuple[StreamDetails | None, str, bool]] = {}
    todo: list[_Plan] = []
    for plan in plans:
        found = plan.found
        if found.kind == "invalid" or plan.error or found.video_file is None:
            continue
        prior = plan.prior
        if prior is not None and prior.probe_key == _probe_key(found) and not prior.probe_error \
                and prior.id in prior_streams:
            cached = prior_streams[prior.id]
            embedded = tuple(s for s in cached.subtitles if not s.external)
            details = replace(cached, subtitles=embedded + _sidecars(found))
            results[found.folder] = (details, "", False)
        else:
            todo.append(plan)

    def run(plan: _Plan) -> tuple[str, tuple[StreamDetails | None, str, bool]]:
        found = plan.found
        assert found.video_file is not None
        try:
            details = prober(found.path / found.video_file)
        except ProbeError as exc:
            return found.folder, (None, str(exc), True)
        except Exception as exc:  # a crash in FFmpeg bindings is one movie's problem
            log.exception("unexpected error probing %s", found.folder)
            return found.folder, (None, f"unexpected probe error: {type(exc).__name__}: {exc}", True)
        return found.folder, (replace(details, subtitles=details.subtitles + _sidecars(found)), "", True)

    if todo:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="probe") as pool:
            for folder, result in pool.map(run, todo):
                results[folder] = result
    return results


def _sidecars(found: FoundMovie) -> tuple[Any, ...]:
    if found.kind != "file" or found.video_file is None:
        return ()
    return tuple(external_subtitles(found.path / found.video_file, found.listing))


def _probe_key(found: FoundMovie) -> str:
    return f"{found.video_file}|{found.size}|{found.mtime_ns}"


def _record(
    plan: _Plan,
    details: StreamDetails | None,
    probe_error: str,
    now: datetime,
    taken: set[str],
) -> tuple[MovieRecord, str]:
    found, prior, identity = plan.found, plan.prior, plan.identity
    status = "invalid" if (found.kind == "invalid" or plan.error) else (identity.status if identity else "invalid")
    reason = found.problem or plan.error or (identity.reason if identity else "")
    warnings = list(found.warnings) + (list(identity.warnings) if identity else [])
    if plan.nfo and plan.nfo.problem:
        warnings.append(f"NFO '{plan.nfo_file}': {plan.nfo.problem}")

    tmdb_id = identity.tmdb_id if identity and identity.status == "identified" else (prior.tmdb_id if prior else None)
    key = prior.partition_key if prior else None
    identified = identity is not None and identity.status == "identified" and identity.tmdb_id is not None
    if identified and (key is None or (prior is not None and prior.tmdb_id != identity.tmdb_id)):
        key = partition_key(identity.title, identity.year, identity.tmdb_id, taken - {key} if key else taken)

    change = ""
    if prior is None:
        change = "new"
    elif prior.folder != found.folder:
        change = "moved"
    elif prior.gone_at is not None:
        change = "returned"
    elif found.kind != "invalid" and (prior.video_file, prior.video_size, prior.video_mtime_ns) != (
            found.video_file, found.size, found.mtime_ns):
        change = "changed"

    nfo = plan.nfo
    nfo_json = json.dumps({
        "uniqueids": nfo.uniqueids, "title": nfo.title, "year": nfo.year,
        "user_state": asdict(nfo.user_state), "foreign_tags": list(nfo.foreign_tags),
        "recovered": nfo.recovered, "problem": nfo.problem, "fields": nfo.fields,
    }, sort_keys=True, ensure_ascii=False) if nfo else "{}"

    keep_probe = prior is not None and details is None and not probe_error
    record = MovieRecord(
        id=prior.id if prior else None,
        library_root=found.root,
        folder=found.folder,
        kind=found.kind if found.kind != "invalid" else (prior.kind if prior else "invalid"),
        video_file=found.video_file if found.kind != "invalid" else (prior.video_file if prior else None),
        basename=found.basename if found.kind != "invalid" else (prior.basename if prior else None),
        video_size=found.size if found.kind != "invalid" else (prior.video_size if prior else None),
        video_mtime_ns=found.mtime_ns if found.kind != "invalid" else (prior.video_mtime_ns if prior else None),
        status=status,
        reason=reason,
        warnings=tuple(warnings),
        tmdb_id=tmdb_id,
        imdb_id=(identity.imdb_id if identity else None) or (prior.imdb_id if prior else None),
        id_source=identity.source if identity and identity.status == "identified" else "",
        title=(identity.title if identity else "") or (prior.title if prior else os.path.basename(found.folder)),
        year=(identity.year if identity else None) or (prior.year if prior else None),
        partition_key=key,
        nfo_file=plan.nfo_file,
        nfo_json=nfo_json,
        lockdata=bool(nfo and nfo.lockdata),
        locked_fields=tuple(nfo.locked_fields) if nfo else (),
        probe_key=(prior.probe_key if keep_probe and prior else (_probe_key(found) if found.video_file else "")),
        probe_error=probe_error,
        manual=prior.manual if prior else False,
        first_seen=prior.first_seen if prior else now,
        last_seen=now,
        changed_at=now if change in ("new", "changed") or prior is None else prior.changed_at,
        gone_at=None,
    )
    return record, change


def _aligned(prior: MovieRecord, new: MovieRecord) -> MovieRecord:
    """The prior row with the fields a scan always refreshes taken from ``new``, for change detection."""
    return replace(prior, last_seen=new.last_seen)


def _streams_differ(prior: MovieRecord | None, details: StreamDetails,
                    prior_streams: dict[int, StreamDetails]) -> bool:
    if prior is None or prior.id is None:
        return True
    return prior_streams.get(prior.id) != details


def _match_moves(new: Sequence[FoundMovie], vanished: Sequence[MovieRecord]) -> dict[str, MovieRecord]:
    """New folders that are vanished movies under another path: same video signature, then same id."""
    by_signature = {(m.video_size, m.video_mtime_ns): m for m in vanished if m.video_size is not None}
    matched: dict[str, MovieRecord] = {}
    used: set[int] = set()
    for found in new:
        candidate = by_signature.get(found.signature) if found.signature else None
        if candidate is not None and candidate.id not in used:
            matched[found.folder] = candidate
            assert candidate.id is not None
            used.add(candidate.id)
    # Same TMDB id in a renamed folder (e.g. Radarr renamed and upgraded the file): needs identification,
    # so it is done cheaply from name tags and NFO ids only, never with a provider search.
    by_tmdb: dict[int, MovieRecord] = {}
    for m in vanished:
        if m.tmdb_id is not None and m.id not in used:
            by_tmdb.setdefault(m.tmdb_id, m)
    for found in new:
        if found.folder in matched or found.kind == "invalid":
            continue
        try:
            nfo_path = find_nfo(found.path, found.kind, found.basename, found.video_file)
            nfo = read_nfo(nfo_path) if nfo_path else None
        except OSError:
            nfo = None
        ident = identify(found.path.name, found.basename, nfo, None)
        prior = by_tmdb.get(ident.tmdb_id) if ident.tmdb_id else None
        if prior is not None and prior.id not in used:
            matched[found.folder] = prior
            assert prior.id is not None
            used.add(prior.id)
    return matched


def _emptied_roots(discovery: Discovery, prior: Sequence[MovieRecord], roots: Sequence[str]) -> set[str]:
    """Roots that list nothing now but held movies before: an unmounted share, not a deleted library."""
    found_roots = {f.root for f in discovery.movies}
    known = {m.library_root for m in prior if m.gone_at is None}
    emptied = {r for r in roots if r in known and r not in found_roots}
    for root in emptied:
        log.warning("library root %s is empty but held movies: treating it as unmounted", root)
    return emptied
