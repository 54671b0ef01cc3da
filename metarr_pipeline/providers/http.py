"""The polite HTTP layer every provider request and image download goes through.

Why our own layer on top of httpx: httpx retries connection errors only. Providers need more: a per-host
limit on requests per second *and* on concurrent connections, ``Retry-After`` honoured for every thread
talking to that host (not just the one that got the 429), bounded retries with jittered backoff on
429/5xx/timeouts/connection errors/truncated bodies, no retry on other 4xx, a cap on response size, and
errors that never contain a key. One :class:`HttpFetcher` is shared by all worker threads of a process.

The limits are kept per provider route (:mod:`.politeness`), and redirects are followed here, hop by hop,
each checked against the request's allowlist and with credentials kept to their origin (:mod:`.redirects`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from metarr_pipeline.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderResponseError,
    ProviderUnavailable,
)
from metarr_pipeline.providers.keys import redact
from metarr_pipeline.providers.politeness import HostLimiter, HostPolicy, Route, match_route
from metarr_pipeline.providers.redirects import (
    REDIRECTS,
    Credentials,
    check_allowed,
    next_hop,
    origin_of,
    outgoing,
    parse_url,
)

__all__ = ["Credentials", "FetchStats", "HostLimiter", "HostPolicy", "HttpFetcher", "Response", "Route",
           "check_allowed", "host_of", "retry_after"]

log = logging.getLogger(__name__)
# httpx logs every request URL at INFO, with query-string keys in it: keep it quiet.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

_MAX_RETRY_AFTER = 120.0
MAX_REDIRECTS = 5


_COUNTS = ("requests", "retries", "failures", "rate_limited", "bytes")


@dataclass
class FetchStats:
    """Counters for asset metadata and the benchmark (thread-safe)."""

    requests: int = 0
    retries: int = 0
    failures: int = 0
    rate_limited: int = 0
    bytes: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def count_kind(self, kind: str) -> None:
        with self._lock:
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": self.requests, "retries": self.retries, "failures": self.failures,
                    "rate_limited": self.rate_limited, "bytes": self.bytes, "by_kind": dict(self.by_kind)}

    def delta(self, before: dict[str, Any]) -> dict[str, Any]:
        """What was counted since ``before`` (a :meth:`snapshot`), in the snapshot's shape."""
        now = self.snapshot()
        out = {k: now[k] - before.get(k, 0) for k in _COUNTS}
        out["by_kind"] = {k: n - before.get("by_kind", {}).get(k, 0) for k, n in now["by_kind"].items()
                          if n != before.get("by_kind", {}).get(k, 0)}
        return out

    def merge(self, delta: dict[str, Any]) -> None:
        """Add another fetcher's counts (a worker process's :meth:`delta`)."""
        with self._lock:
            for name in _COUNTS:
                setattr(self, name, getattr(self, name) + int(delta.get(name, 0)))
            for kind, n in (delta.get("by_kind") or {}).items():
                self.by_kind[kind] = self.by_kind.get(kind, 0) + int(n)


@dataclass(frozen=True)
class Response:
    status: int
    content: bytes
    headers: Mapping[str, str]
    url: str  # final URL after redirects, redacted

    def json(self) -> Any:
        import json

        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise ProviderResponseError(f"malformed JSON from {self.url}: {exc}") from exc


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class HttpFetcher:
    """Shared, thread-safe HTTP access with per-route politeness. Close it when done.

    ``routes`` name each provider purpose (its limits and redirect allowlist); a URL that matches none gets
    ``default_policy``, keyed by its host, and may be redirected only within that host.
    """

    def __init__(
        self,
        routes: Sequence[Route] = (),
        *,
        default_policy: HostPolicy | None = None,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        secrets: tuple[str, ...] = (),
        transport: httpx.BaseTransport | None = None,
        user_agent: str = "metarr-pipeline/0.1",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.routes = {r.name: r for r in routes}
        self._default = default_policy or HostPolicy(10.0, 4, 15.0)
        self._limiters: dict[str, HostLimiter] = {}
        self._clients: dict[str, httpx.Client] = {}
        self._lock = threading.Lock()
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.secrets = secrets
        self.stats = FetchStats()
        self._transport = transport
        self._user_agent = user_agent
        self._sleep = sleep

    @property
    def transport(self) -> httpx.BaseTransport | None:
        """The transport handed in (a test's), or None for real HTTP."""
        return self._transport

    def route_for(self, url: str | httpx.URL, name: str | None = None) -> Route:
        """The named route, else the one whose base the URL starts with, else one for the URL's own host."""
        if name is not None and name in self.routes:
            return self.routes[name]
        parsed = parse_url(url)
        found = match_route(parsed, list(self.routes.values()))
        if found is not None:
            return found
        netloc = parsed.netloc.decode("ascii").lower()
        return Route(f"host:{netloc}", f"{parsed.scheme}://{netloc}", self._default)

    def limiter(self, route: Route) -> tuple[httpx.Client, HostLimiter]:
        with self._lock:
            if route.name not in self._clients:
                policy = route.policy
                self._limiters[route.name] = HostLimiter(policy, sleep=self._sleep)
                self._clients[route.name] = httpx.Client(
                    timeout=httpx.Timeout(policy.timeout_seconds, connect=min(10.0, policy.timeout_seconds)),
                    limits=httpx.Limits(max_connections=policy.max_connections,
                                        max_keepalive_connections=policy.max_connections),
                    headers={"User-Agent": self._user_agent, "Accept-Encoding": "gzip"},
                    follow_redirects=False,  # never: redirects are followed by get(), hop by hop, checked
                    transport=self._transport,
                )
            return self._clients[route.name], self._limiters[route.name]

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        credentials: Credentials | None = None,
        kind: str = "other",
        max_bytes: int = 8 * 1024 * 1024,
        allowed_hosts: tuple[str, ...] | None = None,
        not_found_ok: bool = False,
        max_redirects: int = MAX_REDIRECTS,
        provider: str = "provider",
        route: str | None = None,
    ) -> Response:
        """GET with politeness, retries and checked redirects. Raises a :class:`ProviderError`, redacted.

        Every hop (the first URL included) must be on ``allowed_hosts``, by default the route's allowlist;
        ``credentials`` go only to the first URL's origin (see :mod:`.redirects`).
        """
        the_route = self.route_for(url, route)
        allowlist = allowed_hosts if allowed_hosts is not None else the_route.allowlist()
        current = check_allowed(url, allowlist)
        current_params = {**dict(current.params.multi_items()), **(params or {})}
        current = current.copy_with(query=None)
        home: tuple[str, str, int] | None = origin_of(current)
        client, limiter = self.limiter(the_route)
        attempt = redirects = 0
        while True:
            attempt += 1
            hop_params, hop_headers = outgoing(current, home, current_params, headers, credentials)
            shown = self.redact(str(current.copy_merge_params(hop_params)))
            try:
                limiter.acquire()
                try:
                    self.stats.add(requests=1)
                    self.stats.count_kind(kind)
                    result = self._once(client, limiter, current, hop_params, hop_headers, max_bytes, shown,
                                        not_found_ok, provider)
                finally:
                    limiter.release()
            except _Retry as retry:
                if attempt >= self.max_attempts:
                    self.stats.add(failures=1)
                    raise ProviderUnavailable(
                        f"{provider}: {shown} failed after {attempt} attempts: {retry.reason}") from None
                self.stats.add(retries=1)
                delay = retry.wait if retry.wait is not None else self._backoff(attempt)
                log.debug("retrying %s in %.2fs (%s)", shown, delay, retry.reason)
                self._sleep(delay)
                continue
            if isinstance(result, Response):
                return result
            redirects += 1
            if redirects > max_redirects:
                self.stats.add(failures=1)
                raise ProviderResponseError(f"{provider}: more than {max_redirects} redirects from {shown}")
            try:
                current, current_params = next_hop(current, result, allowlist)
            except ProviderError as exc:
                self.stats.add(failures=1)
                raise type(exc)(f"{provider}: redirect from {shown}: {self.redact(str(exc))}") from None
            if home is not None and origin_of(current) != home:
                home = None  # credentials never follow a hop to another origin, nor any hop after it
            attempt = 0

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spreads the retries of many threads instead of synchronising them.
        return random.uniform(0, min(8.0, self.backoff_seconds * 2 ** (attempt - 1)))

    def _once(
        self,
        client: httpx.Client,
        limiter: HostLimiter,
        url: httpx.URL,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        max_bytes: int,
        shown: str,
        not_found_ok: bool,
        provider: str,
    ) -> Response | str:
        try:
            with client.stream("GET", url, params=params, headers=headers) as resp:
                status = resp.status_code
                if status in REDIRECTS and "location" in resp.headers:
                    return resp.headers["location"]
                if status == 429 or status in (502, 503, 504) or status >= 500:
                    wait = retry_after(resp.headers.get("retry-after"))
                    if status == 429:
                        self.stats.add(rate_limited=1)
                        limiter.block_for(wait if wait is not None else 1.0)
                    elif wait is not None:
                        limiter.block_for(wait)
                    raise _Retry(f"HTTP {status}", wait)
                if status in (401, 403):
                    self.stats.add(failures=1)
                    raise ProviderAuthError(f"{provider} rejected the credentials (HTTP {status}) for {shown}")
                if status == 404:
                    if not_found_ok:
                        return Response(404, b"", dict(resp.headers), shown)
                    self.stats.add(failures=1)
                    raise ProviderNotFound(f"{provider}: not found (HTTP 404): {shown}")
                if status >= 400:
                    self.stats.add(failures=1)
                    raise ProviderResponseError(f"{provider}: HTTP {status} for {shown}")
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    self.stats.add(failures=1)
                    raise ProviderResponseError(
                        f"{provider}: response of {int(declared)} bytes exceeds the {max_bytes}-byte cap: {shown}")
                chunks = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        self.stats.add(failures=1)
                        raise ProviderResponseError(
                            f"{provider}: response exceeds the {max_bytes}-byte cap: {shown}")
                    chunks.append(chunk)
                content = b"".join(chunks)
                self.stats.add(bytes=len(content))
                return Response(status, content, dict(resp.headers), shown)
        except ProviderError:
            raise
        except httpx.TimeoutException as exc:
            raise _Retry(f"timed out ({type(exc).__name__})") from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _Retry(f"connection broke mid-response ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Retry(f"connection failed ({type(exc).__name__}: {self.redact(str(exc))})") from None


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, min(seconds, _MAX_RETRY_AFTER))


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()
