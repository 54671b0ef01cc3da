"""Where a provider's images live, and the names we store them under.

Everything stored (candidate URLs, the analysis cache, people's headshot URLs, the blob index, fanart.tv
answers) names an image by its canonical provider URL: TMDB's public image base ``https://image.tmdb.org/t/p``
followed by ``/{size}{file_path}``, and fanart.tv's assets host. That name is provider-relative: it says which
provider and which path, not where the bytes come from. The session maps it to the configured endpoint
(``providers.tmdb.image_url`` / ``METARR_TMDB_IMAGE_URL``, a caching proxy, the simulator) just before each
request (:meth:`~metarr_pipeline.providers.session.ProviderSession.image_url`), so changing where images come
from never makes the analysis cache, the candidate ids or the blob index stale.

TMDB's ``/configuration`` is not asked: its image base would tie the stored names to whatever CDN address it
answered that week, and one malformed answer would stop every enrichment.
"""

from __future__ import annotations

TMDB_IMAGE_BASE = "https://image.tmdb.org/t/p"
FANART_ASSETS = "https://assets.fanart.tv"


def url_map(tmdb_image_url: str, fanart_assets_url: str = FANART_ASSETS) -> dict[str, str]:
    """Canonical prefix → the configured endpoint, for the prefixes that are not fetched where they say."""
    mapping = {TMDB_IMAGE_BASE: tmdb_image_url.rstrip("/"), FANART_ASSETS: fanart_assets_url.rstrip("/")}
    return {canonical: actual for canonical, actual in mapping.items() if canonical != actual}
