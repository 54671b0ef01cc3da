"""A strict check of a 5-field cron expression, so a bad ``schedule.enrich_cron`` is a configuration error.

Dagster reads the cron when the code location loads; a string it refuses breaks the whole location instead
of naming the key. The domain never imports Dagster (and croniter is not installed), so this is a small
validator for the classic form Dagster accepts: ``minute hour day-of-month month day-of-week``, each field a
comma list of ``*``, ``n`` or ``a-b``, optionally ``/step``, with month and weekday names (``jan``, ``mon``),
plus the ``@daily``-style macros. Extensions some cron dialects add (``?``, ``L``, ``W``, ``#``, ``H``, a
seconds field) are refused rather than guessed at.
"""

from __future__ import annotations

import re

MACROS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (name, low, high, names for low, low + 1, ...)
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),  # 0 and 7 are both Sunday
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ITEM = re.compile(r"(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>[0-9]+))?")


def cron_problem(expression: str) -> str:
    """What is wrong with ``expression``, in words, or "" when it is a valid 5-field cron (or a macro)."""
    if expression.strip().lower() in MACROS:
        return ""
    parts = expression.split()
    if len(parts) != len(_FIELDS):
        return f"it needs 5 fields (minute hour day-of-month month day-of-week), found {len(parts)}"
    values: list[set[int]] = []
    for part, spec in zip(parts, _FIELDS, strict=True):
        expanded = _expand(part, *spec)
        if isinstance(expanded, str):
            return expanded
        values.append(expanded)
    days, months = values[2], values[3]
    # A day no chosen month has is a mistake even when a weekday could still match (Dagster refuses 30 Feb).
    if not any(day <= _DAYS_IN_MONTH[month - 1] for day in days for month in months):
        return "the day of month never occurs in the chosen months"
    return ""


def _expand(part: str, name: str, low: int, high: int, names: tuple[str, ...]) -> set[int] | str:
    found: set[int] = set()
    for item in part.lower().split(","):
        match = _ITEM.fullmatch(item)
        if not match:
            return f"the {name} field '{part}' is not a list of numbers, ranges, '*' or steps"
        if match["range"] == "*":
            start, end = low, high
        else:
            tokens = match["range"].split("-")
            bounds = [_value(token, low, names) for token in tokens]
            for token, bound in zip(tokens, bounds, strict=True):
                if bound is None:
                    kind = "a number or a name like '" + names[0] + "'" if names else "a number"
                    return f"the {name} field '{part}' has '{token}', which is not {kind}"
                if not low <= bound <= high:
                    return f"the {name} field '{part}' is outside {low}..{high}"
            start, end = bounds[0], bounds[-1]  # type: ignore[assignment]
            if start > end:
                return f"the {name} field '{part}' has a range that runs backwards"
            if match["step"] is not None and len(tokens) == 1:
                end = high  # 'n/step' means from n to the end
        step = int(match["step"]) if match["step"] is not None else 1
        if step < 1:
            return f"the {name} field '{part}' has a step of 0"
        found.update(range(start, end + 1, step))
    return found


def _value(token: str, low: int, names: tuple[str, ...]) -> int | None:
    if token.isdigit():
        return int(token)
    if token in names:
        return low + names.index(token)  # jan = 1, sun = 0
    return None
