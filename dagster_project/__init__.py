"""Dagster definitions for metarr-pipeline: thin assets over the ``metarr_pipeline`` domain package."""
