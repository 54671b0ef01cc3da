"""What in the config (and the code) can change a stage's result, as a short hash stored with the result.

A stored result whose fingerprint differs from the current one is stale: the orchestration lists those
movies for a backfill, and Dagster sees the fingerprints as the assets' code versions. Code constants that
change results live here, next to the hash that covers them, so bumping one visibly invalidates results.
Pure functions of the settings: this module imports no stage, so every stage and the orchestration can use it.
"""

from __future__ import annotations

import hashlib
import json

from metarr_pipeline.config import Settings

PUBLISH_FORMAT_VERSION = 2  # bump when the NFO renderer or file naming changes what gets written
DUPLICATE_THRESHOLD = 10  # pHash Hamming distance ≤ this is "the same picture"; chosen by tests/test_imaging.py


def config_fingerprint(settings: Settings) -> str:
    """What in the config can change an enrichment result (for stale detection and backfills)."""
    relevant = {
        "counts": settings.artwork.counts, "weights": settings.scoring.weights,
        "provider_preference": settings.scoring.provider_preference, "language": settings.languages.preferred,
        "actors": settings.actors.max_actors, "duplicate_threshold": DUPLICATE_THRESHOLD,
    }
    return hashlib.sha1(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def publish_fingerprint(settings: Settings) -> str:
    relevant = {"extrafanart": settings.publish.extrafanart, "format": PUBLISH_FORMAT_VERSION,
                "certification_countries": settings.metadata.certification_countries,
                "certification_prefixes": settings.metadata.certification_prefixes,
                "default_rating": settings.ratings.default, "movie_sets_folder": settings.publish.movie_sets_folder}
    return hashlib.sha1(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]
