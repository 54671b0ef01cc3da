"""Which class speaks to which player: config ``type`` → client class, and the factory that opens one.

The registry is the only module that imports every player, and none of them imports it, so adding a
player is one module plus one line here, with no import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx

from metarr_pipeline.config import PlayerSettings
from metarr_pipeline.players.client import PlayerCredentials
from metarr_pipeline.players.jellyfin import JellyfinPlayer
from metarr_pipeline.players.kodi import KodiPlayer
from metarr_pipeline.players.plex import PlexPlayer
from metarr_pipeline.players.types import Player

PLAYER_TYPES: Mapping[str, type[KodiPlayer | JellyfinPlayer | PlexPlayer]] = {
    "kodi": KodiPlayer,
    "jellyfin": JellyfinPlayer,
    "plex": PlexPlayer,
}


def open_player(settings: PlayerSettings, env: Mapping[str, str] | None = None,
                transport: httpx.BaseTransport | None = None, *, sets_folder: Path | None = None) -> Player:
    """The client for one configured player (credentials read from the environment now). ``sets_folder`` is
    metarr's movie-sets folder: Kodi's client reads it when Kodi cannot list its own (see :mod:`.kodi_sets`)."""
    credentials = PlayerCredentials.from_env(settings, env)
    if settings.type == "kodi":
        return KodiPlayer(settings, credentials, transport=transport, sets_folder=sets_folder)
    return PLAYER_TYPES[settings.type](settings, credentials, transport=transport)
