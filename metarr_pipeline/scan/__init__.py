"""Reading a library: finding movies, identifying them and probing their files.

Where it sits: first. It reads the library roots (never writes there) and writes ``movies`` and their streams to
the store; the identified movies become Dagster partitions.

Modules in reading order: :mod:`.discover` (walk the roots, find movie folders, Kodi's exclusions),
:mod:`.nfo` (read an existing NFO leniently, keep the user's state), :mod:`.identify` (the identification
ladder: NFO id, name tag, TMDB search), :mod:`.probe` (streams via PyAV/FFmpeg, cached by size and mtime),
:mod:`.scan` (the whole scan: one batched store write).
"""
