"""The polite HTTP layer every provider request and image download goes through.

Why our own layer on top of httpx: httpx retries connection errors only. Providers need more: a per-host
limit on requests per second *and* on concurrent connections, ``Retry-After`` honoured for every thread
talking to that host (not just the one that got the 429), bounded retries with jittered backoff on
429/5xx/timeouts/connection errors/truncated bodies, no retry on other 4xx, a cap on response size, and
errors that never contain a key. One :class:`HttpFetcher` is shared by all worker threads of a process.

Rate limiting is a sliding window: a request may start only when fewer than ``rps`` requests started in
the last second (plus a small margin for clock and network jitter), and requests are spaced by at least
``1/rps``. That bounds every one-second window, which is what providers count, unlike a token bucket
whose burst allowance can double the rate across a window boundary.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from metarr_pipeline.errors import (
    DisallowedHostError,
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderResponseError,
    ProviderUnavailable,
)
from metarr_pipeline.providers.keys import redact

log = logging.getLogger(__name__)
# httpx logs every request URL at INFO, with query-string keys in it: keep it quiet.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

_WINDOW = 1.0
_WINDOW_MARGIN = 0.03
_MAX_RETRY_AFTER = 120.0


@dataclass(frozen=True)
class HostPolicy:
    requests_per_second: float
    max_connections: int
    timeout_seconds: float


class HostLimiter:
    """Requests/second and concurrent connections for one host, shared by all threads."""

    def __init__(self, policy: HostPolicy, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.policy = policy
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts: collections.deque[float] = collections.deque()
        self._blocked_until = 0.0
        self._slots = threading.BoundedSemaphore(policy.max_connections)
        self._rps = max(1, int(policy.requests_per_second))
        self._spacing = 1.0 / policy.requests_per_second

    def block_for(self, seconds: float) -> None:
        """A 429/503 with Retry-After: nobody talks to this host until it has passed."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def acquire(self) -> None:
        self._slots.acquire()
        try:
            while True:
                with self._lock:
                    now = self._clock()
                    while self._starts and now - self._starts[0] >= _WINDOW + _WINDOW_MARGIN:
                        self._starts.popleft()
                    wait = self._blocked_until - now
                    if len(self._starts) >= self._rps:
                        wait = max(wait, self._starts[0] + _WINDOW + _WINDOW_MARGIN - now)
                    if self._starts:
                        wait = max(wait, self._starts[-1] + self._spacing - now)
                    if wait <= 0:
                        self._starts.append(now)
                        return
                self._sleep(min(wait, 1.0))
        except BaseException:
            self._slots.release()
            raise

    def release(self) -> None:
        self._slots.release()


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
    """Shared, thread-safe HTTP access with per-host politeness. Close it when done."""

    def __init__(
        self,
        policies: Mapping[str, HostPolicy],
        *,
        default_policy: HostPolicy | None = None,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        secrets: tuple[str, ...] = (),
        transport: httpx.BaseTransport | None = None,
        user_agent: str = "metarr-pipeline/0.1",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._policies = dict(policies)
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

    def _host(self, host: str) -> tuple[httpx.Client, HostLimiter, HostPolicy]:
        with self._lock:
            if host not in self._clients:
                policy = self._policies.get(host, self._default)
                self._limiters[host] = HostLimiter(policy, sleep=self._sleep)
                self._clients[host] = httpx.Client(
                    timeout=httpx.Timeout(policy.timeout_seconds, connect=min(10.0, policy.timeout_seconds)),
                    limits=httpx.Limits(max_connections=policy.max_connections,
                                        max_keepalive_connections=policy.max_connections),
                    headers={"User-Agent": self._user_agent, "Accept-Encoding": "gzip"},
                    follow_redirects=False,
                    transport=self._transport,
                )
            return self._clients[host], self._limiters[host], self._policies.get(host, self._default)

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
        kind: str = "other",
        max_bytes: int = 8 * 1024 * 1024,
        allowed_hosts: tuple[str, ...] | None = None,
        not_found_ok: bool = False,
        max_redirects: int = 3,
        provider: str = "provider",
    ) -> Response:
        """GET with politeness and retries. Raises a :class:`ProviderError` subclass, redacted."""
        if allowed_hosts is not None:
            check_allowed(url, allowed_hosts)
        attempt = 0
        redirects = 0
        current = url
        current_params = dict(params or {})
        while True:
            attempt += 1
            netloc = urlsplit(current).netloc
            client, limiter, _ = self._host(netloc)
            shown = self.redact(str(httpx.URL(current, params=current_params)))
            try:
                limiter.acquire()
                try:
                    self.stats.add(requests=1)
                    self.stats.count_kind(kind)
                    result = self._once(client, limiter, current, current_params, headers, max_bytes, shown,
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
            if isinstance(result, str):  # a redirect target
                redirects += 1
                if redirects > max_redirects:
                    raise ProviderResponseError(f"{provider}: too many redirects from {shown}")
                target = httpx.URL(current).join(result)
                if allowed_hosts is not None:
                    check_allowed(str(target), allowed_hosts)
                current, current_params = str(target.copy_with(query=None)), dict(target.params)
                attempt = 0
                continue
            return result

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spreads the retries of many threads instead of synchronising them.
        return random.uniform(0, min(8.0, self.backoff_seconds * 2 ** (attempt - 1)))

    def _once(
        self,
        client: httpx.Client,
        limiter: HostLimiter,
        url: str,
        params: Mapping[str, str],
        headers: Mapping[str, str] | None,
        max_bytes: int,
        shown: str,
        not_found_ok: bool,
        provider: str,
    ) -> Response | str:
        try:
            with client.stream("GET", url, params=params, headers=headers) as resp:
                status = resp.status_code
                if status in (301, 302, 303, 307, 308) and "location" in resp.headers:
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


def check_allowed(url: str, allowed_hosts: tuple[str, ...]) -> None:
    """Image downloads only from allowlisted hosts (exact host, or host:port for loopback simulators)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise DisallowedHostError(f"refusing to download from a {parts.scheme or 'schemeless'} URL: {redact(url)}")
    netloc = parts.netloc.lower()
    hostname = (parts.hostname or "").lower()
    allowed = {h.lower() for h in allowed_hosts}
    if netloc not in allowed and hostname not in allowed:
        raise DisallowedHostError(
            f"refusing to download from {netloc}: not in providers.image_hosts ({', '.join(sorted(allowed))})")
