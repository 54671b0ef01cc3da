"""A tiny loopback HTTP server for redirect tests: answers each path as told and records what it received.

Real sockets, so a test sees exactly what our client put on the wire (headers, query strings) at each host.
Each server is one origin: 127.0.0.1, 127.0.0.2 and localhost are different hosts, each port its own origin.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


def png_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (40, 60)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@dataclass
class Seen:
    path: str  # with its query string
    headers: dict[str, str]


@dataclass
class RedirectServer:
    """``redirects[path] = (status, location)``; any other path answers 200 with ``body``."""

    host: str = "127.0.0.1"
    body: bytes = b'{"id": 603, "title": "The Matrix"}'
    content_type: str = "application/json"
    redirects: dict[str, tuple[int, str]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
                hop = owner.redirects.get(self.path.split("?")[0])
                if hop is not None:
                    self.send_response(hop[0])
                    self.send_header("Location", hop[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", owner.content_type)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
