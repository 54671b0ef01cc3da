"""Publishing: the one stage that writes into the user's library, so every step is defensive.

Where it sits: after enrichment. It reads the state database (merged metadata, probed streams, selected
artwork, actors, the files it wrote before, the user's NFO state read at scan) and the blob store (cached
originals), and writes into each movie folder the Kodi NFO, rank-named artwork, ``.actors/`` (and
``extrafanart/`` when enabled); then it records those files and a publish-log row per movie, and queues the
players' notifications.

What publishing guarantees:

- **Atomic**: every file goes to a temp file in its folder, is fsynced and renamed over the target; a reader or
  a crash sees the old file or the new one, never half of one. The files' intents are recorded before any is
  written, so a crash still knows what we may have written, and the next publish adopts it.
- **All or nothing per movie**, as far as a file system allows: the space its new files need is checked, every
  temp file is written, then all are renamed; a failure before the renames leaves every old file. The next
  publish sweeps our stale temp files from every folder it writes (disc structures' ``.actors/`` included).
- **Confined**: nothing is written or removed through a symlink leading out of the movie folder (or a folder
  resolving outside its library root): that movie fails with the reason. A symlink at one of our names is the
  user's file: kept and reported. Every name fits 255 bytes (``naming.fit_name``).
- **Idempotent**: a file whose bytes are already right is not written (its mtime is untouched, players see no
  change) and an unchanged movie costs no store write; the NFO is deterministic, so the same input gives the
  same bytes.
- **Only our files removed**: a file is removed only if we wrote it, it is no longer planned, and it still holds
  the bytes we wrote.
- **User files kept**: a file at a planned path that we did not write is left untouched and reported; the
  user's own NFO is the one exception: backed up into the blob store once, its watched state and foreign tags
  carried into ours. A failed validation (gone, not enriched, folder missing or not writable) writes nothing
  and says why; one movie never stops the batch.
- **Never silently different**: an image is written only from verified bytes; a missing or damaged cached
  original is downloaded again and verified, and one the provider now serves differently is reported instead.

Modules, in reading order:

- ``publish``: ``publish_movies``, the entry point: which movies, then the batch, notifications, blob reclaim.
- ``report``: ``PublishReport`` / ``MoviePublish``, what a run came to; ``PublishError``.
- ``context``: what a batch needs from the store, loaded once; originals a re-score left uncached, fetched.
- ``batch``: chunks of movies with one transaction for intents and one for final rows; the publish log.
- ``prepare``: one movie before any write: validate, plan, protect, verify the bytes, the intent rows.
- ``plan``: what the folder should hold (``Planned``), from ``naming``.
- ``naming``: where Kodi looks for each file; ``trailer``: whether Kodi has a local trailer (then no URL).
- ``confine``: every target resolved inside the movie folder; symlinks refused, or kept as the user's.
- ``protect``: the user's own files (symlinks included), and the backup of the user's NFO.
- ``cache``: the blob cache as publishing needs it: present, verified, repaired, reclaimed.
- ``apply``: write what differs, remove what is ours and no longer wanted, the rows to record.
- ``writer``: atomic writes (staged, then committed), the writability probe, stale temp files.
- ``nfo``: rendering the NFO (one module per section) and reading our own back.
- ``movie_sets``: sets' art and ``set.nfo`` in Kodi's movie set information folder (``[publish]
  movie_sets_folder``), only our own files replaced or removed (a manifest per set folder).
- ``checks``: per-movie checks of what was published, for the asset checks and ``metarr status``.
"""
