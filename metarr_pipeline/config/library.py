"""Settings of the library and of the run: what to scan, how, in which language, and when.

Each type checks its own values in ``__post_init__`` (see :mod:`.rules`); whether the library folders exist is
not a rule of the value but of the machine, so the loader checks it (and only when asked to).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from metarr_pipeline.config.cron import cron_problem
from metarr_pipeline.config.rules import InvalidSetting, at_least, not_negative


@dataclass(frozen=True)
class LibrarySettings:
    roots: tuple[Path, ...] = ()
    # Extra regular expressions (case-insensitive, matched against the path below the root, with '/'
    # separators) for files and folders to ignore, on top of Kodi's own exclusions.
    ignore_patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for i, pattern in enumerate(self.ignore_patterns):
            try:  # compiled here so a typo fails at load, not half-way through a scan
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise InvalidSetting(f"ignore_patterns[{i}]", "{key} is not a valid regular expression "
                                                              f"({exc}): '{pattern}'") from None


@dataclass(frozen=True)
class ScanSettings:
    # Probing is I/O bound on network shares; a few threads hide the latency without thrashing a NAS.
    probe_workers: int = 4

    def __post_init__(self) -> None:
        at_least(self.probe_workers, 1, "probe_workers")


@dataclass(frozen=True)
class LanguageSettings:
    # ISO 639-1 code of the language the user wants metadata and artwork in.
    preferred: str = "en"

    def __post_init__(self) -> None:
        lang = self.preferred
        if len(lang) != 2 or not lang.isalpha() or not lang.islower():
            raise InvalidSetting("preferred", "{key} must be a two-letter ISO 639-1 code like 'en', "
                                              f"got '{lang}'")


@dataclass(frozen=True)
class ActorSettings:
    max_actors: int = 15  # 0: no cast in the NFOs

    def __post_init__(self) -> None:
        not_negative(self.max_actors, "max_actors")


@dataclass(frozen=True)
class PublishSettings:
    auto_publish: bool = False
    extrafanart: bool = False
    # Kodi's "Movie set information folder" (videolibrary.moviesetsfolder): each set's art and set.nfo go into
    # <this>/<set title made filesystem-safe>/. Empty: off. Relative paths resolve against the config file.
    movie_sets_folder: str = ""

    def __post_init__(self) -> None:
        if any(ord(ch) < 32 for ch in self.movie_sets_folder):
            raise InvalidSetting("movie_sets_folder", "{key} must be a folder path without control characters")


@dataclass(frozen=True)
class ScheduleSettings:
    # Cron expression for library-wide enrichment; empty means the schedule is off. Checked here because
    # Dagster reads it when the code location loads, where a bad one would break the location, not name the key.
    enrich_cron: str = ""
    # Library-wide work is split into runs of at most this many movies (a run per movie costs seconds of
    # process start-up; one huge run holds everything in memory).
    max_movies_per_run: int = 500

    def __post_init__(self) -> None:
        problem = cron_problem(self.enrich_cron) if self.enrich_cron.strip() else ""
        if problem:
            raise InvalidSetting("enrich_cron", f"{{key}} = '{self.enrich_cron}' is not a valid cron: {problem} "
                                                "(like '0 4 * * *' for 04:00 daily; empty turns the schedule off)")
        at_least(self.max_movies_per_run, 1, "max_movies_per_run")
