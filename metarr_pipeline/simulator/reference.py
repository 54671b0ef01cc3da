"""Fixed reference tables the fake providers share with the real ones: TMDB's genre ids, country and
language names. Real values, so a client's mapping tables can be tested against the simulator.
"""

from __future__ import annotations

from metarr_pipeline.simulator.entries import Genre

GENRES: dict[str, Genre] = {g.name: g for g in (
    Genre(28, "Action"), Genre(12, "Adventure"), Genre(16, "Animation"), Genre(35, "Comedy"), Genre(80, "Crime"),
    Genre(99, "Documentary"), Genre(18, "Drama"), Genre(10751, "Family"), Genre(14, "Fantasy"),
    Genre(36, "History"), Genre(27, "Horror"), Genre(10402, "Music"), Genre(9648, "Mystery"),
    Genre(10749, "Romance"), Genre(878, "Science Fiction"), Genre(10770, "TV Movie"), Genre(53, "Thriller"),
    Genre(10752, "War"), Genre(37, "Western"),
)}

COUNTRIES: dict[str, str] = {
    "US": "United States of America", "FR": "France", "DE": "Germany", "GB": "United Kingdom", "JP": "Japan",
    "KR": "South Korea", "ES": "Spain", "CA": "Canada", "CN": "China", "TW": "Taiwan", "IT": "Italy",
}

# ISO 639-1 → (English name, native name), as TMDB's spoken_languages write them
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "English"), "fr": ("French", "Français"), "de": ("German", "Deutsch"),
    "ja": ("Japanese", "日本語"), "ko": ("Korean", "한국어/조선말"), "es": ("Spanish", "Español"),
    "zh": ("Mandarin", "普通话"), "it": ("Italian", "Italiano"), "pt": ("Portuguese", "Português"),
    "ru": ("Russian", "Pусский"),
}

# The country a film in this original language usually comes from.
LANGUAGE_COUNTRY: dict[str, str] = {"en": "US", "fr": "FR", "de": "DE", "ja": "JP", "ko": "KR", "es": "ES",
                                    "zh": "CN", "it": "IT"}

# Plausible certifications per country (TMDB release_dates), "" = none given.
CERTIFICATIONS: dict[str, tuple[str, ...]] = {
    "US": ("G", "PG", "PG-13", "PG-13", "R", "R", "NC-17", "NR"), "GB": ("U", "PG", "12A", "15", "18"),
    "FR": ("U", "12", "16", "18", ""), "DE": ("0", "6", "12", "16", "18"), "JP": ("G", "PG12", "R15+"),
    "KR": ("All", "12", "15", "18"), "ES": ("A", "7", "12", "16", "18"), "CA": ("G", "PG", "14A", "18A"),
    "CN": ("",), "TW": ("",), "IT": ("T", "VM14", "VM18"),
}
