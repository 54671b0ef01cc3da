"""``<actor>`` elements, in the provider's billing order, with the headshot URL for players that want one."""

from __future__ import annotations

from lxml import etree

from metarr_pipeline.publish.nfo.model import NfoActor
from metarr_pipeline.publish.nfo.values import clean_xml_text, sub


def actor(movie: etree._Element, person: NfoActor) -> None:
    name = clean_xml_text(person.name).strip()
    if not name:
        return  # Kodi drops a nameless actor anyway
    el = etree.SubElement(movie, "actor")
    sub(el, "name", name)
    sub(el, "role", person.role)
    sub(el, "order", int(person.order))
    sub(el, "thumb", person.thumb)
