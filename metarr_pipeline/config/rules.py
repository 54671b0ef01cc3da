"""The small vocabulary every settings type states its rules in.

A rule is checked where its value is defined, in the ``__post_init__`` of the frozen type that holds it, so a
settings object that exists is a valid one, whether it came from a file, ``dataclasses.replace`` or a test. The
type knows only its own field names; the loader knows the file and the dotted path of the table it is building,
and adds both (:meth:`InvalidSetting.within`), so every message still names the file and the full key.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from metarr_pipeline.errors import ConfigError


class InvalidSetting(ConfigError):
    """A value broke its type's rule.

    ``template`` writes the key as ``{key}``; the loader widens ``key`` to the dotted key from the top of the
    file and adds the file. A type raising this directly (``replace`` in code) still names its own key.
    """

    def __init__(self, key: str, template: str) -> None:
        self.key = key
        self.template = template
        # str.replace, not str.format: values quoted in the message (a cron, a regex) may contain braces.
        super().__init__(template.replace("{key}", key))

    def within(self, prefix: str) -> InvalidSetting:
        """The same problem, named from ``prefix`` (a table's dotted key, or ``players[2]``)."""
        return InvalidSetting(f"{prefix}.{self.key}" if prefix else self.key, self.template)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``: did you mean 'x'?`` for the closest known name, or nothing when none is close (difflib)."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f": did you mean '{close[0]}'?" if close else ""


def known_names(table: Mapping[str, object], known: Iterable[str], key: str, what: str) -> None:
    """Every key of a table-valued setting (artwork counts, scoring weights) must be one the pipeline reads:
    a mistyped one would otherwise be silently ignored."""
    names = list(known)
    for name in table:
        if name not in names:
            raise InvalidSetting(f"{key}.{name}", f"unknown {what} '{{key}}'{did_you_mean(name, names)} "
                                                  f"(known: {', '.join(names)})")


def _number(value: float, key: str) -> None:
    if not math.isfinite(value):  # TOML allows inf and nan; neither is a setting
        raise InvalidSetting(key, f"{{key}} must be a finite number, got {value}")


def positive(value: float, key: str) -> None:
    """Rates, timeouts, sizes, connection counts: zero would stall or refuse everything."""
    _number(value, key)
    if value <= 0:
        raise InvalidSetting(key, f"{{key}} must be positive, got {value}")


def not_negative(value: float, key: str) -> None:
    """Counts, waits and cache ages where 0 means "none" or "off"."""
    _number(value, key)
    if value < 0:
        raise InvalidSetting(key, f"{{key}} must be 0 or more, got {value}")


def at_least(value: int, minimum: int, key: str) -> None:
    """Workers, attempts and batch sizes: below ``minimum`` nothing would ever run."""
    if value < minimum:
        raise InvalidSetting(key, f"{{key}} must be at least {minimum}, got {value}")


def between(value: float, low: float, high: float, key: str, why: str = "") -> None:
    """A bounded value; ``why`` says what the bounds come from."""
    _number(value, key)
    if not low <= value <= high:
        raise InvalidSetting(key, f"{{key}} must be between {low} and {high}{why}, got {value}")


def http_url(value: str, key: str) -> None:
    """Provider base URLs: http(s) with a host, and a port (if any) in 1..65535."""
    problem = url_problem(value)
    if problem:
        raise InvalidSetting(key, f"{{key}} must be an http:// or https:// URL ({problem}), got '{value}'")


def url_problem(value: str) -> str:
    """Why ``value`` is not a usable http(s) URL, or "" when it is."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "scheme and host"
    try:
        port = parts.port
    except ValueError:
        return "port 1..65535"
    if port is not None and not 1 <= port <= 65535:
        return "port 1..65535"
    return ""
