"""The provider cache and merged metadata: ``provider_responses`` and ``movie_metadata``.

Fetching keeps every raw answer so a later merge (or a changed merge rule) needs no network; the answers of a
batch and the metadata merged from them are saved together, so a crash leaves neither half.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import polars as pl

from metarr_pipeline.store.connection import StoreBase
from metarr_pipeline.store.frames import drop_frame, json_list, load_frame
from metarr_pipeline.store.rows import MetadataRow, ProviderResponse

_METADATA_COLUMNS = tuple(f.name for f in fields(MetadataRow))


class ProviderCacheStore(StoreBase):
    """Reads and writes of the provider cache and of each movie's merged metadata."""

    def provider_responses(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ProviderResponse]:
        if not keys:
            return {}
        # The keys go in as JSON text (frames.json_list), not as a registered Python frame: a read never makes
        # DuckDB's worker threads call back into Python (see store/watchdog.py and the README's "State").
        with self._connect(write=False) as con:
            rows = con.execute(
                "SELECT r.provider, r.item_key, r.fetched_at, r.status, r.body FROM provider_responses r"
                " JOIN (SELECT UNNEST(?::JSON::VARCHAR[]) AS provider, UNNEST(?::JSON::VARCHAR[]) AS item_key) w"
                " ON w.provider = r.provider AND w.item_key = r.item_key",
                [json_list(k[0] for k in keys), json_list(k[1] for k in keys)],
            ).fetchall()
        return {(r[0], r[1]): ProviderResponse(*r) for r in rows}

    def movie_metadata(self, movie_ids: Sequence[int] | None = None) -> dict[int, MetadataRow]:
        sql = f"SELECT {', '.join(_METADATA_COLUMNS)} FROM movie_metadata"
        params: list[Any] = []
        if movie_ids is not None:
            sql += " WHERE movie_id IN (SELECT UNNEST(?::JSON::BIGINT[]))"
            params = [json_list(movie_ids)]
        with self._connect(write=False) as con:
            rows = con.execute(sql, params).fetchall()
        return {r[0]: MetadataRow(*r) for r in rows}

    def save_fetch(self, responses: Sequence[ProviderResponse], metadata: Sequence[MetadataRow]) -> None:
        """Store fetched responses and merged metadata rows in one transaction (delete-then-insert)."""
        if not responses and not metadata:
            return
        with self._connect(write=True) as con:
            if responses:
                frame = pl.DataFrame(
                    [(r.provider, r.item_key, r.fetched_at, r.status, r.body) for r in responses],
                    schema={"provider": pl.String, "item_key": pl.String, "fetched_at": pl.Datetime("us"),
                            "status": pl.Int32, "body": pl.String}, orient="row",
                ).unique(subset=["provider", "item_key"], keep="last")
                load_frame(con, "new_responses", frame)
                con.execute("DELETE FROM provider_responses WHERE (provider, item_key) IN "
                            "(SELECT (provider, item_key) FROM new_responses)")
                con.execute("INSERT INTO provider_responses SELECT provider, item_key, fetched_at, status, body "
                            "FROM new_responses")
                drop_frame(con, "new_responses")
            if metadata:
                frame = pl.DataFrame(
                    [tuple(getattr(m, c) for c in _METADATA_COLUMNS) for m in metadata],
                    schema={"movie_id": pl.Int64, "fields_json": pl.String, "decisions_json": pl.String,
                            "tmdb_id": pl.Int64, "fetched_at": pl.Datetime("us"), "merged_at": pl.Datetime("us"),
                            "fetch_error": pl.String, "failed_at": pl.Datetime("us")}, orient="row",
                )
                load_frame(con, "new_metadata", frame)
                con.execute("DELETE FROM movie_metadata WHERE movie_id IN (SELECT movie_id FROM new_metadata)")
                con.execute(f"INSERT INTO movie_metadata ({', '.join(_METADATA_COLUMNS)}) "
                            f"SELECT {', '.join(_METADATA_COLUMNS)} FROM new_metadata")
                drop_frame(con, "new_metadata")
