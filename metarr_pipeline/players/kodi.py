"""Kodi, over JSON-RPC on its web server (``POST /jsonrpc``, basic auth).

What Kodi is told, per batch (KODI.md, "Scanning"):

1. ``Player.GetActivePlayers``: while something plays and ``skip_while_playing`` is on, the whole batch is
   *deferred* (a library update can stutter playback) and retried after ``defer_seconds``.
2. ``VideoLibrary.GetMovies`` once for the batch, filtered on the mapped movie folders, to learn which movies
   Kodi already has (matched by the folder of their file; stacks and disc structures included).
3. In **one** HTTP request (a JSON-RPC batch): a movie Kodi knows → ``VideoLibrary.RefreshMovie``
   (``ignorenfo: false``; a plain scan would not re-read a changed NFO or artwork); a new one →
   ``VideoLibrary.Scan`` of its folder, with the trailing separator Kodi stores paths with (one scan per
   folder, however many movies it holds); a removed one → ``VideoLibrary.RemoveMovie`` (nothing to do when
   Kodi never had it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from metarr_pipeline.config import PlayerSettings
from metarr_pipeline.players.client import PlayerCredentials, PlayerHttp
from metarr_pipeline.players.errors import PlayerError, PlayerResponseError, UnmappedPathError
from metarr_pipeline.players.mapping import PathMapper, as_folder, contains, join, parse
from metarr_pipeline.players.types import CheckReport, Notification, Outcome

FILTER_CHUNK = 50  # folders per GetMovies filter
_DISC_FOLDERS = {"video_ts", "bdmv"}


class KodiError(PlayerResponseError):
    """A JSON-RPC error object in Kodi's answer."""


class KodiPlayer:
    def __init__(self, settings: PlayerSettings, credentials: PlayerCredentials, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
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
        known = self.movies_in({folder for folder, _ in mapped.values()})

        calls: list[tuple[str, dict[str, Any]]] = []
        owners: list[list[int]] = []
        index: dict[tuple[str, str], int] = {}

        def add(method: str, params: dict[str, Any], key: str, owner: int) -> None:
            if (method, key) not in index:
                index[(method, key)] = len(calls)
                calls.append((method, params))
                owners.append([])
            owners[index[(method, key)]].append(owner)

        for n in batch:
            if n.id not in mapped:
                continue
            folder, file = mapped[n.id]
            ids = _match(known, folder, file)
            if n.event == "deleted":
                if not ids:
                    outcomes[n.id] = Outcome(n.id, "sent", "not in Kodi's library: nothing to remove")
                for movieid in ids:
                    add("VideoLibrary.RemoveMovie", {"movieid": movieid}, str(movieid), n.id)
            elif ids:
                for movieid in ids:
                    add("VideoLibrary.RefreshMovie", {"movieid": movieid, "ignorenfo": False}, str(movieid), n.id)
            else:
                add("VideoLibrary.Scan", {"directory": folder, "showdialogs": False}, folder, n.id)

        results = self.batch(calls)
        told: dict[int, list[str]] = {}
        errors: dict[int, str] = {}
        for (method, params), owner_ids, result in zip(calls, owners, results, strict=True):
            what = f"{method.split('.', 1)[1]} {params.get('movieid', params.get('directory'))}"
            for owner in owner_ids:
                if isinstance(result, KodiError):
                    errors[owner] = str(result)
                else:
                    told.setdefault(owner, []).append(what)
        for n in batch:
            if n.id in outcomes:
                continue
            if n.id in errors:
                outcomes[n.id] = Outcome(n.id, "failed", errors[n.id])
            else:
                outcomes[n.id] = Outcome(n.id, "sent", "; ".join(told.get(n.id, [])))
        return [outcomes[n.id] for n in batch]

    def movies_in(self, folders: set[str]) -> list[tuple[int, str]]:
        """(movieid, file) of the movies Kodi has in or below these folders (one request per 50 folders)."""
        found: list[tuple[int, str]] = []
        ordered = sorted(folders)
        for start in range(0, len(ordered), FILTER_CHUNK):
            chunk = ordered[start:start + FILTER_CHUNK]
            rules = [{"field": "path", "operator": "startswith", "value": f} for f in chunk]
            result = self.call("VideoLibrary.GetMovies", {
                "properties": ["file"], "filter": rules[0] if len(rules) == 1 else {"or": rules}})
            for movie in (result or {}).get("movies") or []:  # Kodi leaves "movies" out when there are none
                if isinstance(movie, dict) and "movieid" in movie:
                    found.append((int(movie["movieid"]), str(movie.get("file", ""))))
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


def _match(known: list[tuple[int, str]], folder: str, file: str) -> list[int]:
    """Kodi's movie ids for the movie in ``folder``: the exact file when Kodi has it, else any movie there."""
    target = parse(folder)
    fold = target.windows
    exact, inside = [], []
    for movieid, kodi_file in known:
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
