"""Certifications: every country's, kept; the one the NFO shows, chosen along the user's country ladder.

TMDB's ``release_dates`` lists, per country, every release (premiere, theatrical, digital...) each with its own
certification, often empty. We keep one certification per country (the first non-empty one in order of
release type preference), so a change of the user's ladder needs no new request.

Kodi's TMDB scraper (``metadata.themoviedb.org.python``) reads one country (its ``tmdbcertcountry`` setting,
``us`` by default), leaves ``<mpaa>`` empty when that country has none (the scraper's issue #251), and puts one
user-set prefix in front of whatever it found (``certprefix``, default ``"Rated "``, for every country). We
walk a ladder instead, so a film without a rating in the first country still gets the next country's, and
the prefix is per country: ``"Rated "`` for the US (the scraper's default, what skins' rating flags match),
``"<country>:"`` for the others (the ``UK:15`` / ``DE:12`` form Kodi users know from IMDb-era NFOs; the
United Kingdom is ``UK`` there, not ``GB``), each overridable in ``[metadata.certification_prefixes]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Release types in order of preference: theatrical, limited, premiere, digital, physical, TV
# (TMDB release types 3, 2, 1, 4, 5, 6).
RELEASE_PREFERENCE = (3, 2, 1, 4, 5, 6)
US_PREFIX = "Rated "
# Countries whose usual NFO label is not their ISO 3166-1 code.
_LABELS = {"GB": "UK"}


def _preferred(dates: Sequence[Mapping[str, Any]]) -> str:
    rated = [d for d in dates if isinstance(d, Mapping) and str(d.get("certification") or "").strip()]
    rated.sort(key=lambda d: (RELEASE_PREFERENCE.index(d.get("type")) if d.get("type") in RELEASE_PREFERENCE
                              else len(RELEASE_PREFERENCE), str(d.get("release_date") or "")))
    return str(rated[0]["certification"]).strip() if rated else ""


def release_certifications(release_dates: Mapping[str, Any] | None) -> dict[str, str]:
    """Country (ISO 3166-1, upper case) → its preferred certification, for every country that has one."""
    out: dict[str, str] = {}
    for entry in (release_dates or {}).get("results") or []:
        if not isinstance(entry, Mapping):
            continue
        country = str(entry.get("iso_3166_1") or "").strip().upper()
        certification = _preferred(entry.get("release_dates") or [])
        if country and certification and country not in out:
            out[country] = certification
    return dict(sorted(out.items()))


def us_certification(release_dates: Mapping[str, Any] | None) -> str:
    return release_certifications(release_dates).get("US", "")


def default_prefix(country: str) -> str:
    return US_PREFIX if country == "US" else f"{_LABELS.get(country, country)}:"


def on_ladder(certifications: Mapping[str, str], ladder: Sequence[str],
              prefixes: Mapping[str, str] | None = None) -> str:
    """The first certification along ``ladder``, in the form that country's Kodi users expect; "" if none.

    ``prefixes`` overrides :func:`default_prefix` per country (``{"DE": "FSK "}`` gives ``FSK 12``).
    """
    for country in ladder:
        value = str(certifications.get(country) or "").strip()
        if value:
            prefix = (prefixes or {}).get(country, default_prefix(country))
            return value if value.startswith(prefix) else prefix + value
    return ""
