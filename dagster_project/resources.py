"""The one resource every asset uses: the project's settings and state store, resolved at run time.

Nothing is read at import time: ``config_path`` defaults to ``$METARR_CONFIG`` (then the bundled demo
config) when the resource is first used inside a run, sensor or schedule.
"""


from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

import dagster as dg

from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.providers.session import ProviderSession, open_providers
from metarr_pipeline.store import Store


class MetarrResource(dg.ConfigurableResource):
    """Settings file and state database of one metarr library."""

    config_path: str | None = None

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_path)

    @cached_property
    def settings_without_roots(self) -> Settings:
        """For readers (sensors, reports) that must work while a library share is unmounted."""
        return load_settings(self.config_path, check_roots=False)

    def store(self) -> Store:
        return Store(self.settings_without_roots.database_path)

    @contextmanager
    def providers(self) -> Iterator[ProviderSession]:
        """Provider clients for one step; keys come from the environment (never from run config)."""
        with open_providers(self.settings_without_roots) as session:
            yield session
