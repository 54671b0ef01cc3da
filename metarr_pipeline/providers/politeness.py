"""How politely each provider is asked: one limiter per provider *route*, not per host.

A route is one provider's purpose (TMDB API, TMDB images, fanart.tv API, fanart.tv assets) with its base URL
and its :class:`HostPolicy`. Keying the limits by route rather than by host means two providers behind one
host (a caching proxy in front of both, or the loopback simulator) keep their own limits instead of sharing
whichever was registered last; the base URL is only how a request is recognised as that provider's.

Rate limiting is a sliding window: a request may start only when fewer than ``rps`` requests started in
the last second (plus a small margin for clock and network jitter), and requests are spaced by at least
``1/rps``. That bounds every one-second window, which is what providers count, unlike a token bucket
whose burst allowance can double the rate across a window boundary.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

_WINDOW = 1.0
_WINDOW_MARGIN = 0.03


@dataclass(frozen=True)
class HostPolicy:
    requests_per_second: float
    max_connections: int
    timeout_seconds: float


@dataclass(frozen=True)
class Route:
    """One provider purpose: its name (the politeness key), the base URL its requests start with, its limits,
    and the hosts (``host`` or ``host:port``) its redirects may lead to besides the base's own host."""

    name: str
    base: str
    policy: HostPolicy
    allowed_hosts: tuple[str, ...] = ()

    def allowlist(self) -> tuple[str, ...]:
        own = httpx.URL(self.base).netloc.decode("ascii").lower()
        return tuple(dict.fromkeys((own, *(h.lower() for h in self.allowed_hosts))))

    def prefix(self) -> str:
        url = httpx.URL(self.base)
        return url.netloc.decode("ascii").lower() + url.path.rstrip("/")


def match_route(url: httpx.URL, routes: Sequence[Route]) -> Route | None:
    """The route whose base URL is the longest prefix of ``url`` (scheme aside: a proxy may change it)."""
    where = url.netloc.decode("ascii").lower() + url.path
    best: Route | None = None
    for route in routes:
        prefix = route.prefix()
        if (where == prefix or where.startswith(prefix + "/")) and (best is None or len(prefix) > len(best.prefix())):
            best = route
    return best


class HostLimiter:
    """Requests/second and concurrent connections for one route, shared by all threads."""

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
        """A 429/503 with Retry-After: nobody talks to this provider until it has passed."""
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
