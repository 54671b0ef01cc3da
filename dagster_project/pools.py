"""The Dagster pools (op concurrency) metarr's steps run in; ``dagster.yaml`` gives every pool a limit of 1.

- ``metarr_providers``: every step that talks to the providers (the metadata fetch, the movies' and the sets'
  artwork). Each run's process keeps the providers' limits (requests per second, connections) on its own; the
  daemon runs up to four runs at once, so without the pool a library-wide enrichment in four runs asked TMDB
  four times as fast as its limit. With it, one step at a time across all runs talks to the providers.
- ``metarr_library_writes``: the steps that write into movie folders (publish, the set folders), so two publish
  runs never write into the same folder at once.

Not in a pool: the scan (its identification searches are a few requests, and a long scan holding the providers'
pool would stop every enrichment), and publish's rare download of an original an offline re-score deferred.
"""

PROVIDERS = "metarr_providers"
LIBRARY_WRITES = "metarr_library_writes"
