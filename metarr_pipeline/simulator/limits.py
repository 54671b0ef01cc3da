"""Per-host admission and misbehaviour: the rate limit, the in-flight cap and the fault dice.

Each is a few lines under a lock, because they run on every request from many threads and the server
must not become the bottleneck it is supposed to simulate.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass

from metarr_pipeline.simulator.settings import Faults


class SlidingWindow:
    """At most ``limit`` accepted requests in any one-second window (TMDB counts the same way)."""

    def __init__(self) -> None:
        self._accepted: deque[float] = deque()
        self._lock = threading.Lock()

    def allow(self, limit: float, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._accepted and self._accepted[0] <= now - 1.0:
                self._accepted.popleft()
            if len(self._accepted) >= limit:
                return False
            self._accepted.append(now)
            return True


class InFlight:
    """Counts requests being served; ``enter`` returns the count including the caller."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def enter(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def leave(self) -> None:
        with self._lock:
            self._count -= 1


@dataclass(frozen=True)
class FaultPlan:
    hang: bool = False
    rate_limited: bool = False
    error_status: int = 0  # 0 = no error
    truncate: bool = False
    garbage: bool = False
    wrong_type: bool = False
    malformed_json: bool = False


NO_FAULTS = FaultPlan()


class FaultDice:
    """Seeded per host, so a single-threaded test sees the same faults on the same requests every run.
    Every roll draws the same count of numbers, whatever the probabilities, to keep that sequence stable."""

    def __init__(self, seed: int, host: str) -> None:
        self._rng = random.Random(f"{seed}:{host}:faults")
        self._lock = threading.Lock()

    def roll(self, faults: Faults) -> FaultPlan:
        with self._lock:
            draws = [self._rng.random() for _ in range(8)]
        return FaultPlan(
            hang=draws[0] < faults.hang_rate,
            error_status=(500, 502, 503)[int(draws[6] * 3)] if draws[1] < faults.error_rate else 0,
            truncate=draws[2] < faults.truncate_rate,
            garbage=draws[3] < faults.garbage_rate,
            wrong_type=draws[4] < faults.wrong_type_rate,
            malformed_json=draws[5] < faults.malformed_json_rate,
            rate_limited=draws[7] < faults.rate_limit_rate,
        )
