"""Loopback test doubles of Kodi (JSON-RPC), Jellyfin and Plex.

Each double is a ``ThreadingHTTPServer`` on 127.0.0.1 with port 0, records every request (method, path,
query, headers, JSON body) and answers like the real API for the calls metarr makes. ``mode`` switches its
behaviour at any time:

- ``"ok"``: normal answers (credentials are still checked: a wrong one gets 401);
- ``"unauthorized"``: 401 to everything;
- ``"slow"``: every answer waits ``delay`` seconds first (longer than the client's timeout);
- ``"playing"``: Kodi's ``Player.GetActivePlayers`` reports a video playing.

``closed_port_url()`` gives a URL where nothing listens (an offline player).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit


@dataclass
class KodiSet:
    """A movie set in the double's library: its art as Kodi stores it (plain paths) and its plot."""

    title: str
    plot: str = ""
    art: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


class FakePlayer:
    """Base of the doubles: serving, recording, modes. Subclasses implement :meth:`answer`."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.delay = 2.0
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                record = Recorded(self.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                with double._lock:
                    double.requests.append(record)
                if double.mode == "slow":
                    time.sleep(double.delay)
                if double.mode == "unauthorized":
                    status, payload = 401, {"error": "unauthorized"}
                else:
                    status, payload = double.answer(record)
                data = b"" if payload is None else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakePlayer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, request: Recorded) -> tuple[int, Any]:
        raise NotImplementedError

    def all_text(self) -> str:
        """Everything recorded, for leak checks."""
        return "".join(repr(r) for r in self.requests)


class FakeKodi(FakePlayer):
    """Kodi's JSON-RPC: Ping, Version, GetActivePlayers, GetMovies (path filters), Refresh/Scan/RemoveMovie,
    Files.GetSources, XBMC.GetInfoBooleans; batches included. ``movies`` is Kodi's library (movieid → file).

    Scans behave like a real Kodi 20's (docs/KODI-SOURCE.md (c)): a scan runs for ``scan_seconds`` and adds,
    when it ends, a movie for every file of ``disk`` under its directory (when ``disk`` is empty: a
    ``movie.mkv`` in the scanned folder, or in every folder under it that a GetMovies filter named, as the
    folders on Kodi's disk), except in ``unreadable`` folders (no readable NFO); a Scan sent while one runs
    **stops it and starts nothing**. ``Library.IsScanningVideo`` is true while a scan runs.
    RefreshMovie removes the movie and adds it again, as Kodi's job does: a new id, except for the newest movie.

    A movie's local art (``GetMovies`` ``art``: ``<video name>-<type>.<ext>`` pictures of ``files`` in its folder)
    is read from Kodi's directory cache like Kodi 20's ``AddLocalItemArtwork`` (``DIR_FLAG_READ_CACHE``): a scan
    and ``Files.GetDirectory`` list a folder afresh and cache that listing; a refresh reads the cached listing when
    there is one, so art removed or added since stays as it was until the folder is listed again (docs/KODI-SOURCE.md
    (c); Kodi's cache is a small LRU, the double keeps every listing: the worst case).

    Movie sets behave like Kodi 20's (docs/KODI-SOURCE.md (d)): a movie whose file is in ``set_of`` (file →
    (set title, overview), what its NFO says) joins that set when a scan or refresh adds it; the set is created
    with that overview, and takes the art of ``<videolibrary.moviesetsfolder>/<legal title>/`` (the pictures in
    ``files`` there, named after their type) only while it has no art, so a refresh changes neither.
    ``VideoLibrary.GetMovieSetDetails`` answers art as ``image://<url-encoded path>/`` (plus Kodi's default
    ``icon``); ``SetMovieSetDetails`` unwraps what it is sent, ``null`` removes a type. ``Files.GetDirectory``
    lists ``disk`` and ``files`` (one level) only inside a video source or ``other_sources`` (Kodi's
    ``RemoteAccessAllowed``), and answers ``Invalid params`` outside them or for a folder with nothing in it.
    ``Settings.GetSettingValue`` reads ``settings``."""

    def __init__(self, username: str = "kodi", password: str = "") -> None:
        super().__init__()
        self.username, self.password = username, password
        self.movies: dict[int, str] = {}
        self.sources: list[dict[str, str]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.disk: set[str] = set()
        self.unreadable: set[str] = set()  # folders whose movie a scan never adds
        self.scan_seconds = 0.05
        self.cancelled_scans = 0
        self._scan_timer: threading.Timer | None = None
        self._asked: set[str] = set()  # folders named by GetMovies filters
        self.settings: dict[str, Any] = {"videolibrary.moviesetsfolder": "", "videolibrary.artworklevel": 0}
        self.files: set[str] = set()  # other files on Kodi's side (set art), as Kodi sees their paths
        self.other_sources: list[str] = []  # folders of Kodi's files/pictures/music sources
        self.set_of: dict[str, tuple[str, str]] = {}  # movie file → (set title, overview) from its NFO
        self.moviesets: dict[int, KodiSet] = {}
        self.movie_set: dict[int, int] = {}  # movieid → setid
        self.art: dict[int, dict[str, str]] = {}  # movieid → art type → picture path, as the movie was added
        self.listed: dict[str, frozenset[str]] = {}  # Kodi's directory cache: folder → the paths listed in it

    def answer(self, request: Recorded) -> tuple[int, Any]:
        if request.path != "/jsonrpc" or request.method != "POST":
            return 404, {"error": "not found"}
        if self.password:
            expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return 401, None
        body = request.body
        if isinstance(body, list):
            return 200, [self._one(c) for c in body]
        return 200, self._one(body)

    def _one(self, call: dict[str, Any]) -> dict[str, Any]:
        method, params = call.get("method", ""), call.get("params") or {}
        with self._lock:
            self.calls.append((method, params))
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": call.get("id")}
        if method == "JSONRPC.Ping":
            reply["result"] = "pong"
        elif method == "JSONRPC.Version":
            reply["result"] = {"version": {"major": 13, "minor": 5, "patch": 0}}
        elif method == "Player.GetActivePlayers":
            reply["result"] = [{"playerid": 1, "playertype": "internal", "type": "video"}] \
                if self.mode == "playing" else []
        elif method == "Files.GetSources":
            reply["result"] = {"limits": {"start": 0, "end": len(self.sources), "total": len(self.sources)},
                               "sources": self.sources}
        elif method == "VideoLibrary.GetMovies":
            rules = params.get("filter", {})
            rules = rules.get("or", [rules]) if rules else []
            with self._lock:
                self._asked.update(str(r.get("value", "")) for r in rules)
            hits = [{"movieid": i, "label": f"movie {i}", "file": f, **self._set_fields(i, params), **self._art(i, params)}
                    for i, f in sorted(self.movies.items()) if not rules or any(self._matches(r, f) for r in rules)]
            result: dict[str, Any] = {"limits": {"start": 0, "end": len(hits), "total": len(hits)}}
            if hits:  # like Kodi: no "movies" key when there are none
                result["movies"] = hits
            reply["result"] = result
        elif method == "VideoLibrary.RefreshMovie":
            with self._lock:
                file = self.movies.pop(params.get("movieid"), None)
                if file is not None:
                    self.movie_set.pop(params.get("movieid"), None)
                    self._add_movie(file)  # Kodi removes the movie and adds it again
            if file is not None:
                reply["result"] = "OK"
            else:
                reply["error"] = {"code": -32602, "message": "Invalid params."}
        elif method == "VideoLibrary.RemoveMovie":
            if self.movies.pop(params.get("movieid"), None) is not None:
                reply["result"] = "OK"
            else:
                reply["error"] = {"code": -32602, "message": "Invalid params."}
        elif method == "VideoLibrary.Scan":
            self._scan(params.get("directory", ""))
            reply["result"] = "OK"
        elif method.startswith(("VideoLibrary.GetMovieSetDetails", "VideoLibrary.SetMovieSetDetails",
                                "Settings.", "Files.GetDirectory")):
            reply.update(self._sets_and_files(method, params))
        elif method == "XBMC.GetInfoBooleans":
            reply["result"] = {b: self.scanning if b == "Library.IsScanningVideo" else False
                               for b in params.get("booleans", [])}
        else:
            reply["error"] = {"code": -32601, "message": "Method not found."}
        return reply

    @property
    def scanning(self) -> bool:
        timer = self._scan_timer
        return timer is not None and timer.is_alive()

    def _new_id(self) -> int:
        """Kodi's ``idMovie INTEGER PRIMARY KEY``: SQLite gives the largest id + 1, so a refresh of the newest
        movie (removed, then added) gets its own id back (measured, docs/KODI-SOURCE.md (c))."""
        return max(self.movies, default=0) + 1

    def _scan(self, directory: str) -> None:
        """Kodi's UpdateLibrary(video): a scan while one runs stops it and starts nothing."""
        with self._lock:
            if self.scanning:
                assert self._scan_timer is not None
                self._scan_timer.cancel()
                self._scan_timer = None
                self.cancelled_scans += 1
                return
            self._scan_timer = threading.Timer(self.scan_seconds, self._finish_scan, (directory,))
            self._scan_timer.daemon = True
            self._scan_timer.start()

    def _finish_scan(self, directory: str) -> None:
        with self._lock:
            disk = self.disk or {f + "movie.mkv" for f in {directory, *self._asked} if f.endswith("/")}
            files = [f for f in sorted(disk) if f.startswith(directory)
                     and not any(s.get("file") == f.rsplit("/", 1)[0] + "/" for s in self.sources)]
            for folder in {file.rsplit("/", 1)[0] + "/" for file in files}:
                self._list(folder)  # a scan lists every folder it walks, and caches the listing
            for file in files:
                if file.rsplit("/", 1)[0] + "/" not in self.unreadable and file not in self.movies.values() \
                        and not any(f.startswith(file.rsplit("/", 1)[0] + "/") for f in self.movies.values()):
                    self._add_movie(file)

    # movie sets, settings, files ----------------------------------------------------------------------------

    def _add_movie(self, file: str) -> int:
        """Add a movie (the lock is held); it joins its NFO's set, which takes folder art only while it has none."""
        movieid = self._new_id()
        self.movies[movieid] = file
        folder, _, name = file.rpartition("/")
        listing = self.listed.get(folder + "/") or self._list(folder + "/")  # READ_CACHE: a cached listing wins
        base = name.rpartition(".")[0] + "-"
        self.art[movieid] = {stem[len(base):]: path for path in sorted(listing)
                             if (stem := path.rpartition("/")[2].rpartition(".")[0]).startswith(base)
                             and path.rpartition(".")[2].lower() in ("jpg", "jpeg", "png")}
        if file in self.set_of:
            title, overview = self.set_of[file]
            setid = next((i for i, s in self.moviesets.items() if s.title == title), None)
            if setid is None:
                setid = max(self.moviesets, default=0) + 1
                self.moviesets[setid] = KodiSet(title, overview)  # CVideoDatabase::AddSet: the overview once
            self.movie_set[movieid] = setid
            movie_set = self.moviesets[setid]
            if not movie_set.art:  # SetDetailsForMovie: "if (!HasArtForItem(idSet, ...))"
                movie_set.art = self._folder_art(title)
        return movieid

    def _folder_art(self, title: str) -> dict[str, str]:
        root = str(self.settings.get("videolibrary.moviesetsfolder") or "")
        if not root:
            return {}
        folder = root.rstrip("/") + "/" + title.translate(_LEGAL).rstrip(". ") + "/"
        art = {}
        for path in sorted(self.files):
            name = path[len(folder):] if path.startswith(folder) else ""
            stem, _, ext = name.rpartition(".")
            if name and "/" not in name and ext.lower() in ("jpg", "jpeg", "png") and stem.isalnum():
                art[stem.lower()] = path
        return art

    def _list(self, folder: str) -> frozenset[str]:
        """List a folder of Kodi's disk (the lock is held) and cache the listing, as Kodi's CDirectory does."""
        self.listed[folder] = frozenset(p for p in self.disk | self.files
                                        if p.startswith(folder) and "/" not in p[len(folder):])
        return self.listed[folder]

    def _art(self, movieid: int, params: dict[str, Any]) -> dict[str, Any]:
        if "art" not in params.get("properties", []):
            return {}
        return {"art": {k: f"image://{quote(v, safe='')}/" for k, v in self.art.get(movieid, {}).items()}}

    def _set_fields(self, movieid: int, params: dict[str, Any]) -> dict[str, Any]:
        setid = self.movie_set.get(movieid, 0)
        out: dict[str, Any] = {}
        if "setid" in params.get("properties", []):
            out["setid"] = setid
        if "set" in params.get("properties", []):
            out["set"] = self.moviesets[setid].title if setid else ""
        return out

    def _sets_and_files(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        invalid = {"error": {"code": -32602, "message": "Invalid params."}}
        with self._lock:
            if method == "Settings.GetSettingValue":
                setting = params.get("setting")
                return {"result": {"value": self.settings[setting]}} if setting in self.settings else invalid
            if method == "Files.GetDirectory":
                answer = self._directory(str(params.get("directory", "")))
                if "result" in answer:
                    self._list(str(params["directory"]).rstrip("/") + "/")
                return answer
            movie_set = self.moviesets.get(params.get("setid"))
            if movie_set is None:
                return invalid
            if method == "VideoLibrary.GetMovieSetDetails":
                art = {k: f"image://{quote(v, safe='')}/" for k, v in movie_set.art.items()}
                return {"result": {"setdetails": {
                    "setid": params["setid"], "label": movie_set.title, "title": movie_set.title,
                    "plot": movie_set.plot, "art": {**art, "icon": "image://DefaultFolder.png/"}}}}
            if method == "VideoLibrary.SetMovieSetDetails":
                for kind, value in (params.get("art") or {}).items():
                    if value is None:
                        movie_set.art.pop(kind, None)
                    elif value:
                        movie_set.art[kind] = _unwrap(value)
                if params.get("plot") is not None:
                    movie_set.plot = params["plot"]
                return {"result": "OK"}
        return {"error": {"code": -32601, "message": "Method not found."}}

    def _directory(self, directory: str) -> dict[str, Any]:
        folder = directory if directory.endswith("/") else directory + "/"
        roots = [str(s.get("file", "")) for s in self.sources] + self.other_sources
        entries: dict[str, str] = {}
        for path in sorted(self.disk | self.files):
            if path.startswith(folder) and path != folder:
                first, slash, _ = path[len(folder):].partition("/")
                entries[folder + first + slash] = "directory" if slash else "file"
        if not any(root and folder.startswith(root) for root in roots) or not entries:
            return {"error": {"code": -32602, "message": "Invalid params."}}
        files = [{"file": p, "filetype": t, "label": p.rstrip("/").rsplit("/", 1)[-1], "type": "unknown"}
                 for p, t in entries.items()]
        return {"result": {"files": files, "limits": {"start": 0, "end": len(files), "total": len(files)}}}

    @staticmethod
    def _matches(rule: dict[str, Any], file: str) -> bool:
        folder = file.rsplit("/", 1)[0] + "/"
        if rule.get("field") != "path":
            return False
        if rule.get("operator") == "startswith":
            return folder.startswith(rule["value"])
        return rule.get("operator") == "is" and folder == rule["value"]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [p for m, p in self.calls if m == method]


class FakeJellyfin(FakePlayer):
    """Jellyfin: /System/Info, /Library/VirtualFolders, POST /Library/Media/Updated (204)."""

    def __init__(self, token: str, locations: tuple[str, ...] = ("/data/movies",)) -> None:
        super().__init__()
        self.token = token
        self.locations = locations
        self.received: list[list[dict[str, str]]] = []  # accepted Media/Updated bodies

    def answer(self, request: Recorded) -> tuple[int, Any]:
        auth = request.headers.get("authorization", "")
        if f'Token="{self.token}"' not in auth and request.headers.get("x-emby-token") != self.token:
            return 401, None
        if request.method == "GET" and request.path == "/System/Info":
            return 200, {"ServerName": "fake-jellyfin", "Version": "10.10.3", "Id": "abc"}
        if request.method == "GET" and request.path == "/Library/VirtualFolders":
            return 200, [{"Name": "Movies", "CollectionType": "movies", "Locations": list(self.locations)}]
        if request.method == "POST" and request.path == "/Library/Media/Updated":
            with self._lock:
                self.received.append(request.body["Updates"])
            return 204, None
        return 404, None

    def updates(self) -> list[list[dict[str, str]]]:
        """The accepted ``Updates`` lists, one per POST."""
        return list(self.received)


class FakePlex(FakePlayer):
    """Plex: /identity (no token needed), /library/sections, /library/sections/{id}/refresh."""

    def __init__(self, token: str, sections: dict[str, tuple[str, list[str]]] | None = None) -> None:
        super().__init__()
        self.token = token
        self.sections = sections or {"1": ("Movies", ["/data/movies"]), "2": ("TV Shows", ["/data/tv"])}
        self.refreshed: list[tuple[str, str | None]] = []  # accepted (section, path) refreshes

    def answer(self, request: Recorded) -> tuple[int, Any]:
        if request.path == "/identity":
            return 200, {"MediaContainer": {"machineIdentifier": "fake-plex-1", "version": "1.41.0"}}
        if request.headers.get("x-plex-token") != self.token:
            return 401, None
        if request.path == "/library/sections":
            return 200, {"MediaContainer": {"size": len(self.sections), "Directory": [
                {"key": key, "title": title, "type": "show" if "TV" in title else "movie",
                 "Location": [{"id": i, "path": p} for i, p in enumerate(paths)]}
                for key, (title, paths) in self.sections.items()]}}
        parts = request.path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["library", "sections"] and parts[3] == "refresh" \
                and parts[2] in self.sections:
            with self._lock:
                self.refreshed.append((parts[2], request.query.get("path")))
            return 200, None
        return 404, None

    def refreshes(self) -> list[tuple[str, str | None]]:
        """The accepted refreshes: (section id, path or None for the whole section)."""
        return list(self.refreshed)


_LEGAL = str.maketrans({c: "_" for c in '/\\?:*"<>|'})  # CUtil::MakeLegalFileName(LEGAL_WIN32_COMPAT)


def _unwrap(value: str) -> str:
    """CTextureUtils::UnwrapImageURL."""
    return unquote(value[len("image://"):].rstrip("/")) if value.startswith("image://") else value


def closed_port_url() -> str:
    """A loopback URL where nothing listens: an offline player."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
