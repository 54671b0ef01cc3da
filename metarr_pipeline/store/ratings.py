"""Ratings from sources other than TMDB: the IMDb dataset (``imdb_ratings``, ``dataset_loads``) and a
provider's daily request count (``provider_usage``, how OMDb's quota is kept across runs and processes).

The IMDb dataset is replaced whole in one transaction (a reader sees yesterday's or today's, never half), from a
polars frame DuckDB reads directly; lookups join the library's IMDb ids against it in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import polars as pl

from metarr_pipeline.store.connection import StoreBase
from metarr_pipeline.store.frames import drop_frame, json_list, load_frame


class RatingsStore(StoreBase):
    """The IMDb ratings dataset and provider usage counters."""

    def replace_imdb_ratings(self, frame: pl.DataFrame, origin: str, loaded_at: datetime) -> int:
        """Replace the dataset with ``frame`` (columns imdb_id, rating, votes); returns the row count."""
        with self._connect(write=True) as con:
            load_frame(con, "new_ratings", frame)
            con.execute("DELETE FROM imdb_ratings")
            con.execute("INSERT INTO imdb_ratings SELECT imdb_id, rating, votes FROM new_ratings")
            drop_frame(con, "new_ratings")
            con.execute("DELETE FROM dataset_loads WHERE dataset = 'imdb_ratings'")
            con.execute("INSERT INTO dataset_loads VALUES ('imdb_ratings', ?, ?, ?)",
                        [loaded_at, origin, frame.height])
        return frame.height

    def dataset_loaded_at(self, dataset: str) -> datetime | None:
        with self._connect(write=False) as con:
            row = con.execute("SELECT loaded_at FROM dataset_loads WHERE dataset = ?", [dataset]).fetchone()
        return row[0] if row else None

    def imdb_ratings(self, imdb_ids: Sequence[str]) -> dict[str, tuple[float, int]]:
        """imdb id → (rating, votes), for the ids the dataset has."""
        if not imdb_ids:
            return {}
        with self._connect(write=False) as con:
            rows = con.execute("SELECT imdb_id, rating, votes FROM imdb_ratings WHERE imdb_id IN "
                               "(SELECT UNNEST(?::JSON::VARCHAR[]))", [json_list(imdb_ids)]).fetchall()
        return {r[0]: (float(r[1]), int(r[2])) for r in rows}

    def provider_usage(self, provider: str, day: date) -> int:
        with self._connect(write=False) as con:
            row = con.execute("SELECT requests FROM provider_usage WHERE provider = ? AND day = ?",
                              [provider, day]).fetchone()
        return int(row[0]) if row else 0

    def add_provider_usage(self, provider: str, day: date, requests: int) -> None:
        if requests <= 0:
            return
        with self._connect(write=True) as con:
            con.execute("INSERT INTO provider_usage VALUES (?, ?, ?) ON CONFLICT (provider, day) "
                        "DO UPDATE SET requests = provider_usage.requests + excluded.requests",
                        [provider, day, requests])
