"""Carrying out a prepared plan: write what differs, remove what is ours and no longer wanted.

Each file is written atomically (:mod:`writer`) unless its bytes are already right, so its mtime is untouched
and players see no change. A file we wrote before that is no longer planned is removed only if it still holds
our bytes: one the user changed since is kept and no longer managed. The final file rows are returned only
when they differ from what is recorded, so an unchanged movie costs no store write.
"""

from __future__ import annotations

from typing import Any

from metarr_pipeline.publish.context import PublishContext
from metarr_pipeline.publish.plan import is_kept
from metarr_pipeline.publish.prepare import Prepared
from metarr_pipeline.publish.writer import sha256_file, write_atomic
from metarr_pipeline.store import LibraryFileRow

_RECORD_FIELDS = ("path", "role", "sha256", "bytes", "mtime_ns", "written_at")


def apply_plan(prepared: Prepared, ctx: PublishContext) -> list[dict[str, Any]] | None:
    """Write, remove what is ours and no longer wanted; the final rows, or None when they are as recorded."""
    final = _write_planned(prepared, ctx) + _remove_unplanned(prepared)
    if {r["path"]: _record_key(r) for r in final} != {p: _stored_key(r) for p, r in prepared.ours.items()}:
        return final
    return None


def _write_planned(prepared: Prepared, ctx: PublishContext) -> list[dict[str, Any]]:
    result, folder, ours, to_write = prepared.result, prepared.folder, prepared.ours, prepared.to_write
    final: list[dict[str, Any]] = []
    for item in prepared.plan:
        target = folder / item.path
        if item.path in to_write:
            write_atomic(target, to_write.pop(item.path))
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
    return final


def _remove_unplanned(prepared: Prepared) -> list[dict[str, Any]]:
    """Remove files we wrote before that are no longer planned; the rows of those kept for now."""
    result, folder = prepared.result, prepared.folder
    planned = {p.path for p in prepared.plan}
    kept: list[dict[str, Any]] = []
    for path, record in sorted(prepared.ours.items()):
        if path in planned:
            continue
        target = folder / path
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
