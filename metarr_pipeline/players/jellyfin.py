"""Jellyfin: ``POST /Library/Media/Updated`` with every changed folder of the batch in one request.

Each movie becomes ``{"Path": <mapped folder>, "UpdateType": "Created" | "Modified" | "Deleted"}``; Jellyfin
then refreshes those folders itself (a new NFO and artwork are re-read). The API key travels in the
``Authorization: MediaBrowser Token="..."`` header, never in the URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx

from metarr_pipeline.config import PlayerSettings
from metarr_pipeline.players.client import USER_AGENT, PlayerCredentials, PlayerHttp
from metarr_pipeline.players.errors import PlayerError, UnmappedPathError
from metarr_pipeline.players.mapping import PathMapper, contains
from metarr_pipeline.players.types import CheckReport, Notification, Outcome

UPDATE_TYPES = {"created": "Created", "modified": "Modified", "deleted": "Deleted"}


class JellyfinPlayer:
    def __init__(self, settings: PlayerSettings, credentials: PlayerCredentials, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        version = USER_AGENT.split("/")[-1]
        header = (f'MediaBrowser Client="metarr-pipeline", Device="metarr-pipeline", DeviceId="metarr-pipeline", '
                  f'Version="{version}", Token="{credentials.token}"')
        self.http = PlayerHttp(settings, credentials, headers={"Authorization": header}, transport=transport)
        self.mapper = PathMapper(settings.path_mappings, f"jellyfin '{settings.label}'")

    @property
    def requests(self) -> int:
        return self.http.requests

    def close(self) -> None:
        self.http.close()

    def notify(self, batch: Sequence[Notification]) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        updates: list[dict[str, str]] = []
        told: dict[int, str] = {}
        for n in batch:
            try:
                path = self.mapper(n.folder)
            except UnmappedPathError as exc:
                outcomes[n.id] = Outcome(n.id, "failed", str(exc), retryable=False)
                continue
            update = {"Path": path, "UpdateType": UPDATE_TYPES[n.event]}
            if update not in updates:
                updates.append(update)
            told[n.id] = f"Media/Updated {update['UpdateType']} {path}"
        if updates:
            self.http.request("POST", "/Library/Media/Updated", json={"Updates": updates},
                              auth_hint=f"check the API key in {self.settings.token_env}")
        for n in batch:
            outcomes.setdefault(n.id, Outcome(n.id, "sent", told.get(n.id, "")))
        return [outcomes[n.id] for n in batch]

    def check(self, roots: Sequence[Path]) -> CheckReport:
        report = CheckReport(self.settings.label, "jellyfin")
        hint = f"check the API key in {self.settings.token_env}"
        try:
            info = self.http.json(self.http.request("GET", "/System/Info", auth_hint=hint)) or {}
            report.add(f"connected: {info.get('ServerName', '?')} (Jellyfin {info.get('Version', '?')})")
            folders = self.http.json(self.http.request("GET", "/Library/VirtualFolders", auth_hint=hint)) or []
        except PlayerError as exc:
            report.add(str(exc), problem=True)
            return report
        libraries = [(str(f.get("Name", "")), str(loc)) for f in folders if isinstance(f, dict)
                     for loc in f.get("Locations") or []]
        report.add("libraries: " + (", ".join(f"{name} ({loc})" for name, loc in libraries) or "none"))
        for root in roots:
            try:
                mapped = self.mapper(str(root))
            except UnmappedPathError as exc:
                report.add(str(exc), problem=True)
                continue
            hit = next(((name, loc) for name, loc in libraries if contains(loc, mapped)), None)
            if hit is None:
                report.add(f"library root {root} → {mapped}: not inside any Jellyfin library folder", problem=True)
            else:
                report.add(f"library root {root} → {mapped}: in library '{hit[0]}' ({hit[1]})")
        return report
