"""The :class:`Store` facade: one object over the state file, assembled from the per-area classes.

Callers hold one ``Store`` and call ``store.movies(...)``, ``store.save_enrichment(...)``; which module holds
the SQL of an area is this package's business. Every area class derives from
:class:`~metarr_pipeline.store.connection.StoreBase`, so they all share its one way to the file.
"""

from __future__ import annotations

from metarr_pipeline.store.artwork import ArtworkStore
from metarr_pipeline.store.blobs import BlobsStore
from metarr_pipeline.store.collections import CollectionsStore
from metarr_pipeline.store.library import LibraryStore
from metarr_pipeline.store.movies import MoviesStore
from metarr_pipeline.store.notifications import NotificationsStore
from metarr_pipeline.store.provider_cache import ProviderCacheStore
from metarr_pipeline.store.ratings import RatingsStore
from metarr_pipeline.store.review import ReviewStore


class Store(MoviesStore, ProviderCacheStore, RatingsStore, ArtworkStore, CollectionsStore, LibraryStore, BlobsStore,
            NotificationsStore, ReviewStore):
    """The DuckDB state file. Cheap to construct; opens nothing until used."""
