"""Kodi, over JSON-RPC on its web server (``POST /jsonrpc``, basic auth).

What Kodi is told, per batch (KODI.md "Scanning"; docs/KODI-SOURCE.md (c)):

1. ``Player.GetActivePlayers``: while something plays and ``skip_while_playing`` is on, the whole batch is
   *deferred* (a library update can stutter playback) and retried after ``defer_seconds``.
2. ``VideoLibrary.GetMovies`` once for the batch, filtered on the mapped movie folders, to learn which movies
   Kodi already has (matched by the folder of their file; stacks and disc structures included).
3. In one JSON-RPC batch, the jobs Kodi queues and that cancel nothing: a movie Kodi knows →
   ``VideoLibrary.RefreshMovie`` (``ignorenfo: false``; a plain scan would not re-read a changed NFO or
   artwork); a removed one → ``VideoLibrary.RemoveMovie`` (nothing to do when Kodi never had it). Each
   refreshed movie's folder is listed first (``Files.GetDirectory``), in the same batch: the refresh finds
   local art in Kodi's *cached* listing of the folder when it has one (``AddLocalItemArtwork`` reads with
   ``DIR_FLAG_READ_CACHE``), and a listing cached before we published would bring a removed clearlogo back
   and miss a new type (measured with Kodi 20.1, docs/KODI-SOURCE.md (c)); listing it replaces the entry.
4. New movies → ``VideoLibrary.Scan``, **one at a time**: a scan sent while Kodi scans stops the running scan
   and starts nothing (``UpdateLibrary`` in Kodi's LibraryBuiltins.cpp), so each scan waits until
   ``Library.IsScanningVideo`` is false (also for a scan the user started), and so does the next. One new
   folder is scanned itself (with the trailing separator Kodi stores paths with); several in one Kodi
   source are one scan of that source (Kodi skips its unchanged folders).
5. **Verify**: ``VideoLibrary.GetMovies`` again; a new or refreshed movie Kodi still does not have is
   *failed* with the reason, and retried like any failure. Refreshes are queued jobs: Kodi runs its library
   jobs one at a time in order, so once a scan sent after them has ended they have ended too. A batch with
   refreshes and no new movie sends one such scan of a refreshed folder (Kodi skips the movies it has).
   Waiting for the refreshed movie to come back under a new id does not work: Kodi gives the newest movie its
   own id back (SQLite reuses the largest rowid; measured, docs/KODI-SOURCE.md (c)).
6. **Sets**: Kodi takes a set's art and overview only when it creates the set, so the sets of the verified
   movies are brought up to date with ``VideoLibrary.SetMovieSetDetails`` (:mod:`.kodi_sets`; never fails a
   notification).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from metarr_pipeline.config import PlayerSettings
from metarr_pipeline.players.client import PlayerCredentials, PlayerHttp
from metarr_pipeline.players.errors import PlayerError, PlayerResponseError, UnmappedPathError
from metarr_pipeline.players.kodi_sets import SetMembers, SetUpdater
from metarr_pipeline.players.mapping import PathMapper, as_folder, contains, join, parse
from metarr_pipeline.players.types import CheckReport, Notification, Outcome
from metarr_pipeline.redaction import redact

log = logging.getLogger(__name__)

FILTER_CHUNK = 50  # folders per GetMovies filter
SCAN_WAIT_SECONDS = 600.0  # how long one Kodi scan may take before the batch is failed (and retried)
VERIFY_SECONDS = 30.0  # how long queued refreshes may take to show up again in VideoLibrary.GetMovies
POLL_SECONDS = 0.25
_DISC_FOLDERS = {"video_ts", "bdmv"}


class KodiError(PlayerResponseError):
    """A JSON-RPC error object in Kodi's answer."""


class KodiPlayer:
    def __init__(self, settings: PlayerSettings, credentials: PlayerCredentials, *,
                 transport: httpx.BaseTransport | None = None, sets_folder: Path | None = None) -> None:
        self.settings = settings
        self.sets_folder = sets_folder  # metarr's [publish] movie_sets_folder, read when Kodi cannot list its own
        auth = (credentials.username, credentials.password) if credentials.password else None
        self.http = PlayerHttp(settings, credentials, auth=auth, transport=transport)
        self.mapper = PathMapper(settings.path_mappings, f"kodi '{settings.label}'")
        self._path = "" if settings.url.rstrip("/").endswith("/jsonrpc") else "/jsonrpc"
        self._next_id = 0

    @property
    def requests(self) -> int:
        return self.http.requests

    def close(self) -> None:
        self.http.close()

    # JSON-RPC ------------------------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        result = self.batch([(method, params or {})])[0]
        if isinstance(result, KodiError):
            raise result
        return result

    def batch(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Send calls in one HTTP request; each answer is its result, or a :class:`KodiError`."""
        if not calls:
            return []
        payload = []
        for method, params in calls:
            self._next_id += 1
            payload.append({"jsonrpc": "2.0", "method": method, "params": params, "id": self._next_id})
        body = payload[0] if len(payload) == 1 else payload
        answer = self.http.json(self.http.request(
            "POST", self._path, json=body, auth_hint="check the Kodi web server's username and password"))
        answers = answer if isinstance(answer, list) else [answer]
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        out: list[Any] = []
        for call in payload:
            reply = by_id.get(call["id"])
            if reply is None:
                out.append(KodiError(f"{self.http.name}: no answer to {call['method']}"))
            elif "error" in reply:
                error = reply["error"] or {}
                out.append(KodiError(self.http.words(
                    f"{self.http.name}: {call['method']} failed: {error.get('message', 'error')} "
                    f"({error.get('code', '?')})")))
            else:
                out.append(reply.get("result"))
        return out

    # notifications -------------------------------------------------------------------------------

    def notify(self, batch: Sequence[Notification]) -> list[Outcome]:
        if self.settings.skip_while_playing:
            active = self.call("Player.GetActivePlayers") or []
            if active:
                kinds = ", ".join(sorted({str(p.get("type", "?")) for p in active if isinstance(p, dict)}))
                return [Outcome(n.id, "deferred", f"Kodi is playing ({kinds}): deferred") for n in batch]
        outcomes: dict[int, Outcome] = {}
        mapped: dict[int, tuple[str, str]] = {}
        for n in batch:
            try:
                folder = self.mapper(n.folder)
            except UnmappedPathError as exc:
                outcomes[n.id] = Outcome(n.id, "failed", str(exc), retryable=False)
                continue
            mapped[n.id] = (as_folder(folder), join(folder, n.video_file) if n.video_file else "")
        folders = {folder for folder, _ in mapped.values()}
        known = self.movies_in(folders)
        plan = _Plan()
        for n in batch:
            if n.id in mapped:
                plan.add(n, *mapped[n.id], _match(known, *mapped[n.id]))
        outcomes.update(plan.nothing_to_remove)
        errors = self._send_jobs(plan)
        scanned = False  # a scan of ours ended: every refresh queued before it has ended too
        if plan.scans:
            scan_errors = self._scan(plan.scans, plan.told)
            errors.update(scan_errors)
            scanned = any(i not in scan_errors for owners in plan.scans.values() for i in owners)
        refreshed = {i: ids for i, ids in plan.refreshed.items() if i not in errors}
        if refreshed and not scanned:
            scanned = self._after_refreshes(mapped[min(refreshed)][0])
        refreshed = {} if scanned else refreshed  # else: the old sign, a new id (fails for Kodi's newest movie)
        expected = [i for i in plan.told if i not in errors and plan.event[i] != "deleted"]
        missing, known = self._verify({i: mapped[i] for i in expected}, refreshed) if expected else (set(), [])
        for n in batch:
            if n.id in outcomes:
                continue
            told = "; ".join(plan.told.get(n.id, []))
            if n.id in errors:
                outcomes[n.id] = Outcome(n.id, "failed", errors[n.id])
            elif n.id in missing:
                outcomes[n.id] = Outcome(n.id, "failed", f"{told}, but Kodi " + (
                    f"had not re-read it after {VERIFY_SECONDS:.0f} s" if n.id in refreshed else
                    "still does not have the movie (is its NFO readable, and its folder in a video source set to "
                    "movies?)"))
            else:
                outcomes[n.id] = Outcome(n.id, "sent", told + ("; verified" if n.id in expected else ""))
        self._update_sets([n for n in batch if outcomes[n.id].status == "sent" and n.id in expected], mapped, known)
        return [outcomes[n.id] for n in batch]

    def _update_sets(self, verified: list[Notification], mapped: dict[int, tuple[str, str]],
                     known: list[tuple[int, str, int, str]]) -> None:
        """The sets of the verified movies, brought up to date in Kodi (:mod:`.kodi_sets`); never raises."""
        sets: dict[int, SetMembers] = {}
        by_id = {movie[0]: movie for movie in known}
        for n in verified:
            for movieid in _match(known, *mapped[n.id]):
                _, _, setid, title = by_id[movieid]
                if setid > 0 and title:
                    sets.setdefault(setid, SetMembers(title)).movies.append((n.folder, n.video_file))
        if not sets:
            return
        try:
            told = SetUpdater(self.batch, self.http.name, self.mapper, self.sets_folder).run(sets)
        except Exception as exc:  # a set update is a courtesy: it never fails the movies
            log.warning("%s: movie sets not updated: %s", self.http.name,
                        redact(f"{type(exc).__name__}: {exc}", self.http.secrets))
            return
        for line in told:
            log.info("%s: SetMovieSetDetails %s", self.http.name, line)

    def _send_jobs(self, plan: _Plan) -> dict[int, str]:
        """RemoveMovie and RefreshMovie in one JSON-RPC batch: Kodi queues refreshes, they cancel nothing.
        The refreshed folders are listed before them, so Kodi's directory cache holds what is on disk now."""
        listings = [("Files.GetDirectory", {"directory": folder, "media": "files"}) for folder in plan.listings]
        results = self.batch(listings + [(method, params) for method, params, _ in plan.jobs])
        for (_, params), result in zip(listings, results, strict=False):
            if isinstance(result, KodiError):  # the refresh still runs; it may see an older listing
                log.info("%s: could not list %s before refreshing it: %s", self.http.name, params["directory"], result)
        errors: dict[int, str] = {}
        for (_, _, owners), result in zip(plan.jobs, results[len(listings):], strict=True):
            if isinstance(result, KodiError):
                errors.update(dict.fromkeys(owners, str(result)))
        return errors

    def _scan(self, scans: dict[str, list[int]], told: dict[int, list[str]]) -> dict[int, str]:
        """One scan at a time, each after Kodi is idle: a ``VideoLibrary.Scan`` sent while Kodi scans *stops*
        the running scan and starts nothing (``UpdateLibrary`` in LibraryBuiltins.cpp). Several new folders in
        one Kodi source are one scan of the source (Kodi skips its unchanged folders)."""
        sources = sorted((str(s.get("file", "")) for s in self._sources()), key=len, reverse=True) \
            if len(scans) > 1 else []  # the innermost source holding a folder is the one to scan
        targets: dict[str, list[str]] = {}
        for folder in scans:
            source = next((src for src in sources if src and contains(src, folder)), "")
            targets.setdefault(source or folder, []).append(folder)
        errors: dict[int, str] = {}
        for target, covered in sorted(targets.items()):
            directory = target if len(covered) > 1 else covered[0]
            owners = [i for folder in covered for i in scans[folder]]
            for i in owners:
                told[i] = [f"Scan {directory}"]
            try:
                self._wait_idle(f"before scanning {directory}")
                self.call("VideoLibrary.Scan", {"directory": directory, "showdialogs": False})
                self._wait_idle(f"scanning {directory}")
            except PlayerError as exc:
                errors.update(dict.fromkeys(owners, str(exc)))
        return errors

    def _after_refreshes(self, folder: str) -> bool:
        """Wait until the refreshes just sent have ended: one scan of a refreshed folder, queued behind them
        (Kodi skips the movies it has). False, and a warning, when that scan could not be sent or waited for."""
        try:
            self._wait_idle(f"before scanning {folder}")
            self.call("VideoLibrary.Scan", {"directory": folder, "showdialogs": False})
            self._wait_idle(f"scanning {folder}")
        except PlayerError as exc:
            log.warning("%s: could not wait for the refreshes to end: %s", self.http.name, exc)
            return False
        return True

    def _sources(self) -> list[dict[str, Any]]:
        return list((self.call("Files.GetSources", {"media": "video"}) or {}).get("sources") or [])

    def _wait_idle(self, doing: str) -> None:
        deadline = time.monotonic() + SCAN_WAIT_SECONDS
        while (self.call("XBMC.GetInfoBooleans", {"booleans": ["Library.IsScanningVideo"]}) or {}).get(
                "Library.IsScanningVideo"):
            if time.monotonic() > deadline:
                raise KodiError(f"{self.http.name}: Kodi was still scanning after {SCAN_WAIT_SECONDS:.0f} s "
                                f"({doing}): not verified, retried later")
            time.sleep(POLL_SECONDS)

    def _verify(self, expected: dict[int, tuple[str, str]], refreshed: dict[int, set[int]]
                ) -> tuple[set[int], list[tuple[int, str, int, str]]]:
        """The notifications whose movie Kodi does not have (yet), and Kodi's movies in their folders. A movie
        in ``refreshed`` counts only once it is back under a new id (used when no scan of ours could show that
        the refreshes have ended)."""
        deadline = time.monotonic() + VERIFY_SECONDS
        while True:
            known = self.movies_in({folder for folder, _ in expected.values()})
            missing = {i for i, (folder, file) in expected.items()
                       if not (ids := _match(known, folder, file)) or set(ids) & refreshed.get(i, set())}
            if not missing or time.monotonic() > deadline:
                return missing, known
            time.sleep(POLL_SECONDS)

    def movies_in(self, folders: set[str]) -> list[tuple[int, str, int, str]]:
        """(movieid, file, setid, set title) of the movies Kodi has in or below these folders (one request per
        50 folders); setid 0 and "" for a movie in no set."""
        found: list[tuple[int, str, int, str]] = []
        ordered = sorted(folders)
        for start in range(0, len(ordered), FILTER_CHUNK):
            chunk = ordered[start:start + FILTER_CHUNK]
            rules = [{"field": "path", "operator": "startswith", "value": f} for f in chunk]
            result = self.call("VideoLibrary.GetMovies", {
                "properties": ["file", "setid", "set"], "filter": rules[0] if len(rules) == 1 else {"or": rules}})
            for movie in (result or {}).get("movies") or []:  # Kodi leaves "movies" out when there are none
                if isinstance(movie, dict) and "movieid" in movie:
                    found.append((int(movie["movieid"]), str(movie.get("file", "")), int(movie.get("setid") or 0),
                                  str(movie.get("set") or "")))
        return found

    # metarr players test -------------------------------------------------------------------------

    def check(self, roots: Sequence[Path]) -> CheckReport:
        report = CheckReport(self.settings.label, "kodi")
        try:
            pong = self.call("JSONRPC.Ping")
            version = self.call("JSONRPC.Version") or {}
            v = version.get("version", {}) if isinstance(version, dict) else {}
            report.add(f"connected: JSONRPC.Ping → {pong}, JSON-RPC API "
                       f"{v.get('major', '?')}.{v.get('minor', '?')}.{v.get('patch', '?')}")
            sources = (self.call("Files.GetSources", {"media": "video"}) or {}).get("sources") or []
            playing = self.call("Player.GetActivePlayers") or []
        except PlayerError as exc:
            report.add(str(exc), problem=True)
            return report
        report.add("playing now: " + ("yes (notifications would be deferred)" if playing and
                                      self.settings.skip_while_playing else "yes" if playing else "no"))
        report.add(f"video sources: {', '.join(str(s.get('file')) for s in sources) or 'none'}")
        for root in roots:
            try:
                mapped = as_folder(self.mapper(str(root)))
            except UnmappedPathError as exc:
                report.add(str(exc), problem=True)
                continue
            source = next((s for s in sources if contains(str(s.get("file", "")), mapped)), None)
            if source is None:
                report.add(f"library root {root} → {mapped}: not inside any Kodi video source", problem=True)
            else:
                report.add(f"library root {root} → {mapped}: in Kodi source '{source.get('label', '')}'")
        return report


class _Plan:
    """What Kodi is told for one batch: jobs (remove/refresh, deduplicated by movie id), folders to scan."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any], list[int]]] = []
        self.scans: dict[str, list[int]] = {}
        self.told: dict[int, list[str]] = {}
        self.event: dict[int, str] = {}
        self.refreshed: dict[int, set[int]] = {}  # notification → the ids Kodi had before RefreshMovie
        self.listings: dict[str, None] = {}  # the refreshed movies' folders, listed before the refreshes
        self.nothing_to_remove: dict[int, Outcome] = {}
        self._index: dict[tuple[str, int], int] = {}

    def add(self, n: Notification, folder: str, file: str, ids: list[int]) -> None:
        self.event[n.id] = n.event
        if n.event == "deleted" and not ids:
            self.nothing_to_remove[n.id] = Outcome(n.id, "sent", "not in Kodi's library: nothing to remove")
        elif n.event == "deleted" or ids:
            method = "VideoLibrary.RemoveMovie" if n.event == "deleted" else "VideoLibrary.RefreshMovie"
            if n.event != "deleted":
                self.refreshed[n.id] = set(ids)
                self.listings[folder] = None
            for movieid in ids:
                if (method, movieid) not in self._index:
                    params: dict[str, Any] = {"movieid": movieid}
                    if method.endswith("RefreshMovie"):
                        params["ignorenfo"] = False
                    self._index[(method, movieid)] = len(self.jobs)
                    self.jobs.append((method, params, []))
                self.jobs[self._index[(method, movieid)]][2].append(n.id)
                self.told.setdefault(n.id, []).append(f"{method.split('.', 1)[1]} {movieid}")
        else:
            self.scans.setdefault(folder, []).append(n.id)
            self.told.setdefault(n.id, []).append(f"Scan {folder}")


def _match(known: list[tuple[int, str, int, str]], folder: str, file: str) -> list[int]:
    """Kodi's movie ids for the movie in ``folder``: the exact file when Kodi has it, else any movie there."""
    target = parse(folder)
    fold = target.windows
    exact, inside = [], []
    for movieid, kodi_file, *_ in known:
        first = kodi_file.removeprefix("stack://").split(" , ")[0]
        parsed = parse(first)
        parts = list(parsed.parts[:-1])  # the file's folder
        while parts and parts[-1].casefold() in _DISC_FOLDERS | {"stream"} and len(parts) > len(target.parts):
            parts.pop()  # BDMV/STREAM/00000.m2ts, VIDEO_TS/VIDEO_TS.IFO: the movie folder is above
        left, right = (parsed.anchor, *parts), (target.anchor, *target.parts)
        if fold or parsed.windows:
            left, right = tuple(x.casefold() for x in left), tuple(x.casefold() for x in right)
        if left != right:
            continue
        inside.append(movieid)
        if file and _same_file(first, file):
            exact.append(movieid)
    return sorted(set(exact or inside))


def _same_file(a: str, b: str) -> bool:
    pa, pb = parse(a), parse(b)
    left, right = (pa.anchor, *pa.parts), (pb.anchor, *pb.parts)
    if pa.windows or pb.windows:
        return tuple(x.casefold() for x in left) == tuple(x.casefold() for x in right)
    return left == right
