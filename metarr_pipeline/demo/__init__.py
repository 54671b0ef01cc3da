"""A tiny, real, deterministic movie library so the pipeline can be tried and tested without a NAS."""
