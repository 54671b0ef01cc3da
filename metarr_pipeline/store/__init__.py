"""The state store: one DuckDB file, reached only through :class:`Store`."""

from metarr_pipeline.store.store import MovieRecord, ScanWrite, Store

__all__ = ["MovieRecord", "ScanWrite", "Store"]
