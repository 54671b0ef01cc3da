"""Per-movie checks of what was published, for the publish asset's checks and for `metarr status`.

- ``nfo``: the NFO we wrote is there, is well-formed XML (strict parser), and says the same title and TMDB id as
  the state database.
- ``files``: every file we recorded is present with the size we wrote (a file deleted or truncated behind our
  back shows up here, and the next publish restores it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from metarr_pipeline.publish.nfo import read_back
from metarr_pipeline.store import Store


def check_published(store: Store, partition_keys: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """check name → [(movie key, problem)] for the given movies (only movies that were published)."""
    movies = [m for m in store.movies(partition_keys=partition_keys) if m.id is not None]
    files = store.library_files([m.id for m in movies if m.id is not None])
    metadata = store.movie_metadata([m.id for m in movies if m.id is not None])
    problems: dict[str, list[tuple[str, str]]] = {"nfo": [], "files": []}
    for m in movies:
        records = files.get(m.id or -1)
        if not records:
            continue
        key = m.partition_key or m.folder
        folder = Path(m.folder)
        for path, record in sorted(records.items()):
            target = folder / path
            if not target.is_file():
                problems["files"].append((key, f"{path}: missing"))
            elif record.bytes and target.stat().st_size != record.bytes:
                problems["files"].append((key, f"{path}: size changed"))
        nfo = next((p for p, r in records.items() if r.role == "nfo"), None)
        if nfo is None:
            problems["nfo"].append((key, "no NFO recorded"))
            continue
        try:
            data = read_back((folder / nfo).read_bytes())
        except (OSError, ValueError) as exc:
            problems["nfo"].append((key, f"{nfo}: unreadable ({exc})"))
            continue
        fields = metadata[m.id].fields() if m.id in metadata else {}
        if str(data.get("uniqueids", {}).get("tmdb", "")) != str(fields.get("tmdb_id", "")):
            problems["nfo"].append((key, f"{nfo}: TMDB id differs from the database"))
        if data.get("title", "") != fields.get("title", ""):
            problems["nfo"].append((key, f"{nfo}: title differs from the database"))
    return problems
