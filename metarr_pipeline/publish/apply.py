"""Carrying out a prepared plan: write what differs, remove what is ours and no longer wanted.

Each file is written atomically (:mod:`writer`) unless its bytes are already right, so its mtime is untouched and
players see no change. A movie's files are written all or nothing, as far as a file system allows: the space they
need is checked first, every temp file is written, and only then are they renamed into place. A file we wrote
before that is no longer planned is removed only if it still holds our bytes: one the user changed since is kept
and no longer managed. The final file rows are returned only when they differ from what is recorded, so an
unchanged movie costs no store write.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from metarr_pipeline.publish.confine import is_symlink
from metarr_pipeline.publish.context import PublishContext
from metarr_pipeline.publish.plan import is_kept
from metarr_pipeline.publish.prepare import Prepared
from metarr_pipeline.publish.report import PublishError
from metarr_pipeline.publish.writer import commit_file, discard, sha256_file, stage_file, sync_folders
from metarr_pipeline.store import LibraryFileRow

_RECORD_FIELDS = ("path", "role", "sha256", "bytes", "mtime_ns", "written_at")
_BLOCK = 4096  # per file: its last block and metadata, so "just enough" space is not counted as enough


def apply_plan(prepared: Prepared, ctx: PublishContext) -> list[dict[str, Any]] | None:
    """Write, remove what is ours and no longer wanted; the final rows, or None when they are as recorded."""
    final = _write_planned(prepared, ctx) + _remove_unplanned(prepared)
    if {r["path"]: _record_key(r) for r in final} != {p: _stored_key(r) for p, r in prepared.ours.items()}:
        return final
    return None


def _write_planned(prepared: Prepared, ctx: PublishContext) -> list[dict[str, Any]]:
    result, folder, ours, to_write = prepared.result, prepared.folder, prepared.ours, prepared.to_write
    _write_all_or_nothing(folder, [(folder / item.path, to_write[item.path])
                                   for item in prepared.plan if item.path in to_write])
    final: list[dict[str, Any]] = []
    for item in prepared.plan:
        target = folder / item.path
        if item.path in to_write:
            result.written.append(item.path)
        else:
            result.unchanged.append(item.path)
        st = target.stat()
        row = {"path": item.path, "role": item.role, "sha256": item.sha256, "bytes": st.st_size,
               "mtime_ns": st.st_mtime_ns, "written_at": ctx.now}
        before = ours.get(item.path)
        if before is not None and _stored_key(before) == _record_key(row):
            row["written_at"] = before.written_at  # the same file as recorded: keep when it was written
        final.append(row)
        if item.role == "nfo":
            result.nfo_sha256 = item.sha256
    to_write.clear()  # the bytes are on disk: free them before the chunk's other movies
    return final


def _write_all_or_nothing(folder: Path, files: list[tuple[Path, bytes]]) -> None:
    """As close to all-or-nothing as a file system allows: check the space, stage every temp file, then rename
    them all. A failure before the renames (no space, a read-only subfolder) leaves every old file untouched."""
    if not files:
        return
    need = sum(len(data) + _BLOCK for _, data in files)  # temp and old file coexist until the rename
    free = shutil.disk_usage(folder).free
    if need > free:
        raise PublishError(f"needs {_mb(need)} for its {len(files)} new file(s) and only {_mb(free)} is free on "
                           "the library volume: nothing written")
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in files:
            staged.append((stage_file(target, data), target))
    except BaseException:
        discard([tmp for tmp, _ in staged])
        raise
    done: list[Path] = []
    try:
        for i, (tmp, target) in enumerate(staged):
            try:
                commit_file(tmp, target, sync_folder=False)
            except BaseException:
                discard([t for t, _ in staged[i + 1:]])
                raise
            done.append(target)
    finally:
        sync_folders(done)  # each folder once, not once per file: ~22 files a movie share one or two folders


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _remove_unplanned(prepared: Prepared) -> list[dict[str, Any]]:
    """Remove files we wrote before that are no longer planned; the rows of those kept for now."""
    result, folder = prepared.result, prepared.folder
    planned = {p.path for p in prepared.plan}
    kept: list[dict[str, Any]] = []
    for path, record in sorted(prepared.ours.items()):
        if path in planned:
            continue
        target = folder / path
        if is_symlink(target):  # the user replaced our file with a link: theirs now, never removed
            if not any(f"'{path}'" in w for w in result.warnings):
                result.warnings.append(f"'{path}' is now a symlink (the user's): kept, and no longer managed")
            continue
        if not target.is_file():
            continue
        if is_kept(path, prepared.keep):
            kept.append({k: getattr(record, k) for k in _RECORD_FIELDS})
            continue  # its new original could not be fetched: the earlier file stays until it can
        if sha256_file(target) != record.sha256:
            result.warnings.append(f"'{path}' was changed since we wrote it: kept, and no longer managed")
            continue
        target.unlink()
        result.removed.append(path)
    return kept


def _record_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["role"], row["sha256"], row["bytes"], row["mtime_ns"]


def _stored_key(record: LibraryFileRow) -> tuple[Any, ...]:
    """:func:`_record_key` of a recorded file."""
    return record.role, record.sha256, record.bytes, record.mtime_ns
