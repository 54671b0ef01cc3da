"""What every player module shares: the notification it is handed, the outcome it returns, its check report.

This module imports no player, so every player (and the :mod:`.registry` that lists them) can import it.

A player is told about a **batch** of notifications at once (:meth:`Player.notify`) and answers one
:class:`Outcome` per notification: ``sent`` (with what it was told), ``deferred`` (busy playing) or
``failed`` (with the reason, and whether retrying later can help). Per-movie problems (an unmapped path)
fail that movie only; a player-wide problem (offline, 401) is raised and fails the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from metarr_pipeline.config import PlayerSettings

EVENTS = ("created", "modified", "deleted")


@dataclass(frozen=True)
class Notification:
    id: int
    player: str
    movie_id: int
    partition_key: str
    event: str  # created | modified | deleted
    folder: str  # the movie folder as metarr sees it
    video_file: str = ""  # relative to folder
    status: str = "pending"
    attempts: int = 0


@dataclass(frozen=True)
class Outcome:
    id: int
    status: str  # sent | deferred | failed
    detail: str  # what the player was told, or why not
    retryable: bool = True


@dataclass
class CheckReport:
    """``metarr players test``: can we reach the player, are we let in, do the library roots map into it."""

    player: str
    type: str
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def add(self, line: str, *, problem: bool = False) -> None:
        self.lines.append(("PROBLEM: " if problem else "") + line)
        if problem:
            self.ok = False


class Player(Protocol):
    settings: PlayerSettings

    @property
    def requests(self) -> int: ...

    def notify(self, batch: Sequence[Notification]) -> list[Outcome]: ...

    def check(self, roots: Sequence[Path]) -> CheckReport: ...

    def close(self) -> None: ...
