"""Ratings beyond TMDB's: sources behind one small interface, run over a batch, merged into the metadata.

Where it sits: at the end of each provider fetch (:func:`~metarr_pipeline.providers.fetch.fetch_metadata`),
after the movies' TMDB answers are merged. Each source answers for the whole batch at once and fails soft:
a source that cannot answer (no key, a download error, a spent quota) is reported and skipped, never fatal.

Modules, in reading order:

- :mod:`.source`: :class:`~.source.RatingSource` (the interface), :class:`~.source.RatingQuery`, the
  Kodi names and scales, and :class:`~.source.TmdbRatings` (TMDB's own vote, from the movie's answer);
- :mod:`.imdb_dataset`: IMDb's ``title.ratings.tsv.gz`` (a URL or a file), parsed with polars and loaded
  into the state file whole, at most once per refresh period; lookups are one join for the whole batch;
- :mod:`.omdb`: OMDb (IMDb, Rotten Tomatoes, Metacritic), key from ``OMDB_API_KEY`` only, each answer
  cached for the TTL, and a daily quota kept across runs (at most ``omdb_per_run`` per run);
- :mod:`.run`: :func:`~.run.refresh_ratings`: the sources in the configured order, one metadata write.
"""

from metarr_pipeline.providers.ratings.run import RatingsReport, refresh_ratings

__all__ = ["RatingsReport", "refresh_ratings"]
