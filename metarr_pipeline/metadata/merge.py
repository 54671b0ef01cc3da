"""Merging provider metadata into what we already have: "fill gaps, don't erase" (DOMAIN §3).

For every field, in this order:
1. locked (NFO ``<lockdata>``, a Jellyfin ``<lockedfields>`` entry, or a user lock) → untouched;
2. the provider has nothing → keep what we have (a provider hiccup never erases data);
3. we have nothing → take the provider's value;
4. both differ → take the provider's value (it is the newer truth);
and the decision is recorded per field, so the review screen can say why a value is what it is.

Ratings merge per source, so an IMDb rating from the user's NFO survives a TMDB refresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from metarr_pipeline.metadata.fields import FIELDS, empty, sort_title

# Jellyfin <lockedfields> names (lower-cased) → our fields.
JELLYFIN_LOCKS: dict[str, tuple[str, ...]] = {
    "name": ("title",),
    "originaltitle": ("originaltitle",),
    "sortname": ("sorttitle",),
    "overview": ("plot", "outline"),
    "tagline": ("tagline",),
    "genres": ("genres",),
    "studios": ("studios",),
    "officialrating": ("mpaa",),
    "productionlocations": ("countries",),
    "tags": ("tags",),
    "communityrating": ("ratings",),
    "criticrating": ("ratings",),
    "runtime": ("runtime",),
    "premieredate": ("premiered", "year"),
    "productionyear": ("year",),
    "cast": ("directors", "writers", "actors"),
    "actors": ("actors",),  # not a Jellyfin name, but what people write by hand
}
ALL_FIELDS = frozenset(FIELDS) | {"actors"}


def locked_fields(
    lockdata: bool, jellyfin_locked: Iterable[str] = (), user_locked: Iterable[str] = ()
) -> frozenset[str]:
    if lockdata:
        return ALL_FIELDS
    out: set[str] = set()
    for name in jellyfin_locked:
        out.update(JELLYFIN_LOCKS.get(name.lower(), ()))
    out.update(f for f in user_locked if f in ALL_FIELDS)
    return frozenset(out)


@dataclass(frozen=True)
class MergeResult:
    fields: dict[str, Any]
    decisions: dict[str, str]  # field → locked | set | kept | updated | unchanged | empty

    @property
    def changed(self) -> list[str]:
        return sorted(f for f, d in self.decisions.items() if d in ("set", "updated"))


def merge(old: Mapping[str, Any], new: Mapping[str, Any], locked: Iterable[str] = ()) -> MergeResult:
    locks = set(locked)
    merged: dict[str, Any] = {}
    decisions: dict[str, str] = {}
    for name, blank in FIELDS.items():
        have = old.get(name, blank)
        got = new.get(name, blank)
        if name == "sorttitle" and "sorttitle" not in locks and "title" in locks and not empty(old.get("title")):
            got = sort_title(old["title"])  # the user's locked title drives the automatic sort title
        if name == "ratings" and not empty(got) and not empty(have) and name not in locks:
            combined = {**have, **got}
            merged[name] = combined
            decisions[name] = "unchanged" if combined == have else "updated"
            continue
        if name in locks:
            merged[name], decisions[name] = have, "locked"
        elif empty(got):
            merged[name], decisions[name] = have, ("kept" if not empty(have) else "empty")
        elif empty(have):
            merged[name], decisions[name] = got, "set"
        elif got != have:
            merged[name], decisions[name] = got, "updated"
        else:
            merged[name], decisions[name] = have, "unchanged"
    return MergeResult(merged, decisions)
