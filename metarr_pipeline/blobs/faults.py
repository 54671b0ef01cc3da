"""Which image failures are facts about the image, and which a retry could change.

Only facts are remembered for good (the analysis cache, a person's "no headshot"): a 404 or 410, a decoded
header that is too small or too large, an SVG, bytes of a format we do not read, a body over the size cap.
Everything else is a fault of the transfer, not of the image (5xx, timeouts and cut connections after every
retry, an HTML error page or an empty body under an image type, a truncated or corrupt file): it is
recorded with its reason on this run's result and tried again by the next enrichment.

A refused host (outside the allowlist) is neither: it costs no request and follows the configuration, so it
is decided again on every run and never cached.
"""

from __future__ import annotations

from metarr_pipeline.blobs.verify import ImageError
from metarr_pipeline.errors import DisallowedHostError, MetarrError, ProviderNotFound, ProviderResponseError

# How the transient verdicts read, for rows an earlier version cached (before faults were told apart).
_TRANSIENT_TEXT = ("not an image: empty", "not an image: looks like HTML", "not an image: looks like JSON",
                   "truncated or corrupt", "failed after", "timed out", "connection broke", "connection failed")


def is_fact(exc: MetarrError) -> bool:
    """A verdict a retry cannot change: safe to cache for good."""
    if isinstance(exc, ImageError):
        return not exc.transient
    if isinstance(exc, DisallowedHostError):
        return False
    return isinstance(exc, (ProviderNotFound, ProviderResponseError))


def is_transient(exc: MetarrError) -> bool:
    """A failure the next run should try again (not a fact, not a refused host)."""
    return not is_fact(exc) and not isinstance(exc, DisallowedHostError)


def reads_transient(error: str) -> bool:
    """Whether a stored error text is a transient verdict (rows cached before faults were told apart)."""
    return any(marker in error for marker in _TRANSIENT_TEXT)
