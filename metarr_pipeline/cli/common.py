"""What every command shares: usage errors, movie keys checked against the store, JSON output, progress.

Exit codes (the README's "Exit codes" lists them for users): 0 all done, 1 something failed (any movie, a
player, the state database), 2 the command line or the configuration is wrong (an unknown option, movie key or
artwork type), 130 interrupted, 141 stdout closed early (``metarr scan | head``).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from metarr_pipeline.errors import MetarrError
from metarr_pipeline.store import Store

T = TypeVar("T")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_PIPE = 0, 1, 2, 130, 141


class UsageError(MetarrError):
    """The command line names something that does not exist (a movie key, an artwork type): exit 2."""


def require_keys(store: Store, keys: Sequence[str]) -> list[str]:
    """The keys, each checked to name a movie the state database knows; unknown ones are a usage error."""
    if not keys:
        return []
    known = {m.partition_key for m in store.movies(include_gone=True, partition_keys=list(keys))}
    unknown = [k for k in dict.fromkeys(keys) if k not in known]
    if unknown:
        every = [m.partition_key for m in store.movies(include_gone=True) if m.partition_key]
        hints = [f"'{k}' (did you mean '{close[0]}'?)" if (close := difflib.get_close_matches(k, every, n=1))
                 else f"'{k}'" for k in unknown]
        raise UsageError(f"no movie with partition key {', '.join(hints)}: see 'metarr status' for the keys")
    return list(dict.fromkeys(keys))


def failed_exit(failures: int) -> int:
    """Exit 1 when any movie failed, whatever the others did: a script must be able to trust exit 0."""
    return EXIT_FAILED if failures else EXIT_OK


def jsonable(value: Any) -> Any:
    """Dataclasses, paths, dates, tuples and sets as plain JSON values (dict keys as strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def print_json(value: Any) -> None:
    print(json.dumps(jsonable(value), indent=2, ensure_ascii=False, sort_keys=False))


def say(text: str, *, quiet: bool) -> None:
    """Progress words for people: on stdout normally, on stderr when stdout carries JSON."""
    print(text, file=sys.stderr if quiet else sys.stdout)


def show_progress(json_output: bool = False) -> bool:
    """A progress bar only for a person watching: stdout is a terminal and is not carrying JSON."""
    return not json_output and sys.stdout.isatty()


CHUNK = 25  # movies per step of a progress bar: large enough that batching inside each call still pays


def in_steps(keys: Sequence[str], run: Callable[[list[str]], T], label: str, *, show: bool) -> list[T]:
    """``run`` over ``keys``: in one call, or (with ``show``) in chunks behind a ``rich`` progress bar."""
    if not show or not keys:
        return [run(list(keys))]
    results: list[T] = []
    with _bar(label, len(keys)) as advance:
        for start in range(0, len(keys), CHUNK):
            chunk = list(keys[start:start + CHUNK])
            results.append(run(chunk))
            advance(len(chunk))
    return results


@contextmanager
def _bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


@contextmanager
def spinner(label: str, *, show: bool) -> Iterator[None]:
    """Work that cannot be counted in advance (the scan): a spinner, only on a terminal."""
    if not show:
        yield
        return
    from rich.console import Console

    with Console().status(label):
        yield
