"""The HTTP plumbing: one ``ThreadingHTTPServer`` per simulated host, and the per-request path through
latency, the in-flight cap, the rate limit, the faults, the route and the request log.

HTTP/1.1 with keep-alive (httpx pools connections), Nagle off and each answer written in one piece, so
a request costs a few hundred microseconds of Python and the simulator is never what a benchmark
measures. The default access log on stderr is silenced; the request log is the record.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

from metarr_pipeline.simulator.limits import NO_FAULTS, FaultDice, FaultPlan, InFlight, SlidingWindow
from metarr_pipeline.simulator.records import RequestLog, RequestRecord, redact_query
from metarr_pipeline.simulator.replies import (
    HTML_TYPE,
    JSON_TYPE,
    Reply,
    Request,
    Route,
    fanart_error,
    html_reply,
    tmdb_error,
    tmdb_rate_limited,
)
from metarr_pipeline.simulator.settings import SimulatorConfig

logger = logging.getLogger(__name__)

_GARBAGE = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
_JUNK = b"{status: ok, 'results': [1, 2,, }  <- not JSON"


class SharedState:
    """What all five hosts share: the current config (replaced whole by ``set_config``), the log, and
    the stop signal that wakes up hanging requests."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.log = RequestLog(config.request_log_limit)
        self.stopping = threading.Event()


class HostService:
    """One simulated host: admission control, faults and logging around its route."""

    def __init__(self, name: str, route: Route, state: SharedState) -> None:
        self.name, self.route, self.state = name, route, state
        self.window = SlidingWindow()
        self.in_flight = InFlight()
        self.dice = FaultDice(state.config.seed, name)
        self._dice_seed = state.config.seed
        self.api = name.endswith("_api")

    def serve(self, handler: BaseHTTPRequestHandler, *, head: bool) -> None:
        """Answer one request. The record is logged just before the answer is written, so a client that has
        its answer always finds the request in the log (``finished``: when the answer was complete)."""
        started = time.monotonic()
        path, _, raw_query = handler.path.partition("?")
        path = unquote(path)
        kind = self.route.kind_of(path)
        status, sent, payload = 0, 0, b""
        count = self.in_flight.enter()
        try:
            config = self.state.config
            if config.latency_seconds:
                self.state.stopping.wait(config.latency_seconds)
            reply, plan = self._answer(handler, path, raw_query, config, count)
            status = reply.status
            payload, sent = self._encode(handler, reply, plan, head=head)
        finally:
            self.in_flight.leave()
            self.state.log.append(RequestRecord(
                self.name, handler.command, path, redact_query(raw_query), status, started, time.monotonic(), sent,
                kind,
            ))
        try:
            handler.wfile.write(payload)
        except OSError:  # the client went away (e.g. its timeout fired during a hang)
            handler.close_connection = True

    def _answer(self, handler: BaseHTTPRequestHandler, path: str, raw_query: str, config: SimulatorConfig,
                count: int) -> tuple[Reply, FaultPlan]:
        cap = config.max_connections.get(self.name)
        if cap and count > cap:
            return self._too_many(float(cap)), NO_FAULTS
        rate = config.rate_limit.get(self.name)
        if rate and not self.window.allow(rate):
            return self._too_many(rate), NO_FAULTS
        faults = config.faults.get(self.name)
        plan = NO_FAULTS
        if faults is not None and faults.any:
            plan = self._dice(config).roll(faults)
            if plan.hang:
                self.state.stopping.wait(faults.hang_seconds)
            if plan.rate_limited:
                return self._too_many(rate or 40.0), NO_FAULTS
            if plan.error_status:
                return self._error(plan.error_status), plan
        query = {key: values[0] for key, values in parse_qs(raw_query, keep_blank_values=True).items()}
        headers = {key.lower(): value for key, value in handler.headers.items()}
        request = Request(handler.command, path, query, headers, raw_query)
        try:
            return self.route.handle(request, config), plan
        except Exception:  # a bug in a route must show as a 500 in the log, not a dropped connection
            logger.exception("simulator route failed for %s %s", self.name, path)
            return self._error(500), NO_FAULTS

    def _dice(self, config: SimulatorConfig) -> FaultDice:
        if config.seed != self._dice_seed:
            self.dice, self._dice_seed = FaultDice(config.seed, self.name), config.seed
        return self.dice

    def _too_many(self, limit: float) -> Reply:
        if self.name == "tmdb_api":
            return tmdb_rate_limited(limit)
        reply = fanart_error(429, "Too many requests") if self.name == "fanart_api" else html_reply(429, "Too Many")
        return Reply(reply.status, reply.body, reply.content_type, (("Retry-After", "1"),))

    def _error(self, status: int) -> Reply:
        retry = (("Retry-After", "1"),) if status == 503 else ()
        if status == 502:  # what a proxy in front says: HTML, whatever the host
            return Reply(502, html_reply(502, "Bad Gateway").body, HTML_TYPE)
        if self.name == "tmdb_api":
            if status == 503:
                return tmdb_error(503, 9, "Service offline: This service is temporarily offline, try again later.",
                                  retry)
            return tmdb_error(500, 11, "Internal error: Something went wrong, contact TMDb.")
        if self.name == "fanart_api":
            reply = fanart_error(status, "Service unavailable" if status == 503 else "Internal server error")
            return Reply(reply.status, reply.body, reply.content_type, retry)
        page = html_reply(status, HTTPStatus(status).phrase)
        return Reply(status, page.body, page.content_type, retry)

    def _encode(self, handler: BaseHTTPRequestHandler, reply: Reply, plan: FaultPlan, *,
                head: bool) -> tuple[bytes, int]:
        """The whole answer as one write (status line, headers, body), with the body faults applied to
        successful answers; and how many body bytes it carries."""
        body, content_type, declared = reply.body, reply.content_type, len(reply.body)
        if reply.status == 200 and plan is not NO_FAULTS:
            body, content_type = self._spoil(body, content_type, plan)
            declared = len(body)
            if plan.truncate:
                body = body[: len(body) // 2]
                handler.close_connection = True
        lines = [f"HTTP/1.1 {reply.status} {_phrase(reply.status)}", "Server: metarr-simulator",
                 f"Date: {formatdate(usegmt=True)}", f"Content-Type: {content_type}",
                 f"Content-Length: {declared}"]
        lines += [f"{name}: {value}" for name, value in reply.headers]
        if handler.close_connection:
            lines.append("Connection: close")
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return (head_bytes, 0) if head else (head_bytes + body, len(body))

    def _spoil(self, body: bytes, content_type: str, plan: FaultPlan) -> tuple[bytes, str]:
        if plan.garbage:
            return _GARBAGE, content_type  # an HTML page under the promised type
        if plan.wrong_type:
            return (_JUNK, "text/plain; charset=utf-8") if self.api else (body, HTML_TYPE)
        if plan.malformed_json and self.api and content_type == JSON_TYPE:
            return body[: max(1, len(body) * 2 // 3)], content_type
        return body, content_type


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "metarr-simulator"
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are dropped after this

    server: HostServer

    def do_GET(self) -> None:
        self.server.service.serve(self, head=False)

    def do_HEAD(self) -> None:
        self.server.service.serve(self, head=True)

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: the request log records every request."""


class HostServer(ThreadingHTTPServer):
    """A threading server that also remembers its open connections, so ``stop`` can cut idle keep-alive
    connections instead of leaving their threads to time out."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    service: HostService

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # type: ignore[no-untyped-def]
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        logger.debug("simulator connection error from %s", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
