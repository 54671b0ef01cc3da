"""The index of the content-addressed blob store (``blobs``) and its garbage collection.

A blob is kept while any candidate (a movie's or a set's), actor, NFO backup or library file refers to it;
deletion re-checks that at commit time, so a blob a concurrent write has just started to use is never forgotten.
"""

from __future__ import annotations

from collections.abc import Sequence

from metarr_pipeline.store.connection import StoreBase
from metarr_pipeline.store.frames import json_list
from metarr_pipeline.store.rows import BlobRow


class BlobsStore(StoreBase):
    """Reads of the blob index and deletion of unreferenced blobs."""

    def blob_rows(self, shas: Sequence[str]) -> dict[str, BlobRow]:
        if not shas:
            return {}
        with self._connect(write=False) as con:
            cur = con.execute("SELECT * FROM blobs WHERE sha256"
                              " IN (SELECT UNNEST(?::JSON::VARCHAR[]))", [json_list(shas)])
            names = [d[0] for d in cur.description]
            return {r[0]: BlobRow(**dict(zip(names, r, strict=True))) for r in cur.fetchall()}

    def unreferenced_blobs(self) -> list[tuple[str, str, int]]:
        """Blobs no selection (a movie's or a set's), actor, NFO backup or library file refers to:
        (sha256, ext, bytes)."""
        with self._connect(write=False) as con:
            return [tuple(r) for r in con.execute("""
                SELECT sha256, ext, bytes FROM blobs b
                WHERE NOT EXISTS (SELECT 1 FROM artwork_candidates c WHERE c.blob_sha = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM collection_artwork s WHERE s.blob_sha = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM people p WHERE p.blob_sha = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM nfo_backups n WHERE n.sha256 = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM library_files f WHERE f.sha256 = b.sha256)
                ORDER BY sha256""").fetchall()]

    def forget_blobs(self, shas: Sequence[str]) -> list[str]:
        """Delete blob rows that are still unreferenced at commit time; returns the ones deleted."""
        if not shas:
            return []
        with self._connect(write=True) as con:
            rows = con.execute("""
                DELETE FROM blobs b WHERE sha256 IN (SELECT UNNEST(?::JSON::VARCHAR[]))
                  AND NOT EXISTS (SELECT 1 FROM artwork_candidates c WHERE c.blob_sha = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM collection_artwork s WHERE s.blob_sha = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM people p WHERE p.blob_sha = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM nfo_backups n WHERE n.sha256 = b.sha256)
                  AND NOT EXISTS (SELECT 1 FROM library_files f WHERE f.sha256 = b.sha256)
                RETURNING sha256""", [json_list(shas)]).fetchall()
        return [r[0] for r in rows]
