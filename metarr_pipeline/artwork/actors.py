"""Actors: the top of the cast by billing order, one entry per person.

TMDB lists a person once per role ("Neo", then "Thomas A. Anderson"); Kodi wants one ``<actor>`` per person,
so roles are joined with " / ". Names are kept as the provider gives them (hostile ones included: making a
safe file name is the publish stage's job), minus control characters that XML cannot carry.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Actor:
    person_id: int
    name: str
    role: str
    order: int
    profile_path: str  # "" when TMDB has no headshot


def _clean(text: Any) -> str:
    return _CONTROL.sub("", text).strip() if isinstance(text, str) else ""


def select_actors(cast: Sequence[Mapping[str, Any]], limit: int) -> list[Actor]:
    people: dict[int, dict[str, Any]] = {}
    for entry in sorted((c for c in cast if isinstance(c, Mapping)),
                        key=lambda c: (c.get("order") if isinstance(c.get("order"), int) else 10**6)):
        pid = entry.get("id")
        name = _clean(entry.get("name"))
        if not isinstance(pid, int) or not name:
            continue
        role = _clean(entry.get("character"))
        if pid in people:
            if role and role not in people[pid]["roles"]:
                people[pid]["roles"].append(role)
            continue
        people[pid] = {"name": name, "roles": [role] if role else [],
                       "profile_path": entry.get("profile_path") or ""}
    actors = []
    for order, (pid, p) in enumerate(list(people.items())[: max(0, limit)]):
        actors.append(Actor(pid, p["name"], " / ".join(p["roles"]), order,
                            p["profile_path"] if isinstance(p["profile_path"], str) else ""))
    return actors


def locked_cast(nfo_actors: Sequence[Mapping[str, Any]], provider: Sequence[Actor]) -> list[Actor]:
    """The user's cast from their NFO, when it is locked: names, roles and order as the NFO has them.

    An actor the provider's cast also names (same name, case-insensitively) keeps the provider's person, so
    their headshot is still cached; anyone else gets a stable negative id from the name (no TMDB person, no
    headshot), never a provider person's.
    """
    known = {a.name.casefold(): a for a in provider}
    actors: list[Actor] = []
    seen: set[int] = set()
    for entry in nfo_actors:
        name = _clean(entry.get("name"))
        if not name:
            continue
        match = known.get(name.casefold())
        pid = match.person_id if match else -int(hashlib.sha1(name.encode()).hexdigest()[:12], 16)
        if pid in seen:
            continue
        seen.add(pid)
        actors.append(Actor(pid, name, _clean(entry.get("role")), len(actors), match.profile_path if match else ""))
    return actors
