"""The package's exception tree.

Every error the domain raises on purpose derives from :class:`MetarrError`, so the two boundaries that
turn errors into words for people (the CLI and ``dg.Failure`` in assets) need to catch only one type.
Lower-level errors (OSError, duckdb.Error, av.FFmpegError, lxml errors) are translated once, where they
happen, with ``raise ... from exc`` so the cause stays inspectable.

    MetarrError
    ├── ConfigError        the settings file is wrong (names the key and the file)
    │   └── InvalidSetting a settings type refused one of its values (metarr_pipeline.config.rules)
    ├── StoreError         the state database could not be opened, migrated or written
    │   └── StoreBusyError another process held the database for longer than we were willing to wait
    ├── ScanError          a library folder could not be scanned (one movie; the scan goes on)
    │   └── ProbeError     a video file could not be probed
    ├── ProviderError      a provider request failed (one movie; the batch goes on)
    │   ├── ProviderAuthError      401/403: the key is wrong; stops the whole run
    │   ├── ProviderNotFound       404: the provider has no such item (or it was removed)
    │   ├── ProviderUnavailable    5xx, 429, timeouts or connection errors after every retry
    │   ├── ProviderResponseError  malformed JSON, wrong content type, body over the size cap
    │   └── DisallowedHostError    a URL outside the image host allowlist
    ├── PlayerError        a media player could not be told (metarr_pipeline.players.errors: auth,
    │                      unavailable, response, unmapped path); recorded and retried, never fatal
    └── DemoError          the demo library could not be generated

Messages never contain API keys or tokens: provider errors are built from redacted URLs.
"""

from __future__ import annotations


class MetarrError(Exception):
    """Root of every error metarr-pipeline raises deliberately."""


class ConfigError(MetarrError):
    """The configuration is invalid; the message names the file and the key."""


class StoreError(MetarrError):
    """The state store could not do what was asked."""


class StoreBusyError(StoreError):
    """The state store stayed locked by another process past the retry budget."""


class ScanError(MetarrError):
    """One movie folder could not be scanned; recorded on the movie, never fatal for the library."""


class ProbeError(ScanError):
    """A video file could not be opened or understood by FFmpeg."""


class ProviderError(MetarrError):
    """A provider request failed; recorded on the movie, the others go on."""


class ProviderAuthError(ProviderError):
    """The provider rejected our credentials: every further request would fail too."""


class ProviderNotFound(ProviderError):
    """The provider has no such item (404)."""


class ProviderUnavailable(ProviderError):
    """The provider kept failing (5xx, 429, timeouts, connection errors) through every retry."""


class ProviderResponseError(ProviderError):
    """The provider answered, but not with something usable."""


class DisallowedHostError(ProviderError):
    """A download URL points at a host outside the configured allowlist."""


class DemoError(MetarrError):
    """The demo library could not be generated."""
