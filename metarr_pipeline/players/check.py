"""``metarr players test``: for each player, can we reach it, are we let in, and where do the library roots land."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import httpx

from metarr_pipeline.config import Settings
from metarr_pipeline.errors import ConfigError
from metarr_pipeline.players.errors import PlayerError
from metarr_pipeline.players.registry import open_player
from metarr_pipeline.players.types import CheckReport


def check_players(settings: Settings, names: Sequence[str] = (), *, env: Mapping[str, str] | None = None,
                  transport: httpx.BaseTransport | None = None) -> list[CheckReport]:
    """Check the named players (default: every enabled one) against the configured library roots."""
    known = {p.label: p for p in settings.players}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"{settings.config_path}: no player named '{unknown[0]}' "
                          f"(configured: {', '.join(known) or 'none'})")
    chosen = [known[n] for n in names] if names else list(settings.enabled_players)
    reports = []
    for player in chosen:
        try:
            client = open_player(player, env, transport)
        except PlayerError as exc:
            report = CheckReport(player.label, player.type)
            report.add(str(exc), problem=True)
            reports.append(report)
            continue
        try:
            report = client.check(settings.library.roots)
        finally:
            client.close()
        if not player.enabled:
            report.lines.insert(0, "disabled in the config (tested because it was named)")
        reports.append(report)
    return reports
