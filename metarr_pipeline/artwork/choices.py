"""The user's artwork levers: pick, reject, lock and unlock, by partition key.

Shared by the CLI (``metarr art ...``) and the Dagster run config, so both speak the same
``movie-key:type[:candidate]`` language and validate it the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from metarr_pipeline.art_types import ART_TYPE_NAMES
from metarr_pipeline.errors import MetarrError
from metarr_pipeline.store import Store


class ChoiceError(MetarrError):
    """A pick/reject/lock names a movie, type or candidate that does not exist."""


def record(store: Store, partition_key: str, kind: str, candidate_id: str | None, action: str) -> None:
    if kind not in ART_TYPE_NAMES:
        raise ChoiceError(f"unknown artwork type '{kind}' (known: {', '.join(ART_TYPE_NAMES)})")
    movie = store.movie_by_partition(partition_key)
    if movie is None or movie.id is None:
        raise ChoiceError(f"no movie with partition key '{partition_key}'")
    if action in ("pick", "reject"):
        frame = store.artwork_candidates([movie.id])
        known = set(frame.filter(frame["type"] == kind)["candidate_id"].to_list()) if frame.height else set()
        if candidate_id not in known:
            raise ChoiceError(f"{partition_key}: no {kind} candidate '{candidate_id}' (see 'metarr art list')")
    store.record_choice(movie.id, kind, candidate_id, action)


def apply_choices(store: Store, *, picks: Sequence[str] = (), rejects: Sequence[str] = (),
                  locks: Sequence[str] = (), unlocks: Sequence[str] = ()) -> int:
    done = 0
    for entries, action, parts in ((picks, "pick", 3), (rejects, "reject", 3), (locks, "lock", 2),
                                   (unlocks, "unlock", 2)):
        for entry in entries:
            fields = entry.split(":")
            if len(fields) != parts:
                shape = "movie-key:type:candidate-id" if parts == 3 else "movie-key:type"
                raise ChoiceError(f"{action} '{entry}': expected '{shape}'")
            record(store, fields[0], fields[1], fields[2] if parts == 3 else None, action)
            done += 1
    return done
