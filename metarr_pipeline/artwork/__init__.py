"""Artwork: candidates, analysis of image bytes, scoring, duplicates and selection.

Where it sits: after the provider fetch (reads the cached TMDB and fanart.tv responses), before publish (which
reads the selection, the candidate rows and the cached blobs). It never touches the library.

Modules in reading order: :mod:`.candidates` (every image both providers offer, one polars frame per batch),
:mod:`.imaging` (the perceptual hash of a small rendition), :mod:`.scoring` (named, weighted parts per
candidate), :mod:`.selection` (gates, duplicates, the pick), :mod:`.actors` (the top of the cast),
:mod:`.choices` (the user's pick/reject/lock), :mod:`.enrich` (the stages run over a batch),
:mod:`.review`, :mod:`.contact_sheet` and :mod:`.tiles` (why each image won, for people), :mod:`.sets` (the
same stages over movie sets: each TMDB collection's art from both providers, one winner per type, for the set
folder).
"""
