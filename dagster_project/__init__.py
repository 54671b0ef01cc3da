"""Dagster definitions for metarr-pipeline: thin assets over the ``metarr_pipeline`` domain package.

The asset graph, in flow order (every partitioned asset is partitioned by movie: one dynamic partition per
identified movie in the ``movies`` DynamicPartitionsDefinition, and runs a whole batch of movies in one run):

    library_scan                  (not partitioned; group scan)   finds and identifies the movies, registers
      │                                                           their partitions and removes gone ones
    scanned_movie                 (movies; scan)                  one movie as the scan saw it
      │
    provider_metadata             (movies; enrich)                TMDB and fanart.tv metadata, cached for the TTL
      ├── artwork_candidates      (movies; enrich) ┐
      │     artwork_selection     (movies; enrich) │ one multi_asset, ``enriched_artwork``: analysed
      │       cached_artwork      (movies; enrich) │ candidates, the scored choice (check ``has_poster``), the
      └── actor_thumbnails        (movies; enrich) ┘ verified originals, actor headshots
    published_library_files       (movies; publish)               NFO, artwork and .actors/ in the movie's
      │                                                           folder (checks: NFO well formed, files recorded)
    player_notifications          (movies; notify)                Kodi, Jellyfin and Plex told

Jobs (``jobs``): ``scan_library_job`` (library_scan), ``enrich_job`` (provider_metadata and the artwork assets),
``publish_job`` (published_library_files and player_notifications), and the notify stage's op job
``player_notification_retry_job``.

Automation (``automation``, every sensor and schedule): ``movie_partitions_sensor`` keeps the partitions equal
to the state database (running); ``library_enrichment_schedule`` runs ``enrich_job`` over the movies due
(stopped unless ``schedule.enrich_cron`` is set); ``auto_publish_sensor`` runs ``publish_job`` over what
changed (running, idle unless ``publish.auto_publish``); ``config_change_backfill_sensor`` re-runs what a
config change made stale (stopped); ``player_notification_sensor`` runs ``player_notification_retry_job`` when
notifications are due (running). Their runs carry the ``run_tags`` the assets read.

Modules in reading order: ``partitions`` (movies as partitions), ``resources`` (settings, state database,
providers), ``code_versions`` (config fingerprints read at load), ``metadata`` (what a step reports: tables,
review links, errors turned into Dagster outcomes), ``step_metadata`` (each movie's numbers on its own partition,
attached in one pass; the batch's totals on the run), ``run_tags``, ``assets/`` (one module per stage: scan,
enrich, artwork, publish, notify; ``delivery`` is the notify step's shared part), ``jobs``, ``automation``,
``definitions`` (assembles them), ``demo_run`` (``make demo``). ``tests/test_asset_graph.py`` pins this graph.
Beside the graph:
``postgres_cluster`` (the private PostgreSQL server of the production instance, ``dagster.postgres.yaml``) and
``serve`` (``make serve``: code server, daemon and webserver as three processes on it; ``deploy/`` runs them),
``retention`` (the nightly job and schedule pruning old runs and their events from the instance).
"""
