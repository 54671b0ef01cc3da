"""Errors of player notification, under the package root :class:`~metarr_pipeline.errors.MetarrError`.

    MetarrError
    └── PlayerError              one player could not be told (recorded on the notification, never fatal)
        ├── PlayerAuthError      401/403, or a credential variable that is not set: check the token / password
        ├── PlayerUnavailable    offline, refused, timed out, or a 5xx: the player is asleep or busy
        ├── PlayerResponseError  it answered, but not with something we understand (or a JSON-RPC error)
        └── UnmappedPathError    a library path no path mapping covers (one movie; not retried)

``retryable`` says whether trying again later can help without a configuration change. Messages never
contain credentials: they are built from URLs without secrets and pass through ``redact``.
"""

from __future__ import annotations

from metarr_pipeline.errors import MetarrError


class PlayerError(MetarrError):
    """A player could not be told about a publish."""

    retryable = True


class PlayerAuthError(PlayerError):
    """The player refused our credentials (or they are missing from the environment)."""


class PlayerUnavailable(PlayerError):
    """The player did not answer in time, refused the connection, or failed with a 5xx."""


class PlayerResponseError(PlayerError):
    """The player answered with something unexpected."""


class UnmappedPathError(PlayerError):
    """No path mapping of this player covers a library path: fix the config, then notify again."""

    retryable = False
