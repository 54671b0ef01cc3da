"""The root settings object: one frozen value per run, every section already valid when it exists.

Rules about one value sit in the section that holds it; the one rule that compares sections' entries (each
player's name is distinct, because the notification queue is keyed by it) sits here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from metarr_pipeline.config.artwork import ArtworkSettings, ScoringSettings
from metarr_pipeline.config.library import (
    ActorSettings,
    LanguageSettings,
    LibrarySettings,
    PublishSettings,
    ScanSettings,
    ScheduleSettings,
)
from metarr_pipeline.config.metadata import MetadataSettings
from metarr_pipeline.config.players import PlayerSettings
from metarr_pipeline.config.providers import ProviderSettings
from metarr_pipeline.config.ratings import RatingsSettings
from metarr_pipeline.config.rules import InvalidSetting


@dataclass(frozen=True)
class Settings:
    config_path: Path
    data_dir: Path
    library: LibrarySettings = field(default_factory=LibrarySettings)
    scan: ScanSettings = field(default_factory=ScanSettings)
    languages: LanguageSettings = field(default_factory=LanguageSettings)
    metadata: MetadataSettings = field(default_factory=MetadataSettings)
    ratings: RatingsSettings = field(default_factory=RatingsSettings)
    providers: ProviderSettings = field(default_factory=ProviderSettings)
    artwork: ArtworkSettings = field(default_factory=ArtworkSettings)
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    actors: ActorSettings = field(default_factory=ActorSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    players: tuple[PlayerSettings, ...] = ()

    def __post_init__(self) -> None:
        seen: dict[str, int] = {}
        for i, player in enumerate(self.players):
            if player.label in seen:
                first = seen[player.label]
                raise InvalidSetting(f"players[{i}]", f"{{key}} is named '{player.label}' like players[{first}]: "
                                                      "give each player a distinct name")
            seen[player.label] = i

    @property
    def enabled_players(self) -> tuple[PlayerSettings, ...]:
        return tuple(p for p in self.players if p.enabled)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "metarr.duckdb"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def movie_sets_path(self) -> Path | None:
        """``[publish] movie_sets_folder`` (relative to the config file), or None when it is off. Publish writes
        there and the Kodi notifier lists it, so both resolve it here."""
        raw = self.publish.movie_sets_folder.strip()
        if not raw:
            return None
        path = Path(raw).expanduser()
        return path if path.is_absolute() else (self.config_path.parent / path).resolve()
