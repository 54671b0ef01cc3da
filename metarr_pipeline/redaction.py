"""Scrubbing credentials from anything we print: shared by the providers and the players.

Keys travel in query strings (TMDB v3 ``api_key``, fanart.tv ``api_key``, Plex ``X-Plex-Token``) and as known
values (tokens, passwords), so any URL, exception text or log line that might contain one goes through
:func:`redact` before it leaves the package that holds the secret.
"""

from __future__ import annotations

import re

_KEY_PARAM = re.compile(r"((?:api_key|client_key|token|apikey|X-Plex-Token)=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove credentials from text: ``api_key=...`` style parameters and any known secret value."""
    text = _KEY_PARAM.sub(r"\1***", text)
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
