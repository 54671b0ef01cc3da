"""XML editing the NFO reader (scan) and writer (publish) share."""

from __future__ import annotations

from lxml import etree


def remove_keeping_tail(el: etree._Element) -> None:
    """Remove ``el`` but keep the text after it (its tail) in the document."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)
