"""Values as element text: only characters XML 1.0 allows, numbers in a stable form, empty values left out.

Kodi's parser is lenient but Jellyfin's, Plex's and ours are not, so every character XML 1.0 forbids is removed
(rather than fail the publish over a stray control character), and an empty value is never written as an empty
element. Numbers are written in their shortest exact form so the same input always gives the same bytes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from lxml import etree

# Everything outside XML 1.0's Char production: C0 controls other than tab/LF/CR, lone surrogates,
# U+FFFE and U+FFFF. lxml refuses such text outright, and a strict reader refuses the file.
FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_xml_text(value: str) -> str:
    """Remove the characters XML 1.0 forbids (rather than fail the publish over a stray control char)."""
    return FORBIDDEN.sub("", value)


def sub(parent: etree._Element, tag: str, value: object, attrib: Mapping[str, str] | None = None) -> None:
    """``<tag>value</tag>`` under ``parent``, cleaned and stripped; nothing at all when the text is empty."""
    text = "" if value is None else clean_xml_text(str(value)).strip()
    if text:
        el = etree.SubElement(parent, tag, {k: clean_xml_text(v) for k, v in (attrib or {}).items()})
        el.text = text


def each(parent: etree._Element, tag: str, values: object) -> None:
    """One element per value: Kodi also splits ``"A / B"``, but Jellyfin and Plex do not."""
    if not isinstance(values, Sequence) or isinstance(values, str):
        values = [values] if isinstance(values, str) else []
    seen: set[str] = set()
    for value in values:
        text = clean_xml_text(str(value)).strip() if value is not None else ""
        if text and text not in seen:
            seen.add(text)
            sub(parent, tag, text)


def integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def number(value: object) -> str | None:
    """Integral numbers without a decimal point (Kodi's userrating is an int), others exactly."""
    n = finite(value)
    if n is None:
        return None
    return str(int(n)) if n.is_integer() else repr(n)


def decimal(value: float) -> str:
    """Python's shortest round-tripping form ("8.2", "8.0", "7.25"): stable and loses nothing."""
    return repr(float(value))
