"""The movie metadata we manage, and how a TMDB response maps onto it.

A plain dict keyed by field name (JSON in the store, easy to diff and to show); :data:`FIELDS` is the
contract. List fields keep provider order and drop duplicates. Values are never ``None`` in a list.
``certifications`` keeps every country's (see :mod:`.certifications`); ``mpaa`` is the US one, or the user's.
"""

from __future__ import annotations

import re
from typing import Any

from metarr_pipeline.metadata.certifications import release_certifications, us_certification
from metarr_pipeline.metadata.trailers import best_trailer

__all__ = ["FIELDS", "LIST_FIELDS", "empty", "from_tmdb", "sort_title", "us_certification"]

# field name → empty value (the type is that of the empty value)
FIELDS: dict[str, Any] = {
    "title": "", "originaltitle": "", "sorttitle": "", "plot": "", "outline": "", "tagline": "",
    "runtime": None, "premiered": "", "year": None, "mpaa": "", "certifications": {}, "ratings": {},
    "genres": [], "studios": [], "countries": [], "tags": [], "directors": [], "writers": [], "set_name": "",
    "set_overview": "", "trailer": "",
    "tmdb_id": None, "imdb_id": "", "collection_id": None,
}
LIST_FIELDS = frozenset(k for k, v in FIELDS.items() if isinstance(v, list))

# Articles moved to the end for the automatic sort title ("The Matrix" → "Matrix, The").
_ARTICLES = re.compile(r"^(the|a|an|le|la|les|l'|der|die|das|el|los|las|il|lo|gli|de|het|een)\s+(.+)$",
                       re.IGNORECASE)
_WRITING_JOBS = ("Screenplay", "Writer", "Author", "Novel", "Story", "Original Story", "Characters")



def empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def sort_title(title: str) -> str:
    m = _ARTICLES.match(title.strip())
    if not m:
        return title.strip()
    article, rest = m.group(1), m.group(2)
    return f"{rest}, {article}"


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))


def from_tmdb(body: dict[str, Any], collection: dict[str, Any] | None = None, language: str = "en") -> dict[str, Any]:
    """Map TMDB's ``/movie/{id}`` (with appended sections) and ``/collection/{id}`` to our fields.

    ``language`` is the one the movie was asked in: the trailer's language ladder starts there."""
    release = body.get("release_date") or ""
    crew = (body.get("credits") or {}).get("crew") or []
    keywords = (body.get("keywords") or {}).get("keywords") or []
    set_info = body.get("belongs_to_collection") or {}
    ratings: dict[str, Any] = {}
    if body.get("vote_count"):
        ratings["themoviedb"] = {"value": round(float(body.get("vote_average") or 0.0), 1),
                                 "votes": int(body["vote_count"]), "max": 10}
    imdb = body.get("imdb_id") or (body.get("external_ids") or {}).get("imdb_id") or ""
    title = (body.get("title") or "").strip()
    plot = (body.get("overview") or "").strip()
    return {
        "title": title,
        "originaltitle": (body.get("original_title") or "").strip(),
        "sorttitle": sort_title(title) if title else "",
        "plot": plot,
        "outline": "",
        "tagline": (body.get("tagline") or "").strip(),
        "runtime": int(body["runtime"]) if body.get("runtime") else None,
        "premiered": release[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", release[:10]) else "",
        "year": int(release[:4]) if release[:4].isdigit() else None,
        "mpaa": us_certification(body.get("release_dates")),  # what an NFO without a ladder choice shows
        "certifications": release_certifications(body.get("release_dates")),
        "ratings": ratings,
        "genres": _unique([g.get("name", "") for g in body.get("genres") or []]),
        "studios": _unique([c.get("name", "") for c in body.get("production_companies") or []]),
        "countries": _unique([c.get("name", "") for c in body.get("production_countries") or []]),
        "tags": _unique([k.get("name", "") for k in keywords]),
        "directors": _unique([c.get("name", "") for c in crew if c.get("job") == "Director"]),
        "writers": _unique([c.get("name", "") for c in crew
                            if c.get("department") == "Writing" and c.get("job") in _WRITING_JOBS]),
        "set_name": (set_info.get("name") or "").strip(),
        "set_overview": ((collection or {}).get("overview") or "").strip(),
        "tmdb_id": body.get("id"),
        "imdb_id": imdb if re.fullmatch(r"tt\d{7,9}", imdb or "") else "",
        "collection_id": set_info.get("id"),
        "trailer": best_trailer(body.get("videos"), language),
    }
