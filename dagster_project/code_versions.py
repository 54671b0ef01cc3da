"""Values the definitions read when they load, from the settings of the code location.

The assets' code versions are the config fingerprints, and the enrichment schedule's cron comes from the
config: both are part of the definitions, so they are read when the definitions load (from $METARR_CONFIG or
the demo config). After a config change and a reload of the code location, partitions materialised under the
old config show as stale in the UI ("code version changed"), as they do in `metarr status`.
"""

from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.fingerprints import config_fingerprint, publish_fingerprint


def settings_at_load() -> Settings | None:
    """The settings as the definitions load ($METARR_CONFIG or the demo config); None when unreadable, so a
    broken config still lets the code location load (runs then report the config error)."""
    try:
        return load_settings(check_roots=False)
    except MetarrError:
        return None


def config_code_versions() -> tuple[str | None, str | None]:
    """(enrichment, publish) config fingerprints, used as the assets' code versions; None when the config
    cannot be read."""
    settings = settings_at_load()
    if settings is None:
        return None, None
    return config_fingerprint(settings), publish_fingerprint(settings)
