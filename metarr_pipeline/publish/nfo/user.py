"""What belongs to the user, carried over: the resume point and the foreign tags we do not manage.

Publishing must never cost a watched flag or a custom tag. Foreign tags are written back as the user wrote
them (only cleaned of what XML forbids), after ours; one we cannot write back safely is dropped.
"""

from __future__ import annotations

import re

from lxml import etree

from metarr_pipeline.metadata.xml import remove_keeping_tail
from metarr_pipeline.models import MANAGED_TAGS, UserState
from metarr_pipeline.publish.nfo.values import FORBIDDEN, clean_xml_text, decimal, finite, sub

INDENT = "  "
_XINCLUDE = frozenset({"http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"})
_CHAR_REF = re.compile(r"&#(x[0-9a-fA-F]+|[0-9]+);")


def resume(movie: etree._Element, state: UserState) -> None:
    position = finite(state.resume_position)
    if position is None:
        return
    el = etree.SubElement(movie, "resume")
    sub(el, "position", decimal(position))
    total = finite(state.resume_total)
    if total is not None:
        sub(el, "total", decimal(total))


def foreign_element(xml: str) -> etree._Element | None:
    """One carried-over tag, cleaned; ``None`` for one we cannot write back safely (it is dropped).

    Dropped: text that is not one well-formed element, one that brings a DTD or entity references
    (they would not survive outside their document), an XInclude element, and one named like a tag we manage
    (a second ``<title>``, or an artwork URL in ``<fanart>``, would contradict what we write). Inside a kept
    element, XInclude elements and processing instructions are removed: a reader must never be made to
    fetch or run something by the NFO we write.
    """
    text = _CHAR_REF.sub(_without_forbidden_ref, clean_xml_text(xml)).strip()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        el = etree.fromstring(text.encode("utf-8"), parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if el.getroottree().docinfo.internalDTD is not None or any(isinstance(n, etree._Entity) for n in el.iter()):
        return None
    if not isinstance(el.tag, str) or _is_xinclude(el) or etree.QName(el).localname.lower() in MANAGED_TAGS:
        return None
    for inner in list(el.iter()):
        if inner is not el and (isinstance(inner, etree._ProcessingInstruction) or _is_xinclude(inner)):
            remove_keeping_tail(inner)
    el.tail = None
    return el


def _is_xinclude(el: etree._Element) -> bool:
    return isinstance(el.tag, str) and etree.QName(el).namespace in _XINCLUDE



def layout(movie: etree._Element, foreign: list[etree._Element]) -> None:
    """Indent what we wrote, then append foreign tags untouched (pretty_print would re-indent their
    insides, so a re-scan would read back a different tag than the user wrote)."""
    etree.indent(movie, space=INDENT)
    for el in foreign:
        movie.append(el)
    children = list(movie)
    movie.text = "\n" + INDENT if children else None
    for i, child in enumerate(children):
        child.tail = "\n" + INDENT if i < len(children) - 1 else "\n"


def _without_forbidden_ref(match: re.Match[str]) -> str:
    ref = match.group(1)
    try:
        char = chr(int(ref[1:], 16) if ref.startswith("x") else int(ref))
    except (ValueError, OverflowError):
        return ""
    return "" if FORBIDDEN.match(char) else match.group(0)
