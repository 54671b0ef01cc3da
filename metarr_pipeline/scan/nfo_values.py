"""Values in a user's NFO, parsed defensively: a number or date we cannot trust is ignored with a warning.

An NFO is text anyone can edit, so a value may be ``nan``, ``inf``, ``1e999``, ``-3``, thirty digits, or
written in digits Python's ``int``/``float`` accept but no player does (``²``, ``١٢``, full-width ``３``).
One such value must never cost the rest of the file (nor the movie's identification), and must never reach
the store or our NFO as a non-finite or out-of-range number. So every numeric and date field goes through
:class:`FieldReader`: ASCII digits only, finite, inside a range that makes sense for the field; anything else
is left out and named in :attr:`FieldReader.warnings` (the scan records them on the movie).
"""

from __future__ import annotations

import logging
import math
import re
from datetime import date, datetime

log = logging.getLogger(__name__)

# ASCII only (re.ASCII): "\d" would also match superscript, Arabic-Indic and full-width digits.
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_REAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2})?)?", re.ASCII)
_MAX_NUMBER_CHARS = 32  # longer than any real value; also keeps int() away from huge digit strings

# The largest TMDB id we accept: TMDB's ids are in the low millions, and the store keeps them as integers.
MAX_TMDB_ID = 2**31 - 1
YEARS = (1870, 2200)


class FieldReader:
    """Parses the values of one NFO and collects a warning for each value it had to ignore."""

    def __init__(self, path: str = "") -> None:
        self.path = path
        self.warnings: list[str] = []

    def ignore(self, field: str, raw: str, why: str) -> None:
        shown = raw if len(raw) <= 40 else raw[:37] + "..."
        message = f"ignored <{field}> {shown!r}: {why}"
        self.warnings.append(message)
        log.warning("NFO %s: %s", self.path or "(unnamed)", message)

    def real(self, raw: str, field: str, low: float, high: float) -> float | None:
        """A finite decimal number in ``[low, high]``, or ``None`` (empty, or ignored with a warning)."""
        text = raw.strip()
        if not text:
            return None
        if text.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            self.ignore(field, text, "not a finite number")
            return None
        if len(text) > _MAX_NUMBER_CHARS or not _REAL.fullmatch(text):
            self.ignore(field, text, "not a number")
            return None
        value = float(text)
        if not math.isfinite(value):
            self.ignore(field, text, "not a finite number")
            return None
        if not low <= value <= high:
            self.ignore(field, text, f"outside {_plain(low)}..{_plain(high)}")
            return None
        return value

    def integer(self, raw: str, field: str, low: int, high: int) -> int | None:
        """A whole number in ``[low, high]`` (``"3.0"`` counts; ``"3.5"`` does not), or ``None``."""
        value = self.real(raw, field, low, high)
        if value is None:
            return None
        if not value.is_integer():
            self.ignore(field, raw.strip(), "not a whole number")
            return None
        return int(value)

    def identifier(self, raw: str, field: str) -> int | None:
        """A positive id in ASCII digits (no sign, no decimals), or ``None``."""
        text = raw.strip()
        if not text:
            return None
        if len(text) > _MAX_NUMBER_CHARS or not text.isascii() or not text.isdigit():
            self.ignore(field, text, "not an id")
            return None
        value = int(text)
        if not 1 <= value <= MAX_TMDB_ID:
            self.ignore(field, text, f"outside 1..{MAX_TMDB_ID}")
            return None
        return value

    def year(self, raw: str, field: str = "year") -> int | None:
        return self.integer(raw, field, *YEARS)

    def day(self, raw: str, field: str) -> str:
        """A calendar date ``YYYY-MM-DD`` (a time after it is dropped), or ``""``."""
        text = raw.strip()
        if not text:
            return ""
        head = text[:10]
        if not _DATE.fullmatch(head) or not _valid_date(head):
            self.ignore(field, text, "not a date (YYYY-MM-DD)")
            return ""
        if not YEARS[0] <= int(head[:4]) <= YEARS[1]:
            self.ignore(field, text, f"year outside {YEARS[0]}..{YEARS[1]}")
            return ""
        return head

    def timestamp(self, raw: str, field: str) -> str:
        """A date with an optional time as Kodi writes it (``2024-12-24 21:03:00``), kept as written."""
        text = raw.strip()
        if not text:
            return ""
        if not _TIMESTAMP.fullmatch(text) or not _valid_timestamp(text):
            self.ignore(field, text, "not a date and time (YYYY-MM-DD HH:MM:SS)")
            return ""
        return text


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _valid_timestamp(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
