"""``render_nfo``: the elements in the order of Kodi's own NFO export, each section from its own module.

Following Kodi's export order keeps a diff against an NFO Kodi exported readable. The output is deterministic
(same input, same bytes) so the publish stage can skip files whose bytes are already right.
"""

from __future__ import annotations

from lxml import etree

from metarr_pipeline.publish.nfo.actors import actor
from metarr_pipeline.publish.nfo.fields import kodi_mpaa, movie_set
from metarr_pipeline.publish.nfo.fileinfo import fileinfo
from metarr_pipeline.publish.nfo.ids import ratings, uniqueids
from metarr_pipeline.publish.nfo.model import NfoInput
from metarr_pipeline.publish.nfo.user import foreign_element, layout, resume
from metarr_pipeline.publish.nfo.values import clean_xml_text, each, integer, number, sub

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Top-level elements render_nfo writes; anything else in our own NFO is a carried-over foreign tag.
WRITTEN = frozenset({
    "title", "originaltitle", "sorttitle", "ratings", "userrating", "outline", "plot", "tagline", "runtime",
    "mpaa", "playcount", "lastplayed", "watched", "uniqueid", "genre", "country", "set", "tag", "credits",
    "director", "premiered", "year", "studio", "trailer", "fileinfo", "actor", "resume", "dateadded", "lockdata",
    "lockedfields",
})


def render_nfo(data: NfoInput) -> bytes:
    """The NFO as UTF-8 bytes with a trailing newline; empty values are left out, never written empty."""
    f, state = data.fields, data.user_state
    movie = etree.Element("movie")
    for tag in ("title", "originaltitle", "sorttitle"):
        sub(movie, tag, f.get(tag))
    ratings(movie, f.get("ratings"), data.default_rating)
    sub(movie, "userrating", number(state.userrating))
    for tag in ("outline", "plot", "tagline"):
        sub(movie, tag, f.get(tag))
    sub(movie, "runtime", integer(f.get("runtime")))
    sub(movie, "mpaa", data.mpaa if data.mpaa is not None else kodi_mpaa(str(f.get("mpaa") or "")))
    sub(movie, "playcount", state.playcount)
    sub(movie, "lastplayed", state.lastplayed)
    if state.watched is not None:
        sub(movie, "watched", "true" if state.watched else "false")
    uniqueids(movie, f.get("tmdb_id"), f.get("imdb_id"))
    each(movie, "genre", f.get("genres"))
    each(movie, "country", f.get("countries"))
    movie_set(movie, f.get("set_name"), f.get("set_overview"), f.get("collection_id"))
    each(movie, "tag", f.get("tags"))
    each(movie, "credits", f.get("writers"))
    each(movie, "director", f.get("directors"))
    sub(movie, "premiered", f.get("premiered"))
    sub(movie, "year", integer(f.get("year")))
    each(movie, "studio", f.get("studios"))
    sub(movie, "trailer", data.trailer)
    fileinfo(movie, data.streams)
    for person in data.actors:
        actor(movie, person)
    resume(movie, state)
    sub(movie, "dateadded", state.dateadded or data.dateadded)
    if data.lockdata:
        sub(movie, "lockdata", "true")
    sub(movie, "lockedfields", "|".join(n for n in (clean_xml_text(x).strip() for x in data.locked_fields) if n))
    layout(movie, [el for el in map(foreign_element, data.foreign_tags) if el is not None])
    return XML_DECLARATION + etree.tostring(movie, encoding="UTF-8", xml_declaration=False) + b"\n"
