"""The movie's own fields that need more than one element per value: the certification and the set."""

from __future__ import annotations

from lxml import etree

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


def movie_set(movie: etree._Element, name: object, overview: object) -> None:
    """``<set><name/><overview/></set>``, Kodi's current form (a bare ``<set>name</set>`` is the old one)."""
    name_text = clean_xml_text(str(name or "")).strip()
    if name_text:
        el = etree.SubElement(movie, "set")
        sub(el, "name", name_text)
        sub(el, "overview", overview)
