"""The state store: one DuckDB file, reached only through :class:`Store`."""

from metarr_pipeline.store.store import MetadataRow, MovieRecord, ProviderResponse, ScanWrite, Store

__all__ = ["MetadataRow", "MovieRecord", "ProviderResponse", "ScanWrite", "Store"]
