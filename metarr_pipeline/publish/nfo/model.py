"""What an NFO is made of, decided before rendering: the renderer makes no choice of its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from metarr_pipeline.models import StreamDetails, UserState


@dataclass(frozen=True)
class NfoActor:
    """One ``<actor>``; ``thumb`` is the provider's headshot URL so Jellyfin and Plex get one too."""

    name: str
    role: str
    order: int
    thumb: str  # "" when the provider has no headshot


@dataclass(frozen=True)
class NfoInput:
    """Everything one movie's NFO is made of, already decided (merged, probed, carried over)."""

    fields: Mapping[str, Any]  # merged metadata, keys of metadata.fields.FIELDS; missing keys = empty
    streams: StreamDetails | None
    actors: Sequence[NfoActor]
    user_state: UserState  # from the user's existing NFO
    foreign_tags: Sequence[str]  # serialised top-level elements we do not manage, written back verbatim
    lockdata: bool = False
    locked_fields: Sequence[str] = ()  # Jellyfin <lockedfields> names as the user wrote them
    default_rating: str = "themoviedb"  # the <rating> Kodi shows, when the movie has it (config ratings.default)
    trailer: str = ""  # the trailer URL, "" when none or when Kodi has a local trailer file
    mpaa: str | None = None  # the certification as written (see fields.nfo_certification); None: from ``fields``
    dateadded: str = ""  # fallback when the user has none: the movie's first_seen, "YYYY-MM-DD HH:MM:SS"
