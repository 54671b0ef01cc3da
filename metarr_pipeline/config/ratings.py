"""``[ratings]``: which rating sources run, which rating is Kodi's default, and each source's limits.

Sources (tried in the configured order, each fail-soft): ``tmdb`` (TMDB's own vote, already in the movie
answer), ``imdb_dataset`` (IMDb's daily ``title.ratings.tsv.gz``, loaded whole, at most once per refresh
period) and ``omdb`` (IMDb, Rotten Tomatoes and Metacritic through the OMDb API; its key comes from
``OMDB_API_KEY`` in the environment only). The NFO names are Kodi's own ``<rating name="...">`` values.
"""

from __future__ import annotations

from dataclasses import dataclass

from metarr_pipeline.config.rules import InvalidSetting, at_least, did_you_mean, http_url, positive, url_problem

RATING_SOURCES = ("tmdb", "imdb_dataset", "omdb")
# Kodi's rating names → their scale (the NFO's ``max``).
RATING_NAMES: dict[str, int] = {"themoviedb": 10, "imdb": 10, "tomatometerallcritics": 100, "metacritic": 100}
IMDB_DATASET_URL = "https://datasets.imdbws.com/title.ratings.tsv.gz"


@dataclass(frozen=True)
class RatingsSettings:
    sources: tuple[str, ...] = ("tmdb",)
    default: str = "themoviedb"  # the <rating default="true">; TMDB's when the movie has no such rating
    # An http(s) URL, or a local file (relative to the config file's folder).
    imdb_dataset: str = IMDB_DATASET_URL
    imdb_refresh_hours: float = 24.0  # IMDb publishes the file daily: loading it more often gains nothing
    imdb_max_megabytes: int = 64
    omdb_url: str = "https://www.omdbapi.com/"
    omdb_daily_limit: int = 1000  # the free key's quota; requests per day never exceed it
    omdb_per_run: int = 250  # a run takes at most this many, so a day's quota spreads over the day's runs
    omdb_ttl_days: float = 7.0  # an OMDb answer younger than this is reused without a request

    def __post_init__(self) -> None:
        for i, source in enumerate(self.sources):
            if source not in RATING_SOURCES:
                raise InvalidSetting(f"sources[{i}]", f"{{key}} = '{source}' is not a rating source"
                                                      f"{did_you_mean(source, RATING_SOURCES)} "
                                                      f"(known: {', '.join(RATING_SOURCES)})")
            if source in self.sources[:i]:
                raise InvalidSetting(f"sources[{i}]", f"{{key}} repeats '{source}'")
        if self.default not in RATING_NAMES:
            raise InvalidSetting("default", f"{{key}} = '{self.default}' is not a Kodi rating name"
                                            f"{did_you_mean(self.default, RATING_NAMES)} "
                                            f"(known: {', '.join(RATING_NAMES)})")
        if not self.imdb_dataset.strip():
            raise InvalidSetting("imdb_dataset", "{key} is empty: give the dataset's URL or a local file")
        if "://" in self.imdb_dataset and url_problem(self.imdb_dataset):
            http_url(self.imdb_dataset, "imdb_dataset")
        positive(self.imdb_refresh_hours, "imdb_refresh_hours")
        at_least(self.imdb_max_megabytes, 1, "imdb_max_megabytes")
        http_url(self.omdb_url, "omdb_url")
        at_least(self.omdb_daily_limit, 0, "omdb_daily_limit")
        at_least(self.omdb_per_run, 0, "omdb_per_run")
        positive(self.omdb_ttl_days, "omdb_ttl_days")
