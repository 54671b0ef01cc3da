"""Handing a polars frame to DuckDB inside a write, without DuckDB ever calling back into Python.

``con.register(name, frame)`` lets DuckDB scan the frame in place, but the scan runs on DuckDB's worker
threads, which must take the GIL to pull each Arrow batch out of Python. In a process whose other threads
start and stop (HTTP servers, download pools) that hand-off was seen to stall for good:
``tests/test_store.py::test_provider_cache_reads_under_load_with_thread_churn_finish`` caught a writer spinning
inside ``INSERT ... SELECT * FROM <registered frame>`` for minutes, past the watchdog's interrupt. So the
frame goes in as statement parameters instead, one typed list per column, converted on the calling thread
before the statement runs, and lands in a temporary table of the same name: the SQL around it does not change.

Not as statement parameters, though: DuckDB converts each Python value of a list parameter on its own and, for
every one, tries ``import pandas`` (not installed here, so the failed lookup walks ``sys.path`` each time):
40,000 rows took 17 s and the 1,000-movie re-score spent 70 % of its time there (the benchmark's profile of
2026-11-30). So polars writes the frame to a temporary Parquet file (native code, no Python per value) and DuckDB
reads it with ``read_parquet`` (native too, no callback into Python): 40,000 rows in 0.04 s. Each column is cast
to the DuckDB type :func:`duck_type` names, so the temporary table's types do not depend on what Parquet keeps.

Reads that look rows up by a list of keys (movie ids, preview URLs, hashes) had the same cost: a list parameter
is converted value by value, with the same failed import each time (the 1,000-movie re-score of 2026-11-30 still
spent a quarter of its time in ``image_analysis`` doing that for 23,000 URLs). :func:`json_list` hands the keys
over as one JSON text, which DuckDB parses natively: ``UNNEST(?::JSON::BIGINT[])`` (or ``VARCHAR[]``) in the SQL.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable

import duckdb
import polars as pl

_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "VARCHAR", pl.Int64: "BIGINT", pl.Int32: "INTEGER", pl.Int16: "SMALLINT", pl.Int8: "TINYINT",
    pl.UInt64: "UBIGINT", pl.UInt32: "UINTEGER", pl.UInt16: "USMALLINT", pl.UInt8: "UTINYINT",
    pl.Float64: "DOUBLE", pl.Float32: "FLOAT", pl.Boolean: "BOOLEAN", pl.Date: "DATE", pl.Null: "VARCHAR",
}


def duck_type(dtype: pl.DataType) -> str:
    """DuckDB's name for a polars column type (the ones the store writes); anything else is a programming error."""
    if isinstance(dtype, pl.List):
        return f"{duck_type(dtype.inner)}[]"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
    try:
        return _TYPES[dtype.base_type()]
    except KeyError:
        raise TypeError(f"no DuckDB column type for polars {dtype}") from None


def load_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """``frame`` as the temporary table ``name`` (names come from our code, never from data)."""
    columns = [f'CAST("{column}" AS {duck_type(dtype)}) AS "{column}"' for column, dtype in frame.schema.items()]
    with tempfile.TemporaryDirectory(prefix="metarr-frame-") as folder:
        path = os.path.join(folder, "frame.parquet")
        frame.write_parquet(path, compression="uncompressed", statistics=False)
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT {", ".join(columns)} FROM read_parquet(?)',
                    [path])


def drop_frame(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f'DROP TABLE IF EXISTS "{name}"')


def json_list(values: Iterable[int | str]) -> str:
    """Keys as one JSON array, for ``UNNEST(?::JSON::BIGINT[])`` / ``UNNEST(?::JSON::VARCHAR[])`` (see the module)."""
    return json.dumps(list(values), ensure_ascii=False)
