"""Words and tables for people: the scan report and the per-movie status table.

Kept apart from the CLI so the Dagster assets can show the same text in their metadata.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

import polars as pl

from metarr_pipeline.artwork.sets import CollectionsReport
from metarr_pipeline.models import StreamDetails
from metarr_pipeline.providers.fetch import FetchReport
from metarr_pipeline.scan.scan import ScanReport
from metarr_pipeline.store import MovieRecord, PublishState


def streams_summary(details: StreamDetails | None) -> str:
    """One line: ``h264 320x134 2.39 hdr10 · 2 audio (ac3 6ch eng, aac 2ch eng) · 3 subs (eng, fre, fre forced)``."""
    if details is None:
        return "not probed"
    parts = []
    if details.video:
        v = details.video
        video = f"{v.codec} {v.width}x{v.height} {v.aspect:.2f}"
        if v.hdr_type:
            video += f" {v.hdr_type}"
        parts.append(video)
    else:
        parts.append("no video")
    if details.audio:
        tracks = ", ".join(f"{a.codec} {a.channels}ch{' ' + a.language if a.language else ''}" for a in details.audio)
        parts.append(f"{len(details.audio)} audio ({tracks})")
    if details.subtitles:
        subs = ", ".join(
            (s.language or "und") + (" forced" if s.forced else "") + (" ext" if s.external else "")
            for s in details.subtitles
        )
        parts.append(f"{len(details.subtitles)} subs ({subs})")
    return " · ".join(parts)


def movie_state(movie: MovieRecord) -> str:
    if movie.gone_at is not None:
        return f"gone since {movie.gone_at:%Y-%m-%d}"
    return movie.status


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], max_width: int = 60) -> str:
    """Columns padded by display width, so double-width (CJK) titles line up in a terminal."""
    cells = [[_clip(str(c), max_width) for c in row] for row in rows]
    widths = [display_width(h) for h in headers]
    for row in cells:
        widths = [max(w, display_width(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(out)


def char_width(char: str) -> int:
    """Terminal columns of one character: 2 for wide and full-width (CJK), 0 for combining marks."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        if used + char_width(char) > width - 1:
            break
        out.append(char)
        used += char_width(char)
    return "".join(out) + "…"


def status_table(movies: Sequence[MovieRecord], streams: dict[int, StreamDetails],
                 publish: dict[int, PublishState] | None = None, stale: dict[str, list[str]] | None = None) -> str:
    """One row per movie: key, state (scan, publish, staleness), identity, streams."""
    publish = publish or {}
    stale_enrich = set((stale or {}).get("enrich", []))
    stale_publish = set((stale or {}).get("publish", []))
    rows = []
    for m in movies:
        identity = f"tmdb {m.tmdb_id} ({m.id_source})" if m.status == "identified" else (m.reason or "-")
        if m.status == "identified" and m.imdb_id:
            identity += f" {m.imdb_id}"
        name = m.partition_key or m.folder.rsplit("/", 1)[-1]
        detail = streams_summary(streams.get(m.id)) if m.id in streams else (m.probe_error or "not probed")
        if m.probe_error:
            detail = f"probe failed: {m.probe_error}"
        state = movie_state(m)
        pub = publish.get(m.id or -1)
        if m.status == "identified" and m.gone_at is None and pub is not None and pub.enriched:
            state = "enriched, " + pub.state
            if m.partition_key in stale_enrich or m.partition_key in stale_publish:
                state += ", stale"
            if m.manual:
                state += ", manual"
        rows.append((name, state, identity, detail))
    return table(("movie", "state", "identity", "streams"), rows, max_width=90)


def scan_text(report: ScanReport) -> str:
    s = report.summary()
    lines = [
        f"Scanned in {s['seconds']:.2f}s: {s['found']} folders, {s['identified']} identified, "
        f"{s['unidentified']} unidentified, {s['invalid']} invalid, {s['probe_failures']} probe failures.",
        f"Probed {s['probed']} video files ({s['probe_cache_hits']} unchanged, not re-probed); "
        f"{s['new']} new, {s['moved']} moved, {s['changed']} changed, {s['returned']} returned, {s['gone']} gone.",
    ]
    if report.unreadable_roots:
        lines.append("Library roots left untouched (unreadable or unmounted): " + ", ".join(report.unreadable_roots))
    problems = report.problems()
    if problems:
        lines.append("")
        lines.append("Needs attention:")
        lines += [f"  {folder}\n    {reason}" for folder, reason in problems]
    warned = [o for o in report.outcomes if o.warnings]
    if warned:
        lines.append("")
        lines.append("Warnings:")
        for o in warned:
            lines += [f"  {o.folder}"] + [f"    {w}" for w in o.warnings]
    return "\n".join(lines)


def fetch_text(report: FetchReport) -> str:
    s = report.summary()
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(report.requests.get("by_kind", {}).items()))
    lines = [
        f"Provider metadata for {s['movies']} movies in {s['seconds']:.2f}s: {s['fetched']} fetched, "
        f"{s['cached']} from cache, {s['failed']} failed, {s['metadata_changed']} changed.",
        f"Requests: {s['requests']} ({kinds}), {s['cache_hits']} cache hits, {s['retries']} retries, "
        f"{s['rate_limited']} rate-limited.",
    ]
    if report.ratings is not None and report.ratings.found:
        rated = ", ".join(f"{k} {v}" for k, v in report.ratings.found.items())
        lines.append(f"Ratings: movies rated by {rated}; {report.ratings.updated} changed.")
        lines += [f"  {note}" for note in report.ratings.notes]
    if report.failures:
        lines += ["", "Failed:"] + [f"  {o.partition_key}: {o.error}" for o in report.failures]
    warned = [o for o in report.outcomes if o.warnings]
    if warned:
        lines += ["", "Warnings:"] + [f"  {o.partition_key}: {w}" for o in warned for w in o.warnings]
    return "\n".join(lines)


def enrich_text(report: object) -> str:
    from metarr_pipeline.artwork.enrich import EnrichReport

    assert isinstance(report, EnrichReport)
    s = report.summary()
    lines = [
        f"Enriched {s['movies']} movies in {s['seconds']:.2f}s: {s['enriched']} changed, {s['unchanged']} unchanged, "
        + (f"{s['kept']} kept their last good result, " if s.get("kept") else "")
        + f"{s['failed']} failed; {s['selection_changed']} with a new selection.",
        f"Candidates {s['candidates']}: {s['previews_analysed']} renditions analysed, {s['previews_cached']} from "
        f"cache; originals {s['originals_downloaded']} downloaded, {s['originals_reused']} reused"
        + (f", {s['originals_deferred']} left for publish" if s.get("originals_deferred") else "") + "; headshots "
        f"{s['headshots_downloaded']} downloaded, {s['headshots_reused']} reused; "
        f"{s['bytes_downloaded'] / 1e6:.1f} MB in {s['requests']} requests.",
    ]
    for m in report.movies:
        if m.status == "failed":
            lines.append(f"  {m.partition_key}: FAILED {m.error}")
            continue
        if m.status == "kept":
            lines += [f"  {m.partition_key}: {w}" for w in m.warnings]
            continue
        chosen = ", ".join(f"{c.type}{c.rank if c.rank > 1 else ''} {c.score:.0f}" for c in m.chosen if c.rank == 1)
        lines.append(f"  {m.partition_key}: {len(m.chosen)} images ({chosen}); {len(m.duplicates)} duplicates "
                     f"dropped; {m.actors} actors")
    return "\n".join(lines)


def art_filtered(frame: pl.DataFrame, *, kind: str | None = None, everything: bool = False) -> pl.DataFrame:
    """The candidates ``metarr art list`` shows: one type or all, the top 5 per type (and the chosen) or all."""
    if not frame.height:
        return frame
    if kind:
        frame = frame.filter(pl.col("type") == kind)
    if not everything:
        frame = frame.filter((pl.col("rank") <= 5) | pl.col("selected_rank").is_not_null())
    return frame.sort(["type", "rank"])


def art_text(frame: pl.DataFrame, *, kind: str | None = None, everything: bool = False) -> str:
    if not frame.height:
        return "No candidates yet: run 'metarr enrich' first."
    frame = art_filtered(frame, kind=kind, everything=everything)
    if not frame.height:
        return f"No {kind} candidates." if kind else "No candidates."
    rows = []
    for r in frame.sort(["type", "rank"]).iter_rows(named=True):
        rows.append((r["type"], str(r["rank"]), r["candidate_id"], r["provider"], r["language"] or "textless",
                     f"{r['width']}x{r['height']}", f"{r['score']:.1f}",
                     " ".join(f"{p[:3]}={r[f's_{p}']:.2f}" for p in ("resolution", "aspect", "language", "community",
                                                                    "provider")),
                     f"#{r['selected_rank']}" if r["selected_rank"] is not None else "",
                     r["gate"] or ""))
    return table(("type", "rank", "candidate", "from", "lang", "size", "score", "parts", "chosen", "gate"), rows,
                 max_width=70)


def publish_text(report: object) -> str:
    from metarr_pipeline.publish.publish import PublishReport

    assert isinstance(report, PublishReport)
    s = report.summary()
    lines = [f"Published {s['published']} of {s['movies']} movies in {s['seconds']:.2f}s: {s['files_written']} files "
             f"written, {s['files_unchanged']} unchanged, {s['files_removed']} removed, {s['failed']} failed; "
             f"{s['reclaimed_blobs']} cached images reclaimed ({s['reclaimed_bytes'] / 1e6:.1f} MB)."]
    for m in report.movies:
        if m.status == "failed":
            lines.append(f"  {m.partition_key}: FAILED {m.error}")
        elif m.written or m.removed or m.warnings:
            lines.append(f"  {m.partition_key}: {len(m.written)} written, {len(m.removed)} removed")
        for w in m.warnings:
            lines.append(f"    warning: {w}")
    sets = report.movie_sets
    if sets is not None:
        lines.append(f"Movie sets in {sets.folder}: {sets.sets} sets, {len(sets.written)} files written, "
                     f"{len(sets.removed)} removed.")
        lines += [f"  {problem}" for problem in sets.problems]
    return "\n".join(lines)


def sets_text(report: CollectionsReport) -> str:
    """The sets' artwork run in a few lines: counts, then each set that failed or chose new art."""
    s = report.summary()
    lines = [f"Movie sets' artwork: {s['sets']} sets, {s['enriched']} enriched, {s['unchanged']} unchanged, "
             f"{s['kept']} kept, {s['failed']} failed; {s['requests']} requests."]
    for movie_set in report.sets:
        if movie_set.status == "failed":
            lines.append(f"  {movie_set.partition_key}: FAILED {movie_set.error}")
        elif movie_set.status == "enriched":
            lines.append(f"  {movie_set.partition_key}: " + ", ".join(
                f"{a.type} ({a.provider}, {a.width}x{a.height})" for a in movie_set.chosen))
        lines += [f"    warning: {w}" for w in movie_set.warnings]
    return "\n".join(lines)
