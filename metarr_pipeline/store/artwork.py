"""Artwork state: candidates with their analysis and scores, the user's choices and locks, actors, enrichment.

Tables ``image_analysis``, ``artwork_candidates``, ``artwork_choices``, ``artwork_locks``, ``people``,
``movie_actors`` and ``enrichment``. Enrichment replaces a batch of movies' candidates, actors and state in one
transaction; the user's choices live in their own tables so a re-enrichment never loses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import polars as pl

from metarr_pipeline.store.connection import StoreBase, store_now
from metarr_pipeline.store.frames import drop_frame, json_list, load_frame
from metarr_pipeline.store.rows import ActorRow, EnrichmentRow, PersonRow


class ArtworkStore(StoreBase):
    """Reads and writes of the artwork, actor and enrichment tables."""

    def image_analysis(self, preview_urls: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        """preview URL → (format, width, height, phash, error) for renditions analysed before."""
        if not preview_urls:
            return {}
        with self._connect(write=False) as con:  # keys as one JSON text, not a registered frame: see provider_cache
            rows = con.execute(
                "SELECT a.preview_url, a.format, a.width, a.height, a.phash, a.error FROM image_analysis a"
                " JOIN (SELECT UNNEST(?::JSON::VARCHAR[]) AS preview_url) w ON w.preview_url = a.preview_url",
                [json_list(dict.fromkeys(preview_urls))],
            ).fetchall()
        return {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows}

    def artwork_candidates(self, movie_ids: Sequence[int]) -> pl.DataFrame:
        with self._connect(write=False) as con:
            return con.execute(
                "SELECT * FROM artwork_candidates WHERE movie_id IN (SELECT UNNEST(?::JSON::BIGINT[]))"
                " ORDER BY movie_id, type, rank", [json_list(movie_ids)]
            ).pl()

    def artwork_choices(self, movie_ids: Sequence[int]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(choices (movie, type, candidate, action) in time order, locks (movie, type))."""
        with self._connect(write=False) as con:
            choices = con.execute(
                "SELECT movie_id, type, candidate_id, action FROM artwork_choices"
                " WHERE movie_id"
                " IN (SELECT UNNEST(?::JSON::BIGINT[])) ORDER BY chosen_at, candidate_id", [json_list(movie_ids)]
            ).fetchall()
            locks = con.execute(
                "SELECT movie_id, type FROM artwork_locks WHERE movie_id"
                " IN (SELECT UNNEST(?::JSON::BIGINT[]))", [json_list(movie_ids)]
            ).fetchall()
        return [tuple(c) for c in choices], [tuple(lk) for lk in locks]  # type: ignore[misc]

    def record_choice(self, movie_id: int, kind: str, candidate_id: str | None, action: str) -> None:
        """pick / reject a candidate (a pick also locks its type), or lock / unlock a type."""
        now = store_now()
        with self._connect(write=True) as con:
            if action in ("pick", "reject"):
                con.execute("DELETE FROM artwork_choices WHERE movie_id = ? AND type = ? AND candidate_id = ?",
                            [movie_id, kind, candidate_id])
                con.execute("INSERT INTO artwork_choices VALUES (?, ?, ?, ?, ?)",
                            [movie_id, kind, candidate_id, action, now])
            if action in ("pick", "lock"):
                con.execute("DELETE FROM artwork_locks WHERE movie_id = ? AND type = ?", [movie_id, kind])
                con.execute("INSERT INTO artwork_locks VALUES (?, ?, ?)", [movie_id, kind, now])
            if action == "unlock":
                con.execute("DELETE FROM artwork_locks WHERE movie_id = ? AND type = ?", [movie_id, kind])
                con.execute("DELETE FROM artwork_choices WHERE movie_id = ? AND type = ? AND action = 'pick'",
                            [movie_id, kind])

    def enrichment_rows(self, movie_ids: Sequence[int]) -> dict[int, EnrichmentRow]:
        with self._connect(write=False) as con:
            cur = con.execute("SELECT * FROM enrichment WHERE movie_id"
                              " IN (SELECT UNNEST(?::JSON::BIGINT[]))", [json_list(movie_ids)])
            names = [d[0] for d in cur.description]
            return {r[0]: EnrichmentRow(**dict(zip(names, r, strict=True))) for r in cur.fetchall()}

    def people(self, person_ids: Sequence[int]) -> dict[int, PersonRow]:
        if not person_ids:
            return {}
        with self._connect(write=False) as con:
            cur = con.execute("SELECT * FROM people WHERE person_id"
                              " IN (SELECT UNNEST(?::JSON::BIGINT[]))", [json_list(person_ids)])
            names = [d[0] for d in cur.description]
            return {r[0]: PersonRow(**dict(zip(names, r, strict=True))) for r in cur.fetchall()}

    def movie_actors(self, movie_ids: Sequence[int]) -> dict[int, list[ActorRow]]:
        with self._connect(write=False) as con:
            cur = con.execute(
                "SELECT a.movie_id, a.position, a.person_id, a.name, a.role, p.profile_path, p.thumb_url, p.blob_sha"
                " FROM movie_actors a LEFT JOIN people p USING (person_id)"
                " WHERE a.movie_id"
                " IN (SELECT UNNEST(?::JSON::BIGINT[])) ORDER BY a.movie_id, a.position", [json_list(movie_ids)])
            names = [d[0] for d in cur.description]
            out: dict[int, list[ActorRow]] = {}
            for r in cur.fetchall():
                out.setdefault(r[0], []).append(ActorRow(**dict(zip(names, r, strict=True))))
            return out

    def save_image_analysis(self, analysis: pl.DataFrame) -> None:
        """Analyses made ahead of their enrichment (``artwork.enrich.prefetch``), in one transaction."""
        with self._connect(write=True) as con:
            write_analysis(con, analysis)

    def save_enrichment(
        self,
        *,
        analysis: pl.DataFrame | None,
        candidates: pl.DataFrame | None,
        movie_ids: Sequence[int],
        actors: pl.DataFrame | None,
        people: pl.DataFrame | None,
        blobs: pl.DataFrame | None,
        enrichment: pl.DataFrame | None,
    ) -> None:
        """One transaction per batch: new analyses, and for the movies that changed, delete-then-insert."""
        with self._connect(write=True) as con:
            write_analysis(con, analysis)
            write_new_blobs(con, blobs)
            if people is not None and people.height:
                load_frame(con, "new_people", people)
                con.execute("DELETE FROM people WHERE person_id IN (SELECT person_id FROM new_people)")
                con.execute("INSERT INTO people BY NAME SELECT * FROM new_people")
                drop_frame(con, "new_people")
            if movie_ids:
                ids = [json_list(movie_ids)]
                con.execute("DELETE FROM artwork_candidates WHERE movie_id IN (SELECT UNNEST(?::JSON::BIGINT[]))", ids)
                con.execute("DELETE FROM movie_actors WHERE movie_id IN (SELECT UNNEST(?::JSON::BIGINT[]))", ids)
                con.execute("DELETE FROM enrichment WHERE movie_id IN (SELECT UNNEST(?::JSON::BIGINT[]))", ids)
            if candidates is not None and candidates.height:
                load_frame(con, "new_candidates", candidates)
                con.execute("INSERT INTO artwork_candidates BY NAME SELECT * FROM new_candidates")
                drop_frame(con, "new_candidates")
            if actors is not None and actors.height:
                load_frame(con, "new_actors", actors)
                con.execute("INSERT INTO movie_actors BY NAME SELECT * FROM new_actors")
                drop_frame(con, "new_actors")
            if enrichment is not None and enrichment.height:
                load_frame(con, "new_enrichment", enrichment)
                con.execute("INSERT INTO enrichment BY NAME SELECT * FROM new_enrichment")
                drop_frame(con, "new_enrichment")

    def set_enrichment_summaries(self, summaries: Mapping[int, str]) -> None:
        """Replace the ``summary_json`` of enriched movies, nothing else (a retry mark set or cleared)."""
        if not summaries:
            return
        frame = pl.DataFrame(list(summaries.items()), schema={"movie_id": pl.Int64, "summary_json": pl.String},
                             orient="row")
        with self._connect(write=True) as con:
            load_frame(con, "new_summaries", frame)
            con.execute("UPDATE enrichment SET summary_json = n.summary_json FROM new_summaries n"
                        " WHERE enrichment.movie_id = n.movie_id")
            drop_frame(con, "new_summaries")

    def set_candidate_blobs(self, rows: Sequence[tuple[int, str, str]], blobs: pl.DataFrame | None = None) -> None:
        """Attach cached originals ``(movie_id, candidate_id, sha256)`` to selected candidates, without touching
        the enrichment state: fetching the bytes of an already chosen image changes no choice (originals of
        winners chosen by an offline re-score are fetched later, by the next enrichment or by publish)."""
        if not rows:
            return
        with self._connect(write=True) as con:
            if blobs is not None and blobs.height:
                load_frame(con, "new_blobs", blobs)
                con.execute("INSERT INTO blobs BY NAME SELECT * FROM new_blobs"
                            " WHERE sha256 NOT IN (SELECT sha256 FROM blobs)")
                drop_frame(con, "new_blobs")
            frame = pl.DataFrame(list(rows), schema={"movie_id": pl.Int64, "candidate_id": pl.String,
                                                     "blob_sha": pl.String}, orient="row")
            load_frame(con, "new_blob_refs", frame)
            con.execute("UPDATE artwork_candidates SET blob_sha = n.blob_sha FROM new_blob_refs n"
                        " WHERE artwork_candidates.movie_id = n.movie_id"
                        " AND artwork_candidates.candidate_id = n.candidate_id")
            drop_frame(con, "new_blob_refs")


def write_analysis(con: duckdb.DuckDBPyConnection, analysis: pl.DataFrame | None) -> None:
    """New image analyses replace the old ones of the same rendition (movies' and sets' stages share them)."""
    if analysis is not None and analysis.height:
        load_frame(con, "new_analysis", analysis)
        con.execute("DELETE FROM image_analysis WHERE preview_url IN (SELECT preview_url FROM new_analysis)")
        con.execute("INSERT INTO image_analysis BY NAME SELECT * FROM new_analysis")
        drop_frame(con, "new_analysis")


def write_new_blobs(con: duckdb.DuckDBPyConnection, blobs: pl.DataFrame | None) -> None:
    """Blob rows are content-addressed: a known sha256 is already recorded."""
    if blobs is not None and blobs.height:
        load_frame(con, "new_blobs", blobs)
        con.execute("INSERT INTO blobs BY NAME SELECT * FROM new_blobs WHERE sha256 NOT IN (SELECT sha256 FROM blobs)")
        drop_frame(con, "new_blobs")
