"""Movie sets (TMDB collections) as their own stage: each set's art chosen like a movie's, one image per type.

Where it sits: after the provider fetch (which merged each movie's set name and overview, and cached TMDB's
``/collection`` answer), before publishing the set folder (``publish.movie_sets`` reads the winners and their
blobs). A set exists while at least one present, identified movie of the library belongs to it
(``Store.library_sets``); its Dagster partition key is ``LibrarySet.partition_key``.

Modules in reading order: :mod:`.answers` (TMDB's ``/collection/{id}`` with images and fanart.tv's
``movies/{id}``, one call each per set, cached), :mod:`.run` (the movie stages over a batch of sets),
:mod:`.persist` (only changed sets written), :mod:`.report`.
"""

from metarr_pipeline.artwork.sets.report import CollectionsReport, SetArt, SetResult
from metarr_pipeline.artwork.sets.run import SET_ART_TYPES, enrich_collections

__all__ = ["SET_ART_TYPES", "CollectionsReport", "SetArt", "SetResult", "enrich_collections"]
