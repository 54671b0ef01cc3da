"""The row types the store reads and writes, kept apart from the SQL so callers can import them cheaply.

Each is a frozen dataclass: a row read from the state file is a value, never a live handle on it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from metarr_pipeline.models import StreamDetails


@dataclass(frozen=True)
class MovieRecord:
    """One row of ``movies``: a movie folder and everything the scan knows about it."""

    id: int | None
    library_root: str
    folder: str
    kind: str
    video_file: str | None
    basename: str | None
    video_size: int | None
    video_mtime_ns: int | None
    status: str
    reason: str
    warnings: tuple[str, ...]
    tmdb_id: int | None
    imdb_id: str | None
    id_source: str
    title: str
    year: int | None
    partition_key: str | None
    nfo_file: str
    nfo_json: str
    lockdata: bool
    locked_fields: tuple[str, ...]
    probe_key: str
    probe_error: str
    manual: bool
    first_seen: datetime
    last_seen: datetime
    changed_at: datetime
    gone_at: datetime | None

    @property
    def is_partition(self) -> bool:
        """Movies that get a Dagster partition: identified and still on disk."""
        return self.status == "identified" and self.gone_at is None and bool(self.partition_key)

    @property
    def video_path(self) -> Path | None:
        return Path(self.folder) / self.video_file if self.video_file else None

    def nfo(self) -> dict[str, Any]:
        return json.loads(self.nfo_json or "{}")


@dataclass(frozen=True)
class ScanWrite:
    """Everything one scan changes, written in a single transaction.

    ``movies`` holds only rows that are new or changed (``id`` None for new ones); ``streams`` replaces
    the stored streams of the movies (by folder) it names; ``seen_ids`` get ``last_seen``; ``gone_ids``
    are marked gone, never deleted.
    """

    movies: Sequence[MovieRecord] = ()
    streams: dict[str, StreamDetails] = field(default_factory=dict)
    seen_ids: Sequence[int] = ()
    gone_ids: Sequence[int] = ()
    seen_at: datetime | None = None
    started_at: datetime | None = None
    roots: Sequence[str] = ()
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderResponse:
    """One cached answer of a provider (``provider_responses``): the raw body as received, 404s included."""

    provider: str
    item_key: str
    fetched_at: datetime
    status: int
    body: str | None


@dataclass(frozen=True)
class MetadataRow:
    """A movie's merged metadata (``movie_metadata``): the fields, why each has its value, the last fetch."""

    movie_id: int
    fields_json: str = "{}"
    decisions_json: str = "{}"
    tmdb_id: int | None = None
    fetched_at: datetime | None = None
    merged_at: datetime | None = None
    fetch_error: str = ""
    failed_at: datetime | None = None

    def fields(self) -> dict[str, Any]:
        return json.loads(self.fields_json or "{}")


@dataclass(frozen=True)
class ScanRun:
    """One finished scan (``scan_runs``): when, over which library roots, and its summary counts."""

    started_at: datetime
    finished_at: datetime
    roots: tuple[str, ...]
    summary: dict[str, Any]


@dataclass(frozen=True)
class NotificationRow:
    """One row of ``notifications``, with its movie's partition key ('' when the movie has none)."""

    id: int
    player: str
    movie_id: int
    partition_key: str
    event: str  # created | modified | deleted
    folder: str  # the movie folder as metarr sees it
    video_file: str  # relative to folder
    status: str  # pending | sent | deferred | failed
    attempts: int
    detail: str
    queued_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True)
class RemovedMovie:
    """A published movie gone from disk that ``player`` still has to be told about."""

    player: str
    movie_id: int
    folder: str
    video_file: str
    gone_at: datetime


@dataclass(frozen=True, slots=True)
class EnrichmentRow:
    """One row of ``enrichment``: a movie's last enrichment result, compared by hash so unchanged runs write nothing."""

    movie_id: int
    state_hash: str
    selection_hash: str
    enriched_at: datetime
    selection_changed_at: datetime
    config_fingerprint: str
    summary_json: str


@dataclass(frozen=True, slots=True)
class PersonRow:
    """One row of ``people``: an actor and their cached headshot (``blob_sha``) or why there is none."""

    person_id: int
    name: str
    profile_path: str
    thumb_url: str
    blob_sha: str | None
    error: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ActorRow:
    """One actor of a movie (``movie_actors``) with their person's headshot fields (None when no ``people`` row)."""

    movie_id: int
    position: int
    person_id: int
    name: str
    role: str
    profile_path: str | None
    thumb_url: str | None
    blob_sha: str | None


@dataclass(frozen=True, slots=True)
class BlobRow:
    """One row of ``blobs``: a content-addressed file of the blob store and where it came from."""

    sha256: str
    ext: str
    bytes: int
    width: int | None
    height: int | None
    format: str
    source_url: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LibraryFileRow:
    """One row of ``library_files``: a file publishing wrote (or is about to write) into a movie folder."""

    movie_id: int
    path: str  # relative to the movie folder
    role: str  # nfo | art | actor | extrafanart
    sha256: str
    bytes: int
    mtime_ns: int | None  # None while the write is pending
    written_at: datetime


@dataclass(frozen=True, slots=True)
class PublishState:
    """A movie's publish state, derived from ``publish_log``, ``enrichment`` and ``movie_metadata``."""

    published_at: datetime | None  # last successful publish
    changed_at: datetime | None  # last enrichment or metadata change
    state: str  # unpublished | outdated | published
    enriched: bool
    last_error: str


@dataclass(frozen=True, slots=True)
class NfoBackupRow:
    """A user's NFO that publishing backed up (``nfo_backups`` with its blob's ``ext`` and ``bytes``)."""

    path: str
    sha256: str
    saved_at: datetime
    ext: str
    bytes: int | None


@dataclass(frozen=True, slots=True)
class CollectionRow:
    """One row of ``collections``: a movie set's last artwork result, compared by hash so unchanged runs write
    nothing."""

    collection_id: int
    title: str
    overview: str
    state_hash: str
    enriched_at: datetime
    summary_json: str


@dataclass(frozen=True, slots=True)
class CollectionArt:
    """A set's selected image of one type (``collection_artwork`` with its blob's ``ext``, '' when uncached)."""

    collection_id: int
    type: str
    candidate_id: str
    provider: str
    url: str
    language: str
    width: int | None
    height: int | None
    score: float | None
    blob_sha: str | None
    ext: str


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class LibrarySet:
    """A movie set (TMDB collection) at least one present, identified movie of the library belongs to."""

    collection_id: int
    title: str
    overview: str
    movies: int

    @property
    def partition_key(self) -> str:
        """A readable, stable key (``the-matrix-collection-tmdbcol2344``): the id is what counts (see
        :func:`collection_id_of_key`), the title only reads well in the UI's partition picker."""
        folded = unicodedata.normalize("NFKD", self.title).encode("ascii", "ignore").decode().lower()
        slug = _NOT_SLUG.sub("-", folded).strip("-")[:60].strip("-")
        return f"{slug}-tmdbcol{self.collection_id}" if slug else f"tmdbcol{self.collection_id}"


def collection_id_of_key(key: str) -> int | None:
    """The TMDB collection id a set's partition key ends with (``...-tmdbcol2344`` or ``2344``), else None."""
    tail = key.rpartition("tmdbcol")[2] if "tmdbcol" in key else key
    return int(tail) if tail.isdigit() else None
