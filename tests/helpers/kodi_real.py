"""A real Kodi (Debian's ``kodi`` package) running headless under Xvfb, for tests that check what Kodi reads.

Why a real one: the JSON-RPC double in ``players.py`` only knows what we believed about Kodi; a real Kodi
20.1 disagreed in four places (issue #12). This harness starts ``kodi.bin`` with a throwaway profile (``HOME``
in a temporary folder, so ``special://home`` is ``$HOME/.kodi``), writes the settings a user would have
chosen (web server + JSON-RPC on free loopback ports, optional password, movie-set folder, probing), adds
each library as a video source (``sources.xml``) and sets its content the way Kodi's "Set content" dialog
stores it: the ``path`` row of ``MyVideos*.db`` (``CVideoDatabase::SetScraperForPath`` with the values
``CGUIDialogContentSettings::Show`` computes: content ``movies``, scraper ``metadata.local``, recursive scan,
``useFolderNames`` as chosen).

Everything waits on events with a deadline: Xvfb reports its display through ``-displayfd``, Kodi is ready
when ``JSONRPC.Ping`` answers, a scan is over when Kodi sends ``VideoLibrary.OnScanFinished`` on its TCP
JSON-RPC socket and ``Library.IsScanningVideo`` is false. When Kodi cannot be found or started,
:class:`KodiUnavailable` says why; the fixtures turn it into a test failure, never a skip.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import select
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx

KODI_BIN_CANDIDATES = ("/usr/lib/x86_64-linux-gnu/kodi/kodi.bin", "/usr/lib/aarch64-linux-gnu/kodi/kodi.bin",
                       "/usr/lib/kodi/kodi.bin", "/usr/lib/*/kodi/kodi.bin", "/usr/local/lib/kodi/kodi.bin")
INSTALL_HINT = "install Debian's kodi and xvfb ('make kodi' as root, or: sudo apt-get install kodi xvfb)"
SCAN_RECURSIVE = 2147483647  # INT_MAX: what the "Set content" dialog stores for "scan recursively"
START_SECONDS = 90.0
SCAN_SECONDS = 180.0


class KodiUnavailable(RuntimeError):
    """Kodi or Xvfb is missing or would not start; the message says which and why."""


class KodiRpcError(RuntimeError):
    """A JSON-RPC error object in Kodi's answer."""


@dataclass(frozen=True)
class Source:
    """A video source and its "Set content" choices."""

    path: Path
    use_folder_names: bool = False
    name: str = ""

    @property
    def kodi_path(self) -> str:
        return str(self.path).rstrip("/") + "/"  # Kodi stores folders with the trailing separator


@dataclass
class KodiProfile:
    """The user's choices, written into ``guisettings.xml`` / ``advancedsettings.xml`` before Kodi starts."""

    sources: Sequence[Source] = ()
    password: str = ""  # "" = web server without authentication
    username: str = "kodi"
    moviesets_folder: Path | None = None
    extract_flags: bool = True  # Kodi probes the video file (its stream details replace the NFO's <fileinfo>)
    extra_settings: dict[str, str] = field(default_factory=dict)
    file_sources: Sequence[Path] = ()  # "Files" sources (not scanned; JSON-RPC may list folders inside them)


def find_kodi_bin() -> Path | None:
    for pattern in KODI_BIN_CANDIDATES:
        for hit in sorted(glob.glob(pattern)):
            if os.access(hit, os.X_OK):
                return Path(hit)
    found = shutil.which("kodi.bin")
    return Path(found) if found else None


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Notifications:
    """Kodi's JSON-RPC notifications (``VideoLibrary.OnScanFinished`` ...) read from its TCP socket.

    Kodi writes JSON objects back to back with no separator; a background thread decodes them into
    :attr:`seen` and wakes waiters.
    """

    def __init__(self, port: int) -> None:
        self.seen: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self._sock.settimeout(0.5)
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True, name="kodi-notifications")
        self._thread.start()

    def _read(self) -> None:
        decoder, buffer = json.JSONDecoder(), ""
        while not self._stop:
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            buffer += chunk.decode("utf-8", "replace")
            while buffer.strip():
                try:
                    obj, end = decoder.raw_decode(buffer.lstrip())
                except ValueError:
                    break  # incomplete object: wait for more bytes
                buffer = buffer.lstrip()[end:]
                with self._cond:
                    self.seen.append(obj)
                    self._cond.notify_all()

    def count(self, method: str) -> int:
        with self._cond:
            return sum(1 for n in self.seen if n.get("method") == method)

    def wait_for(self, method: str, after: int, deadline: float) -> bool:
        """True once more than ``after`` notifications ``method`` have arrived, False at the deadline."""
        with self._cond:
            while sum(1 for n in self.seen if n.get("method") == method) <= after:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
            return True

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(timeout=2)


class RealKodi:
    """One headless Kodi with a throwaway profile under ``workdir``; :meth:`start` / :meth:`stop` may repeat."""

    def __init__(self, workdir: Path, profile: KodiProfile) -> None:
        self.workdir = workdir
        self.profile = profile
        self.home = workdir / "home"
        self.userdata = self.home / ".kodi" / "userdata"
        self.port = free_port()
        self.tcp_port = free_port()
        self.es_port = free_port(socket.SOCK_DGRAM)
        self.kodi_bin = find_kodi_bin()
        self.xvfb = shutil.which("Xvfb")
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._kodi: subprocess.Popen[bytes] | None = None
        self.display = ""
        self.notifications: Notifications | None = None
        self._http = httpx.Client(timeout=30.0, auth=(profile.username, profile.password) if profile.password else None)
        self._id = 0

    # life cycle ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._kodi is not None and self._kodi.poll() is None

    def start(self, seconds: float = START_SECONDS) -> RealKodi:
        if self.kodi_bin is None:
            raise KodiUnavailable(f"kodi.bin not found (looked in {', '.join(KODI_BIN_CANDIDATES)}): {INSTALL_HINT}")
        if self.xvfb is None:
            raise KodiUnavailable(f"Xvfb not found on PATH: {INSTALL_HINT}")
        deadline = time.monotonic() + seconds
        self.write_profile()
        if self._xvfb is None or self._xvfb.poll() is not None:
            self._start_xvfb(deadline)
        log = open(self.workdir / "kodi.out", "ab")  # noqa: SIM115 (the child keeps it)
        env = {**os.environ, "HOME": str(self.home), "DISPLAY": self.display, "LP_NUM_THREADS": "1",
               "KODI_AE_SINK": "NULL", "XDG_RUNTIME_DIR": str(self.workdir)}
        self._kodi = subprocess.Popen([str(self.kodi_bin), "--standalone", "--windowing=x11"], env=env,
                                      stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True)
        log.close()
        self._wait_ready(deadline)
        self.set_content(deadline)
        self.notifications = Notifications(self.tcp_port)
        return self

    def _start_xvfb(self, deadline: float) -> None:
        read_fd, write_fd = os.pipe()
        try:
            self._xvfb = subprocess.Popen(
                [str(self.xvfb), "-displayfd", str(write_fd), "-screen", "0", "720x480x24", "-nolisten", "tcp",
                 "-noreset"], pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)
            os.close(write_fd)
            write_fd = -1
            data = b""
            while not data.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                    raise KodiUnavailable("Xvfb did not report a display before the deadline")
                chunk = os.read(read_fd, 64)
                if not chunk:
                    raise KodiUnavailable(f"Xvfb exited (status {self._xvfb.wait()}) without a display")
                data += chunk
            self.display = ":" + data.decode().strip()
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)

    def _wait_ready(self, deadline: float) -> None:
        last = "no answer yet"
        while time.monotonic() < deadline:
            assert self._kodi is not None
            if self._kodi.poll() is not None:
                raise KodiUnavailable(f"kodi.bin exited with status {self._kodi.returncode} before answering "
                                      f"JSON-RPC; its log ends with:\n{self.log_tail()}")
            try:
                if self.call("JSONRPC.Ping", timeout=2.0) == "pong":
                    return
            except (httpx.HTTPError, KodiRpcError) as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2)
        self.stop()
        raise KodiUnavailable(f"Kodi did not answer JSONRPC.Ping on {self.url} before the deadline ({last}); "
                              f"its log ends with:\n{self.log_tail()}")

    def stop(self, seconds: float = 30.0) -> None:
        """Application.Quit, then SIGTERM, then SIGKILL, each with a deadline; Xvfb stays up for a restart."""
        if self.notifications is not None:
            self.notifications.close()
            self.notifications = None
        proc, self._kodi = self._kodi, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(httpx.HTTPError, KodiRpcError):
            self.call("Application.Quit", timeout=5.0)
        for step in (proc.wait, lambda timeout: (proc.terminate(), proc.wait(timeout)),
                     lambda timeout: (proc.kill(), proc.wait(timeout))):
            try:
                step(timeout=seconds / 3)
                return
            except subprocess.TimeoutExpired:
                continue

    def close(self) -> None:
        self.stop()
        proc, self._xvfb = self._xvfb, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self._http.close()

    def log_tail(self, lines: int = 30) -> str:
        log = self.home / ".kodi" / "temp" / "kodi.log"
        text = log.read_text("utf-8", "replace") if log.is_file() else ""
        if not text:
            out = self.workdir / "kodi.out"
            text = out.read_text("utf-8", "replace") if out.is_file() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # profile -------------------------------------------------------------------------------------

    def write_profile(self) -> None:
        self.userdata.mkdir(parents=True, exist_ok=True)
        p = self.profile
        settings = {
            "services.webserver": "true", "services.webserverport": str(self.port),
            "services.webserverauthentication": "true" if p.password else "false",
            "services.webserverusername": p.username, "services.webserverpassword": p.password,
            "services.esenabled": "true", "services.esallinterfaces": "false", "services.esport": str(self.es_port),
            "services.zeroconf": "false", "services.upnp": "false", "services.airplay": "false",
            "general.addonupdates": "2", "general.addonnotifications": "false",
            "videolibrary.moviesetsfolder": str(p.moviesets_folder).rstrip("/") + "/" if p.moviesets_folder else "",
            "myvideos.extractflags": "true" if p.extract_flags else "false",
            "myvideos.extractthumb": "false", "myvideos.extractchapterthumbs": "false",
            **p.extra_settings,
        }
        rows = "".join(f'  <setting id="{escape(k)}">{escape(v)}</setting>\n' for k, v in settings.items())
        (self.userdata / "guisettings.xml").write_text(f'<settings version="2">\n{rows}</settings>\n', "utf-8")
        (self.userdata / "advancedsettings.xml").write_text(
            "<advancedsettings version=\"1.0\">\n"
            f"  <jsonrpc><tcpport>{self.tcp_port}</tcpport></jsonrpc>\n"
            "  <gui><algorithmdirtyregions>3</algorithmdirtyregions></gui>\n"  # redraw only what changed
            "</advancedsettings>\n", "utf-8")
        sources = "".join(
            f"    <source><name>{escape(s.name or s.path.name)}</name>"
            f'<path pathversion="1">{escape(s.kodi_path)}</path><allowsharing>true</allowsharing></source>\n'
            for s in p.sources)
        files = "".join(
            f"    <source><name>{escape(path.name)}</name><path pathversion=\"1\">{escape(str(path).rstrip('/') + '/')}"
            "</path><allowsharing>true</allowsharing></source>\n" for path in p.file_sources)
        (self.userdata / "sources.xml").write_text(
            "<sources>\n  <programs><default pathversion=\"1\"></default></programs>\n"
            f"  <video>\n    <default pathversion=\"1\"></default>\n{sources}  </video>\n"
            "  <music><default pathversion=\"1\"></default></music>\n"
            "  <pictures><default pathversion=\"1\"></default></pictures>\n"
            f"  <files><default pathversion=\"1\"></default>\n{files}  </files>\n</sources>\n", "utf-8")

    def video_database(self, deadline: float | None = None) -> Path:
        """The newest ``MyVideos<N>.db`` (Kodi creates it at start-up)."""
        deadline = deadline or time.monotonic() + 30
        while True:
            found = sorted(self.userdata.glob("Database/MyVideos*.db"),
                           key=lambda p: int("".join(ch for ch in p.stem if ch.isdigit()) or 0))
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise KodiUnavailable(f"Kodi created no MyVideos*.db under {self.userdata / 'Database'}")
            time.sleep(0.2)

    def set_content(self, deadline: float | None = None) -> None:
        """Store "movies, Local information only" for every source, as ``SetScraperForPath`` does."""
        db = self.video_database(deadline)
        with contextlib.closing(sqlite3.connect(db, timeout=30)) as con, con:
            for s in self.profile.sources:
                row = con.execute("SELECT idPath FROM path WHERE strPath = ?", (s.kodi_path,)).fetchone()
                if row is None:
                    con.execute("INSERT INTO path (strPath) VALUES (?)", (s.kodi_path,))
                con.execute(
                    "UPDATE path SET strContent = 'movies', strScraper = 'metadata.local', scanRecursive = ?, "
                    "useFolderNames = ?, strSettings = '', noUpdate = 0, exclude = 0 WHERE strPath = ?",
                    (SCAN_RECURSIVE, int(s.use_folder_names), s.kodi_path))

    # JSON-RPC ------------------------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0) -> Any:
        self._id += 1
        answer = self._http.post(f"{self.url}/jsonrpc", timeout=timeout, json={
            "jsonrpc": "2.0", "method": method, "params": params or {}, "id": self._id})
        answer.raise_for_status()
        body = answer.json()
        if "error" in body:
            raise KodiRpcError(f"{method}: {body['error']}")
        return body.get("result")

    def scanning(self) -> bool:
        result = self.call("XBMC.GetInfoBooleans", {"booleans": ["Library.IsScanningVideo"]})
        return bool(result.get("Library.IsScanningVideo"))

    def wait_idle(self, seconds: float = SCAN_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while self.scanning():
            if time.monotonic() > deadline:
                raise TimeoutError(f"Kodi still scanning after {seconds:.0f} s")
            time.sleep(0.1)

    @contextlib.contextmanager
    def scan_finishes(self, seconds: float = SCAN_SECONDS) -> Iterator[None]:
        """Wait, after the body (which starts a scan some way), for Kodi's next ``OnScanFinished``."""
        assert self.notifications is not None, "Kodi is not running"
        before = self.notifications.count("VideoLibrary.OnScanFinished")
        deadline = time.monotonic() + seconds
        yield
        if not self.notifications.wait_for("VideoLibrary.OnScanFinished", before, deadline):
            raise TimeoutError(f"no VideoLibrary.OnScanFinished within {seconds:.0f} s\n{self.log_tail()}")
        self.wait_idle(max(1.0, deadline - time.monotonic()))

    def scan(self, directory: str = "", seconds: float = SCAN_SECONDS) -> None:
        """``VideoLibrary.Scan`` (of one folder, or of every source) and wait until it has finished."""
        params: dict[str, Any] = {"showdialogs": False}
        if directory:
            params["directory"] = directory
        with self.scan_finishes(seconds):
            self.call("VideoLibrary.Scan", params)

    def movies(self, properties: Sequence[str] = ("file",), rule: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"properties": list(properties)}
        if rule:
            params["filter"] = rule
        return list((self.call("VideoLibrary.GetMovies", params) or {}).get("movies") or [])

    def clear_library(self) -> None:
        """Remove every movie (and wait until Kodi has), so a test starts from an empty library."""
        for movie in self.movies():
            self.call("VideoLibrary.RemoveMovie", {"movieid": movie["movieid"]})


def start_kodi(workdir: Path, profile: KodiProfile) -> RealKodi:
    """Start a Kodi or raise :class:`KodiUnavailable` (after cleaning up what did start)."""
    kodi = RealKodi(workdir, profile)
    try:
        return kodi.start()
    except BaseException:
        kodi.close()
        raise
