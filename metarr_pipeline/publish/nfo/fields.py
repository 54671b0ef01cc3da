"""The movie's own fields that need more than one element per value: the certification and the set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from metarr_pipeline.metadata.certifications import on_ladder
from metarr_pipeline.publish.nfo.values import clean_xml_text, sub

RATED = "Rated "


def kodi_mpaa(value: str) -> str:
    """The certification as Kodi's own TMDB scraper stores a US one: ``"R"`` → ``"Rated R"``.

    Skins map "Rated R" to the rating flag; a bare "R" shows as text only. Values already in a scraper's
    form ("Rated PG-13", or a country-prefixed "FR:12" / "UK:15") are kept as they are.
    """
    value = clean_xml_text(value).strip()
    if not value or value.startswith(RATED) or ":" in value:
        return value
    return RATED + value


def nfo_certification(fields: Mapping[str, Any], mpaa_locked: bool, ladder: Sequence[str],
                      prefixes: Mapping[str, str]) -> str:
    """What ``<mpaa>`` shows: the user's own certification when they locked it; else the first country on the
    ladder that has one (never empty while any has); else the stored ``mpaa`` (an NFO's, or older data)."""
    if not mpaa_locked:
        certifications = fields.get("certifications")
        chosen = on_ladder(certifications if isinstance(certifications, Mapping) else {}, ladder, prefixes)
        if chosen:
            return clean_xml_text(chosen).strip()
    return kodi_mpaa(str(fields.get("mpaa") or ""))


def movie_set(movie: etree._Element, name: object, overview: object, collection_id: object = None) -> None:
    """``<set tmdbcolid="…"><name/><overview/></set>``, Kodi's current form (a bare ``<set>name</set>`` is the
    old one); ``tmdbcolid`` is TMDB's collection id, which Jellyfin groups sets by (Kodi ignores it)."""
    name_text = clean_xml_text(str(name or "")).strip()
    if name_text:
        attrib = {"tmdbcolid": str(collection_id)} if isinstance(collection_id, int) and collection_id > 0 else {}
        el = etree.SubElement(movie, "set", attrib)
        sub(el, "name", name_text)
        sub(el, "overview", overview)
