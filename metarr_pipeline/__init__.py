"""metarr-pipeline's domain: pure Python, no Dagster; every stage testable alone.

Follow one movie from its folder to its NFO by reading the package docstrings in this order:

1. :mod:`.config`: the settings, one typed frozen object; every rule sits in its type.
2. :mod:`.scan`: the library folders walked, each movie found, identified (TMDB id) and probed.
3. :mod:`.providers`: what TMDB and fanart.tv say about it, asked politely, cached, merged into its metadata.
4. :mod:`.artwork`: every artwork candidate analysed, scored, de-duplicated and selected
   (:mod:`.artwork.enrich` runs those stages over a batch, with :mod:`.blobs` caching the winners' originals).
5. :mod:`.publish`: the NFO, rank-named artwork and ``.actors/`` written into the folder, atomically.
6. :mod:`.players`: Kodi, Jellyfin and Plex told about what changed, and asked whether they have it.

Shared by every stage (they import no stage): :mod:`.store` (all SQL; the one DuckDB state file),
:mod:`.art_types` (the one table of artwork types), :mod:`.fingerprints` (what in the config changes a
result), :mod:`.models` (plain values), :mod:`.metadata` (fields and merge rules), :mod:`.errors` (one exception
tree), :mod:`.languages`, :mod:`.redaction` (no secret ever printed).
Around them: :mod:`.orchestration` (what the schedule and sensors ask for), :mod:`.report` (words for people),
:mod:`.cli` (``metarr``), :mod:`.demo` (a real tiny library) and :mod:`.simulator` (a loopback test double of
the providers, self-contained). ``tests/test_structure.py`` pins this layering.
"""
