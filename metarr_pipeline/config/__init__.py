"""Settings: one typed, frozen object per run, resolved from a TOML file and the environment.

Where configuration comes from:

- **the file**: ``--config``, else ``$METARR_CONFIG``, else the bundled demo config (``data/demo/metarr.toml``).
  Relative paths in it resolve against the file's folder. Unknown keys are errors (with a "did you mean");
  tables such as ``[artwork.counts]`` and ``[scoring.weights]`` merge over their defaults.
- **the environment**: every secret (TMDB_API_KEY, TMDB_READ_ACCESS_TOKEN, FANART_API_KEY, OMDB_API_KEY, the
  variables a player's ``*_env`` names) and nothing else secret: a key that looks like one in the file is refused.
  ``METARR_TMDB_API_URL``, ``METARR_TMDB_IMAGE_URL`` and ``METARR_FANART_API_URL`` override the providers'
  base URLs (a proxy, the simulator).

Every rule sits in its type: each frozen settings dataclass checks its own values in ``__post_init__`` and
raises :class:`InvalidSetting` (a ``ConfigError``) naming the key; the loader adds the file and the dotted key
of the table. So a ``Settings`` that exists is valid, however it was made (the file, ``replace`` in code, a
test), and the defaults live in the types and nowhere else. Consumers receive the object; none reads the file
or the environment for settings again.

Modules, in reading order:

- :mod:`.rules`      the vocabulary rules are written in: InvalidSetting, ranges, "did you mean", URLs
- :mod:`.cron`       a strict 5-field cron check for ``schedule.enrich_cron`` (Dagster reads it at load)
- :mod:`.library`    library, scan, languages, actors, publish and schedule sections
- :mod:`.providers`  TMDB, fanart.tv, retries and response caps
- :mod:`.metadata`   the certification's country ladder and prefixes
- :mod:`.ratings`    rating sources, the default rating, the IMDb dataset and OMDb limits
- :mod:`.artwork`    artwork counts and the scoring weights and provider preferences
- :mod:`.players`    one ``[[players]]`` entry
- :mod:`.settings`   the root ``Settings`` (and the rule that compares players)
- :mod:`.loader`     which file, TOML to types, paths, environment overrides, the library folders' existence
"""

from metarr_pipeline.config.artwork import (
    ARTWORK_TYPES,
    PROVIDERS,
    SCORE_PARTS,
    ArtworkSettings,
    ScoringSettings,
)
from metarr_pipeline.config.library import (
    ActorSettings,
    LanguageSettings,
    LibrarySettings,
    PublishSettings,
    ScanSettings,
    ScheduleSettings,
)
from metarr_pipeline.config.loader import (
    CONFIG_ENV,
    DEMO_CONFIG,
    PROJECT_ROOT,
    URL_OVERRIDES,
    load_settings,
    resolve_config_path,
)
from metarr_pipeline.config.metadata import MetadataSettings
from metarr_pipeline.config.players import PLAYER_TYPES, PlayerSettings
from metarr_pipeline.config.providers import PROVIDER_MODES, FanartSettings, ProviderSettings, TmdbSettings
from metarr_pipeline.config.ratings import RATING_NAMES, RATING_SOURCES, RatingsSettings
from metarr_pipeline.config.rules import InvalidSetting
from metarr_pipeline.config.settings import Settings

__all__ = [
    "ARTWORK_TYPES",
    "CONFIG_ENV",
    "DEMO_CONFIG",
    "PLAYER_TYPES",
    "PROJECT_ROOT",
    "PROVIDERS",
    "PROVIDER_MODES",
    "RATING_NAMES",
    "RATING_SOURCES",
    "SCORE_PARTS",
    "URL_OVERRIDES",
    "ActorSettings",
    "ArtworkSettings",
    "FanartSettings",
    "InvalidSetting",
    "LanguageSettings",
    "LibrarySettings",
    "MetadataSettings",
    "PlayerSettings",
    "ProviderSettings",
    "PublishSettings",
    "RatingsSettings",
    "ScanSettings",
    "ScheduleSettings",
    "ScoringSettings",
    "Settings",
    "TmdbSettings",
    "load_settings",
    "resolve_config_path",
]
