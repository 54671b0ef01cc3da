"""Ratings and unique ids: exactly one default of each, or Kodi picks one itself.

Kodi's ``imdbnumber`` is the default ``<uniqueid>`` (empty without one); TMDB is the default when known, since
it is what the pipeline identifies by and what Kodi's own scraper uses.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from metarr_pipeline.publish.nfo.values import clean_xml_text, decimal, finite, integer, number, sub


def ratings(movie: etree._Element, value: object, default: str = "themoviedb") -> None:
    """Every source's ``<rating>``; ``default`` (the config's) is Kodi's default when the movie has it, else
    TMDB's (our scraper's), else the first."""
    rows = []
    for name, rating in (value.items() if isinstance(value, Mapping) else ()):
        source = clean_xml_text(str(name)).strip()
        score = finite(rating.get("value")) if isinstance(rating, Mapping) else None
        if source and score is not None:
            rows.append((source, score, rating))
    if not rows:
        return
    # Exactly one default, or Kodi picks one itself.
    names = [source for source, _, _ in rows]
    default = next((n for n in (default, "themoviedb") if n in names), names[0])
    block = etree.SubElement(movie, "ratings")
    for source, score, rating in rows:
        attrib = {"name": source, "max": number(rating.get("max")) or "10"}
        if source == default:
            attrib["default"] = "true"
        el = etree.SubElement(block, "rating", attrib)
        sub(el, "value", decimal(score))
        sub(el, "votes", integer(finite(rating.get("votes"))))


def uniqueids(movie: etree._Element, tmdb_id: object, imdb_id: object) -> None:
    """TMDB is the default when known: it is what the pipeline identifies by, and Kodi's imdbnumber."""
    tmdb = clean_xml_text(str(tmdb_id)).strip() if tmdb_id not in (None, "") else ""
    imdb = clean_xml_text(str(imdb_id)).strip() if imdb_id else ""
    if tmdb:
        sub(movie, "uniqueid", tmdb, {"type": "tmdb", "default": "true"})
    if imdb:
        sub(movie, "uniqueid", imdb, {"type": "imdb", "default": "true"} if not tmdb else {"type": "imdb"})
