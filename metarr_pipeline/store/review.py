"""What the review page lists: every movie with the one state a person acts on, in two queries.

The library page of the review app shows a page of movies (60 of 10,000) with their state, a poster and the
count of movies per state for its filters. Both come from one SQL definition of the state (below), run as one
``GROUP BY`` for the counts and one ``LIMIT/OFFSET`` query for the page, so the page costs the same for 100
movies or 10,000 (no per-movie Python work, no reading of the whole table into Python).

A movie's **state**, first match wins (the words people see are in ``metarr_pipeline.review.states``):

- ``unidentified``: the scan could not name the film (or the folder is invalid);
- ``failed``: its last publish failed, or its provider fetch failed before it was ever enriched;
- ``stale``: enriched or published under another config than the current one (fingerprints differ);
- ``new``: identified, never enriched yet;
- ``needs_review``: enriched and never published, or its artwork selection changed since the last publish;
- ``outdated``: published, then its metadata or enrichment changed (the selection did not);
- ``published``: published and up to date.

``manual`` (auto-publish never touches the movie) is a flag beside the state, with its own filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from metarr_pipeline.store.connection import StoreBase
from metarr_pipeline.store.frames import json_list
from metarr_pipeline.store.movies import _MOVIE_COLUMNS, _movie
from metarr_pipeline.store.rows import MovieRecord

STATES = ("unidentified", "failed", "stale", "new", "needs_review", "outdated", "published")

_STATE_SQL = """
WITH pub AS (
    SELECT movie_id,
           max(published_at) FILTER (WHERE status = 'published') AS published_at,
           arg_max(status, published_at) AS last_status,
           arg_max(error, published_at) AS last_error,
           arg_max(config_fingerprint, published_at) FILTER (WHERE status = 'published') AS publish_fp
    FROM publish_log GROUP BY movie_id
), poster AS (
    SELECT movie_id, candidate_id FROM artwork_candidates WHERE type = 'poster' AND selected_rank = 1
), listed AS (
    SELECT m.id, m.partition_key, m.title, m.year, m.folder, m.status, m.reason, m.manual, m.tmdb_id,
           p.published_at, p.last_error, e.enriched_at, ps.candidate_id AS poster_candidate,
           CASE
               WHEN m.status <> 'identified' OR m.partition_key IS NULL THEN 'unidentified'
               WHEN p.last_status = 'failed' THEN 'failed'
               WHEN e.movie_id IS NULL AND coalesce(md.fetch_error, '') <> '' THEN 'failed'
               WHEN e.movie_id IS NOT NULL AND e.config_fingerprint <> $enrich_fp THEN 'stale'
               WHEN p.published_at IS NOT NULL AND coalesce(p.publish_fp, '') <> $publish_fp THEN 'stale'
               WHEN e.movie_id IS NULL THEN 'new'
               WHEN p.published_at IS NULL OR e.selection_changed_at > p.published_at THEN 'needs_review'
               WHEN greatest(e.enriched_at, coalesce(md.merged_at, e.enriched_at)) > p.published_at THEN 'outdated'
               ELSE 'published'
           END AS state,
           CASE
               WHEN m.status <> 'identified' THEN m.reason
               WHEN p.last_status = 'failed' THEN p.last_error
               WHEN e.movie_id IS NULL THEN coalesce(md.fetch_error, '')
               ELSE ''
           END AS state_reason
    FROM movies m
    LEFT JOIN enrichment e ON e.movie_id = m.id
    LEFT JOIN movie_metadata md ON md.movie_id = m.id
    LEFT JOIN pub p ON p.movie_id = m.id
    LEFT JOIN poster ps ON ps.movie_id = m.id
    WHERE m.gone_at IS NULL
)
"""

_FILTER = """
WHERE ($state = 'all' OR ($state = 'manual' AND manual) OR state = $state)
  AND ($search = '' OR title ILIKE $pattern ESCAPE '\\' OR partition_key ILIKE $pattern ESCAPE '\\'
       OR folder ILIKE $pattern ESCAPE '\\')
"""


@dataclass(frozen=True)
class ReviewRow:
    """One movie as the library page shows it."""

    id: int
    partition_key: str | None
    title: str
    year: int | None
    folder: str
    state: str
    reason: str
    manual: bool
    tmdb_id: int | None
    poster_candidate: str | None
    published_at: datetime | None
    enriched_at: datetime | None


class ReviewStore(StoreBase):
    """The review page's listing: counts per state and one page of movies."""

    def review_page(self, *, enrich_fp: str, publish_fp: str, state: str = "all", search: str = "",
                    offset: int = 0, limit: int = 60) -> tuple[dict[str, int], int, list[ReviewRow]]:
        """(movies per state plus ``all`` and ``manual``, how many match the filter, the page of them).

        ``state`` is one of :data:`STATES`, ``manual`` or ``all``; ``search`` matches title, key or folder.
        The page is ordered by title, then year, then folder, so paging is stable.
        """
        if state not in (*STATES, "all", "manual"):
            raise ValueError(f"unknown review state '{state}' (known: all, manual, {', '.join(STATES)})")
        params: dict[str, Any] = {"enrich_fp": enrich_fp, "publish_fp": publish_fp}
        filters = params | {"state": state, "search": search.strip(),
                            "pattern": "%" + _escape_like(search.strip()) + "%"}
        with self._connect(write=False) as con:
            counted = con.execute(
                _STATE_SQL + "SELECT state, count(*), count(*) FILTER (WHERE manual),"
                " (SELECT count(*) FROM listed " + _FILTER + ") FROM listed GROUP BY ALL",
                filters).fetchall()
            rows = con.execute(
                _STATE_SQL + "SELECT id, partition_key, coalesce(title, ''), year, folder, state, state_reason,"
                " manual, tmdb_id, poster_candidate, published_at, enriched_at FROM listed " + _FILTER
                + " ORDER BY lower(coalesce(title, folder)), year, folder LIMIT $limit OFFSET $offset",
                filters | {"limit": int(limit), "offset": max(0, int(offset))}).fetchall()
        counts = dict.fromkeys((*STATES, "all", "manual"), 0)
        matching = 0
        for st, n, manual, matched in counted:
            counts[st] = n
            counts["all"] += n
            counts["manual"] += manual
            matching = matched
        return counts, matching, [ReviewRow(*r[:6], r[6] or "", bool(r[7]), *r[8:]) for r in rows]

    def review_keys(self, *, enrich_fp: str, publish_fp: str, state: str) -> list[str]:
        """Partition keys of every movie in ``state`` (the "publish all that need review" button)."""
        with self._connect(write=False) as con:
            rows = con.execute(_STATE_SQL + "SELECT partition_key FROM listed WHERE state = $state"
                               " AND partition_key IS NOT NULL ORDER BY partition_key",
                               {"enrich_fp": enrich_fp, "publish_fp": publish_fp, "state": state}).fetchall()
        return [r[0] for r in rows]

    def movie_by_id(self, movie_id: int) -> MovieRecord | None:
        with self._connect(write=False) as con:
            row = con.execute(f"SELECT {', '.join(_MOVIE_COLUMNS)} FROM movies WHERE id = ?", [movie_id]).fetchone()
        return _movie(row) if row else None

    def candidate_image(self, movie_id: int, kind: str, candidate_id: str) -> tuple[str, str | None, str] | None:
        """(preview URL, cached original's sha, its ext) of one candidate, or None when there is no such one."""
        with self._connect(write=False) as con:
            row = con.execute(
                "SELECT c.preview_url, c.blob_sha, coalesce(b.ext, 'jpg') FROM artwork_candidates c"
                " LEFT JOIN blobs b ON b.sha256 = c.blob_sha"
                " WHERE c.movie_id = ? AND c.type = ? AND c.candidate_id = ?", [movie_id, kind, candidate_id]
            ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def person_image(self, person_id: int) -> tuple[str, str | None, str] | None:
        """(headshot URL, cached blob's sha, its ext) of one person, or None."""
        with self._connect(write=False) as con:
            row = con.execute(
                "SELECT p.thumb_url, p.blob_sha, coalesce(b.ext, 'jpg') FROM people p"
                " LEFT JOIN blobs b ON b.sha256 = p.blob_sha WHERE p.person_id = ?", [person_id]).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def blob_exts(self, shas: list[str]) -> dict[str, str]:
        if not shas:
            return {}
        with self._connect(write=False) as con:
            rows = con.execute("SELECT sha256, ext FROM blobs WHERE sha256"
                               " IN (SELECT UNNEST(?::JSON::VARCHAR[]))", [json_list(shas)]).fetchall()
        return {r[0]: r[1] for r in rows}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
