"""One movie as the review page shows it: every candidate per artwork type, why it ranks where it does, the file
name a winner will get, the actors, and the NFO fields with what changed since the last publish.

Pure reading: the candidate rows, choices and locks come from the store exactly as enrichment wrote them, the
file names from :mod:`metarr_pipeline.publish.naming` (the names publishing will really use), the published NFO
from the movie folder through the publish stage's strict reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metarr_pipeline.art_types import ART_TYPE_NAMES
from metarr_pipeline.artwork.scoring import PARTS
from metarr_pipeline.config import Settings
from metarr_pipeline.publish import naming
from metarr_pipeline.publish.nfo import read_back
from metarr_pipeline.store import ActorRow, MovieRecord, Store

NFO_FIELDS = ("title", "originaltitle", "year", "premiered", "runtime", "mpaa", "tagline", "plot", "ratings",
              "genres", "directors", "writers", "studios", "countries", "set_name")


@dataclass
class Candidate:
    """One image offered for one artwork type, with the numbers that placed it."""

    type: str
    candidate_id: str
    provider: str
    language: str
    width: int | None
    height: int | None
    score: float
    parts: list[tuple[str, float, float]]  # (part, 0..1 value, points it earned = value × weight)
    rank: int | None
    gate: str
    duplicate_of: str | None
    selected_rank: int | None
    file_name: str
    picked: bool = False
    rejected: bool = False
    duplicates: list[Candidate] = field(default_factory=list)


@dataclass
class ArtType:
    name: str
    wanted: int
    locked: bool
    candidates: list[Candidate]  # eligible and gated, best first; duplicates hang under what they duplicate

    @property
    def chosen(self) -> list[Candidate]:
        return sorted((c for c in self.candidates if c.selected_rank), key=lambda c: c.selected_rank or 0)


@dataclass
class NfoField:
    name: str
    value: str
    published: str | None  # None: nothing published yet

    @property
    def changed(self) -> bool:
        return self.published is not None and self.published != self.value


@dataclass
class MovieView:
    movie: MovieRecord
    types: list[ArtType]
    actors: list[ActorRow]
    nfo: list[NfoField]
    nfo_published: bool
    nfo_error: str = ""


def movie_view(settings: Settings, store: Store, movie: MovieRecord) -> MovieView:
    assert movie.id is not None
    frame = store.artwork_candidates([movie.id])
    choices, locks = store.artwork_choices([movie.id])
    picked = {(c[1], c[2]) for c in choices if c[3] == "pick"}
    rejected = {(c[1], c[2]) for c in choices if c[3] == "reject"}
    locked = {lk[1] for lk in locks}
    exts = store.blob_exts([s for s in frame["blob_sha"].to_list() if s]) if frame.height else {}
    weights = settings.scoring.weights
    by_type: dict[str, list[Candidate]] = {}
    for row in frame.iter_rows(named=True):
        ext = exts.get(row["blob_sha"] or "") or _ext_of(row["url"])
        name = naming.artwork_path(movie.kind, movie.basename or "", row["type"], row["selected_rank"], ext) \
            if row["selected_rank"] else ""
        by_type.setdefault(row["type"], []).append(Candidate(
            type=row["type"], candidate_id=row["candidate_id"], provider=row["provider"],
            language=row["language"], width=row["width"], height=row["height"], score=row["score"] or 0.0,
            parts=[(p, row[f"s_{p}"] or 0.0, (row[f"s_{p}"] or 0.0) * float(weights.get(p, 0.0))) for p in PARTS],
            rank=row["rank"], gate=row["gate"], duplicate_of=row["duplicate_of"],
            selected_rank=row["selected_rank"], file_name=name,
            picked=(row["type"], row["candidate_id"]) in picked,
            rejected=(row["type"], row["candidate_id"]) in rejected))
    counts = settings.artwork.counts
    types = [ArtType(kind, int(counts.get(kind, 0)), kind in locked, _grouped(by_type[kind]))
             for kind in ART_TYPE_NAMES if kind in by_type]
    actors = store.movie_actors([movie.id]).get(movie.id, [])
    nfo, published, error = nfo_fields(store, movie)
    return MovieView(movie, types, actors, nfo, published, error)


def _grouped(candidates: list[Candidate]) -> list[Candidate]:
    """The chosen ones first (in file-name order), then best first; a duplicate goes under the candidate it
    duplicates (or stays in the list if that one is gone)."""
    ordered = sorted(candidates, key=lambda c: (c.selected_rank is None, c.selected_rank or 0, c.rank is None,
                                                c.rank or 0, c.candidate_id))
    top = {c.candidate_id: c for c in ordered if not c.duplicate_of}
    out = []
    for c in ordered:
        parent = top.get(c.duplicate_of or "")
        if parent is not None:
            parent.duplicates.append(c)
        else:
            out.append(c)
    return out


def _ext_of(url: str) -> str:
    ext = url.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    return "jpg" if ext in ("jpeg", "") else ext


def nfo_fields(store: Store, movie: MovieRecord) -> tuple[list[NfoField], bool, str]:
    """The NFO fields publishing will write (the merged metadata), beside what the published NFO says."""
    assert movie.id is not None
    meta = store.movie_metadata([movie.id]).get(movie.id)
    current = meta.fields() if meta else {}
    published: dict[str, Any] | None = None
    error = ""
    files = store.library_files([movie.id]).get(movie.id, {})
    nfo_rel = next((path for path, row in files.items() if row.role == "nfo"), None)
    if nfo_rel is not None:
        try:
            published = read_back((Path(movie.folder) / nfo_rel).read_bytes())
        except (OSError, ValueError) as exc:
            error = f"published NFO {nfo_rel} not readable: {exc}"
    rows = []
    for name in NFO_FIELDS:
        value = _text(current.get(name))
        before = None if published is None else _text(published.get(name))
        if value or before:
            rows.append(NfoField(name, value, before))
    return rows, published is not None, error


def _text(value: Any) -> str:
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):  # ratings: name → {value, votes, max}
        return "; ".join(f"{k} {_number(v.get('value'))}/{_number(v.get('max', 10))} ({v.get('votes', 0)} votes)"
                         for k, v in sorted(value.items()) if isinstance(v, dict))
    return str(value)


def _number(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:g}" if number.is_integer() else f"{number:.1f}"
