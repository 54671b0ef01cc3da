"""The package's exception tree.

Every error the domain raises on purpose derives from :class:`MetarrError`, so the two boundaries that
turn errors into words for people (the CLI and ``dg.Failure`` in assets) need to catch only one type.
Lower-level errors (OSError, duckdb.Error, av.FFmpegError, lxml errors) are translated once, where they
happen, with ``raise ... from exc`` so the cause stays inspectable.

    MetarrError
    ├── ConfigError        the settings file is wrong (names the key and the file)
    ├── StoreError         the state database could not be opened, migrated or written
    │   └── StoreBusyError another process held the database for longer than we were willing to wait
    ├── ScanError          a library folder could not be scanned (one movie; the scan goes on)
    │   └── ProbeError     a video file could not be probed
    └── DemoError          the demo library could not be generated
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


class DemoError(MetarrError):
    """The demo library could not be generated."""
