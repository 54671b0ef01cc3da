"""Plex: find the library section whose location holds the folder, then refresh that folder only.

Per batch: ``GET /library/sections`` once, then ``GET /library/sections/{id}/refresh?path=<mapped folder>`` for
each distinct folder (a removed movie: its parent folder, which Plex re-reads to notice it is gone). When a
batch holds more than :data:`MAX_PATH_REFRESHES` folders of one section, that section is refreshed once
instead (Plex's own scan skips what did not change). The token travels in the ``X-Plex-Token`` header.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from metarr_pipeline.config import PlayerSettings
from metarr_pipeline.players.client import PlayerCredentials, PlayerHttp
from metarr_pipeline.players.errors import PlayerAuthError, PlayerError, PlayerUnavailable, UnmappedPathError
from metarr_pipeline.players.mapping import PathMapper, contains, parse, separator
from metarr_pipeline.players.types import CheckReport, Notification, Outcome

MAX_PATH_REFRESHES = 20


class PlexPlayer:
    def __init__(self, settings: PlayerSettings, credentials: PlayerCredentials, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.http = PlayerHttp(settings, credentials, transport=transport, headers={
            "X-Plex-Token": credentials.token, "X-Plex-Client-Identifier": "metarr-pipeline",
            "X-Plex-Product": "metarr-pipeline"})
        self.mapper = PathMapper(settings.path_mappings, f"plex '{settings.label}'")
        self._hint = f"check the token in {settings.token_env}"

    @property
    def requests(self) -> int:
        return self.http.requests

    def close(self) -> None:
        self.http.close()

    def sections(self) -> list[dict[str, Any]]:
        """[{id, title, type, locations}] of every library section."""
        data = self.http.json(self.http.request("GET", "/library/sections", auth_hint=self._hint)) or {}
        out = []
        for d in (data.get("MediaContainer") or {}).get("Directory") or []:
            if isinstance(d, dict) and "key" in d:
                out.append({"id": str(d["key"]), "title": str(d.get("title", "")), "type": str(d.get("type", "")),
                            "locations": [str(loc.get("path", "")) for loc in d.get("Location") or []
                                          if isinstance(loc, dict)]})
        return out

    def notify(self, batch: Sequence[Notification]) -> list[Outcome]:
        sections = self.sections()
        outcomes: dict[int, Outcome] = {}
        wanted: dict[str, dict[str, list[int]]] = {}  # section id → path → notification ids
        titles = {s["id"]: s["title"] for s in sections}
        for n in batch:
            try:
                folder = self.mapper(n.folder)
            except UnmappedPathError as exc:
                outcomes[n.id] = Outcome(n.id, "failed", str(exc), retryable=False)
                continue
            path = _parent(folder) if n.event == "deleted" else folder
            section = _section_for(sections, folder)
            if section is None:
                outcomes[n.id] = Outcome(n.id, "failed", f"plex '{self.settings.label}': no library section "
                                         f"contains '{folder}' (check the path mapping)", retryable=False)
                continue
            wanted.setdefault(section, {}).setdefault(path, []).append(n.id)
        for section, paths in wanted.items():
            requests = [(None, [i for ids in paths.values() for i in ids])] if len(paths) > MAX_PATH_REFRESHES \
                else list(paths.items())
            for path, ids in requests:
                try:
                    self.http.request("GET", f"/library/sections/{section}/refresh",
                                      params={"path": path} if path else None, auth_hint=self._hint)
                except (PlayerUnavailable, PlayerAuthError):
                    raise  # the player is gone or refusing us: the whole batch fails and is retried
                except PlayerError as exc:
                    for i in ids:
                        outcomes[i] = Outcome(i, "failed", str(exc))
                    continue
                what = f"refresh section '{titles.get(section, section)}'" + (f" path {path}" if path else "")
                for i in ids:
                    outcomes[i] = Outcome(i, "sent", what)
        return [outcomes[n.id] for n in batch]

    def check(self, roots: Sequence[Path]) -> CheckReport:
        report = CheckReport(self.settings.label, "plex")
        try:
            identity = (self.http.json(self.http.request("GET", "/identity")) or {}).get("MediaContainer") or {}
            report.add(f"connected: Plex Media Server {identity.get('version', '?')} "
                       f"({identity.get('machineIdentifier', '?')})")
            sections = self.sections()
        except PlayerError as exc:
            report.add(str(exc), problem=True)
            return report
        report.add("sections: " + (", ".join(f"{s['title']} (id {s['id']}: {', '.join(s['locations'])})"
                                             for s in sections) or "none"))
        for root in roots:
            try:
                mapped = self.mapper(str(root))
            except UnmappedPathError as exc:
                report.add(str(exc), problem=True)
                continue
            section = _section_for(sections, mapped)
            if section is None:
                report.add(f"library root {root} → {mapped}: not inside any Plex section", problem=True)
            else:
                title = next(s["title"] for s in sections if s["id"] == section)
                report.add(f"library root {root} → {mapped}: in section '{title}' (id {section})")
        return report


def _section_for(sections: list[dict[str, Any]], folder: str) -> str | None:
    """The section with the longest location that contains the folder (movie sections first)."""
    best: tuple[int, int, str] | None = None
    for s in sections:
        for location in s["locations"]:
            if location and contains(location, folder):
                rank = (s["type"] == "movie", len(parse(location).parts), s["id"])
                if best is None or rank[:2] > best[:2]:
                    best = rank
    return best[2] if best else None


def _parent(folder: str) -> str:
    sep = separator(folder)
    trimmed = folder.rstrip("/\\")
    head, _, _ = trimmed.rpartition(sep)
    return head or folder
