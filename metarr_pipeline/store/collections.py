"""Movie sets: ``collections`` (each set's state) and ``collection_artwork`` (its candidates and the winners).

The sets' artwork stage replaces a batch of sets' rows in one transaction, with the image analyses and blobs it
added; publishing reads the winners with their blobs' extensions. A winner's ``blob_sha`` keeps its blob from
being reclaimed (``blobs``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import polars as pl

from metarr_pipeline.store.artwork import write_analysis, write_new_blobs
from metarr_pipeline.store.connection import StoreBase
from metarr_pipeline.store.frames import drop_frame, json_list, load_frame
from metarr_pipeline.store.rows import CollectionArt, CollectionRow, LibrarySet


class CollectionsStore(StoreBase):
    """Reads and writes of the movie sets' tables."""

    def library_sets(self) -> dict[int, LibrarySet]:
        """The sets the library's present, identified movies belong to, from their merged metadata (the set's
        name and overview as the fetch merged them from the cached ``/collection`` answer)."""
        with self._connect(write=False) as con:
            rows = con.execute(
                "SELECT mm.fields_json FROM movie_metadata mm JOIN movies m ON m.id = mm.movie_id"
                " WHERE m.status = 'identified' AND m.gone_at IS NULL ORDER BY m.id").fetchall()
        found: dict[int, LibrarySet] = {}
        for (fields_json,) in rows:
            fields = json.loads(fields_json or "{}")
            cid, title = fields.get("collection_id"), str(fields.get("set_name") or "").strip()
            if not isinstance(cid, int) or isinstance(cid, bool) or not title:
                continue
            known = found.get(cid)
            found[cid] = LibrarySet(cid, known.title if known else title,
                                    known.overview if known else str(fields.get("set_overview") or ""),
                                    (known.movies if known else 0) + 1)
        return dict(sorted(found.items()))

    def collection_rows(self, collection_ids: Sequence[int] | None = None) -> dict[int, CollectionRow]:
        """The sets' stored results (every set when ``collection_ids`` is None)."""
        with self._connect(write=False) as con:
            if collection_ids is None:
                cur = con.execute("SELECT * FROM collections ORDER BY collection_id")
            else:
                cur = con.execute("SELECT * FROM collections WHERE collection_id IN (SELECT UNNEST(?::JSON::BIGINT[]))"
                                  " ORDER BY collection_id", [json_list(collection_ids)])
            names = [d[0] for d in cur.description]
            return {r[0]: CollectionRow(**dict(zip(names, r, strict=True))) for r in cur.fetchall()}

    def collection_candidates(self, collection_ids: Sequence[int]) -> pl.DataFrame:
        """The sets' candidate rows as the artwork machinery's frame (``collection_id`` named ``movie_id``)."""
        with self._connect(write=False) as con:
            return con.execute(
                "SELECT * RENAME (collection_id AS movie_id) FROM collection_artwork"
                " WHERE collection_id IN (SELECT UNNEST(?::JSON::BIGINT[])) ORDER BY collection_id, type, rank",
                [json_list(collection_ids)]).pl()

    def collection_selection(self, collection_ids: Sequence[int] | None = None) -> dict[int, list[CollectionArt]]:
        """set → its selected images, one per type, in type order (every set when ``collection_ids`` is None)."""
        where = "" if collection_ids is None else " AND c.collection_id IN (SELECT UNNEST(?::JSON::BIGINT[]))"
        with self._connect(write=False) as con:
            cur = con.execute(
                "SELECT c.collection_id, c.type, c.candidate_id, c.provider, c.url, c.language, c.width, c.height,"
                " c.score, c.blob_sha, coalesce(b.ext, '') AS ext FROM collection_artwork c"
                " LEFT JOIN blobs b ON b.sha256 = c.blob_sha WHERE c.selected_rank IS NOT NULL" + where
                + " ORDER BY c.collection_id, c.type", [] if collection_ids is None else [json_list(collection_ids)])
            names = [d[0] for d in cur.description]
            out: dict[int, list[CollectionArt]] = {}
            for r in cur.fetchall():
                out.setdefault(r[0], []).append(CollectionArt(**dict(zip(names, r, strict=True))))
            return out

    def save_collections(self, *, analysis: pl.DataFrame | None, blobs: pl.DataFrame | None,
                         collection_ids: Sequence[int], candidates: pl.DataFrame | None,
                         collections: pl.DataFrame | None) -> None:
        """One transaction: new analyses and blobs, then delete-then-insert for the sets that changed.
        ``candidates`` carries the machinery's ``movie_id`` column, stored as ``collection_id``."""
        with self._connect(write=True) as con:
            write_analysis(con, analysis)
            write_new_blobs(con, blobs)
            if collection_ids:
                ids = [json_list(collection_ids)]
                con.execute("DELETE FROM collection_artwork WHERE collection_id"
                            " IN (SELECT UNNEST(?::JSON::BIGINT[]))", ids)
                con.execute("DELETE FROM collections WHERE collection_id IN (SELECT UNNEST(?::JSON::BIGINT[]))", ids)
            if candidates is not None and candidates.height:
                load_frame(con, "new_set_art", candidates.rename({"movie_id": "collection_id"}))
                con.execute("INSERT INTO collection_artwork BY NAME SELECT * FROM new_set_art")
                drop_frame(con, "new_set_art")
            if collections is not None and collections.height:
                load_frame(con, "new_sets", collections)
                con.execute("INSERT INTO collections BY NAME SELECT * FROM new_sets")
                drop_frame(con, "new_sets")
