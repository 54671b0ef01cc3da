"""A demo state for the review page's tests: the demo library scanned, fetched and enriched against the built-in
simulator, and published except for a few movies, so the library has movies that need review."""

from __future__ import annotations

import shutil
from pathlib import Path

from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.scan.scan import scan_library
from metarr_pipeline.store import Store

UNPUBLISHED = ("the-matrix-1999-tmdb603", "heat-1995-tmdb949", "se7en-1995-tmdb807")


def build_review_state(demo_library: Path, tmp: Path) -> Settings:
    root = tmp / "library"
    shutil.copytree(demo_library, root)
    cfg = tmp / "metarr.toml"
    cfg.write_text(f'[data]\ndir = "{tmp / "state"}"\n[library]\nroots = ["{root}"]\n'
                   '[providers]\nmode = "simulator"\n[artwork.counts]\nposter = 2\nfanart = 2\n', encoding="utf-8")
    settings = load_settings(cfg)
    store = Store(settings.database_path)
    with open_providers(settings) as providers:
        scan_library(settings, store, resolver=providers.tmdb)
        fetch_metadata(settings, store, providers)
        enrich_movies(settings, store, providers)
        keys = [k for k in store.partition_keys() if k not in UNPUBLISHED]
        publish_movies(settings, store, providers, keys)
    return settings
