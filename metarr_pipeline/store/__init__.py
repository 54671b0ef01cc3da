"""The state store: one DuckDB file, reached only through :class:`Store`. All SQL of metarr-pipeline is here.

**Where it sits.** Every stage reads and writes its state through one ``Store``: the scan writes movies and
streams, fetching the provider cache and merged metadata, enrichment the artwork tables and blob index,
publishing the library file records and publish log, delivery the player notifications. Nothing else opens
the database, so moving the state to a server database later means replacing this package, nothing else.

**Tables by area** (the schema is the numbered ``migrations/NNN_name.sql`` files, recorded in
``schema_migrations``):

- movies and scan: ``movies`` (one row per movie folder, kept with ``gone_at`` when it disappears),
  ``streams``, ``scan_runs``;
- provider cache: ``provider_responses``, ``movie_metadata``;
- ratings: ``imdb_ratings`` and ``dataset_loads`` (the IMDb dataset), ``provider_usage`` (OMDb's daily quota);
- artwork: ``image_analysis``, ``artwork_candidates``, ``artwork_choices``, ``artwork_locks``, ``people``,
  ``movie_actors``, ``enrichment``;
- movie sets: ``collections`` and ``collection_artwork`` (a set's candidates and winners, as a movie's);
- library files and publish log: ``library_files``, ``publish_log``, ``nfo_backups``;
- blobs: ``blobs`` (the index of the content-addressed blob store, reference-counted by the tables above);
- notifications: ``notifications``.

**Concurrency.** DuckDB lets one process at a time open a file read-write, and Dagster runs every run (and under
the multiprocess executor every step) in its own process, so naive use fails with "Could not set lock on
file". The store therefore follows one rule: **connections are short and serialised**. Every read or write

1. takes an exclusive file lock beside the database, so our own processes queue instead of failing,
2. opens DuckDB, retrying with bounded, jittered backoff while something outside that lock (a user's DuckDB
   shell, a crashed process whose lock the OS has not released yet) still holds the file, and
3. closes the connection as soon as its block ends.

Network, image and probe work therefore happens with no connection open; callers hand the store whole batches
(polars frames) that are written in one short transaction, delete-then-insert per movie, so a repeated write is
idempotent. Readers take the same path and simply wait their turn.

**Modules, in reading order.**

- ``rows``: the row types (:class:`MovieRecord`, :class:`ScanWrite`, :class:`ProviderResponse`,
  :class:`MetadataRow`, :class:`ScanRun`, :class:`NotificationRow`, :class:`RemovedMovie`, :class:`EnrichmentRow`,
  :class:`PersonRow`, :class:`ActorRow`, :class:`BlobRow`, :class:`LibraryFileRow`, :class:`PublishState`,
  :class:`NfoBackupRow`, :class:`CollectionRow`, :class:`CollectionArt`,
  :class:`LibrarySet`);
- ``connection``: :class:`~metarr_pipeline.store.connection.StoreBase`, the file lock, the retries and the
  migrations;
- one module per area, each a class over ``StoreBase``: ``movies``, ``provider_cache``, ``artwork``,
  ``collections``, ``ratings``, ``library``, ``blobs``, ``notifications``;
- ``store``: :class:`Store`, the facade composed of the area classes.
"""

from metarr_pipeline.store.rows import (
    ActorRow,
    BlobRow,
    CollectionArt,
    CollectionRow,
    EnrichmentRow,
    LibraryFileRow,
    LibrarySet,
    MetadataRow,
    MovieRecord,
    NfoBackupRow,
    NotificationRow,
    PersonRow,
    ProviderResponse,
    PublishState,
    RemovedMovie,
    ScanRun,
    ScanWrite,
    collection_id_of_key,
)
from metarr_pipeline.store.store import Store

__all__ = [
    "ActorRow",
    "BlobRow",
    "CollectionArt",
    "CollectionRow",
    "EnrichmentRow",
    "LibraryFileRow",
    "LibrarySet",
    "MetadataRow",
    "MovieRecord",
    "NfoBackupRow",
    "NotificationRow",
    "PersonRow",
    "ProviderResponse",
    "PublishState",
    "RemovedMovie",
    "ScanRun",
    "ScanWrite",
    "Store",
    "collection_id_of_key",
]
