"""Provider credentials: read from the environment only, and scrubbed from anything we print.

Keys travel in query strings (TMDB v3 ``api_key``, fanart.tv ``api_key``), so any URL, exception text or
log line that might contain one goes through :func:`~metarr_pipeline.redaction.redact` before it leaves this package.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from metarr_pipeline.redaction import redact

__all__ = ["ProviderKeys", "redact"]  # redact lives in metarr_pipeline.redaction; re-exported for callers here



@dataclass(frozen=True)
class ProviderKeys:
    tmdb_read_token: str = ""  # v4 read access token, sent as a Bearer header (preferred: keeps URLs clean)
    tmdb_api_key: str = ""  # v3 key, sent as ?api_key=
    fanart_api_key: str = ""
    fanart_client_key: str = ""  # optional personal key (faster fanart.tv updates)
    omdb_api_key: str = ""  # OMDb (IMDb, Rotten Tomatoes, Metacritic ratings), sent as ?apikey=

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProviderKeys:
        env = os.environ if env is None else env
        return cls(
            tmdb_read_token=env.get("TMDB_READ_ACCESS_TOKEN", "").strip(),
            tmdb_api_key=env.get("TMDB_API_KEY", "").strip(),
            fanart_api_key=env.get("FANART_API_KEY", "").strip(),
            fanart_client_key=env.get("FANART_CLIENT_KEY", "").strip(),
            omdb_api_key=env.get("OMDB_API_KEY", "").strip(),
        )

    @property
    def has_tmdb(self) -> bool:
        return bool(self.tmdb_read_token or self.tmdb_api_key)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.tmdb_read_token, self.tmdb_api_key, self.fanart_api_key,
                                 self.fanart_client_key, self.omdb_api_key) if s)

    def __repr__(self) -> str:  # never show the values, even in a debugger or a traceback
        return (f"ProviderKeys(tmdb={'set' if self.has_tmdb else 'unset'}, "
                f"fanart={'set' if self.fanart_api_key else 'unset'}, "
                f"omdb={'set' if self.omdb_api_key else 'unset'})")

