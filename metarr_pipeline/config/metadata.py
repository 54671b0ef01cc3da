"""``[metadata]``: how the merged metadata is shown in the NFO: the certification's country ladder and its forms.

The certification of every country is kept in the state (see ``metarr_pipeline.metadata.certifications``);
these settings only choose which one the NFO shows and how it is written, so changing them needs a publish,
never a new provider request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from metarr_pipeline.config.rules import InvalidSetting

_COUNTRY = re.compile(r"[A-Z]{2}")
_MAX_PREFIX = 16


def _country(value: str, key: str) -> None:
    if not _COUNTRY.fullmatch(value):
        raise InvalidSetting(key, "{key} must be an upper-case ISO 3166-1 alpha-2 country code like 'US' or "
                                  f"'GB', got '{value}'")


@dataclass(frozen=True)
class MetadataSettings:
    # Countries whose certification the NFO's <mpaa> shows, first available wins (TMDB country codes).
    certification_countries: tuple[str, ...] = ("US",)
    # Country → the text written before its certification; default "Rated " for US, "<code>:" elsewhere
    # ("UK:" for GB). An empty string writes the bare value.
    certification_prefixes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.certification_countries:
            raise InvalidSetting("certification_countries", "{key} is empty: name at least one country, like "
                                                            "[\"US\"]")
        seen: set[str] = set()
        for i, country in enumerate(self.certification_countries):
            _country(country, f"certification_countries[{i}]")
            if country in seen:
                raise InvalidSetting(f"certification_countries[{i}]", f"{{key}} repeats '{country}'")
            seen.add(country)
        for country, prefix in self.certification_prefixes.items():
            key = f"certification_prefixes.{country}"
            _country(country, key)
            if len(prefix) > _MAX_PREFIX or any(ord(ch) < 32 for ch in prefix):
                raise InvalidSetting(key, f"{{key}} must be a short text (at most {_MAX_PREFIX} characters, "
                                          f"no control characters), got {prefix!r}")
