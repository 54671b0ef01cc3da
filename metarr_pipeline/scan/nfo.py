"""Reading the NFO a movie folder already has, leniently and without ever losing the user's data.

Users' NFOs come from Kodi, Jellyfin, tinyMediaManager, Radarr or a text editor: some are malformed,
some are only a URL line, some carry tags no tool documents. We read ids (for identification), the
user's state (playcount, watched, resume...), Jellyfin/Kodi locks, and every top-level tag we do not
manage ("foreign tags", kept verbatim to be written back on publish). The scan never writes an NFO.

Security: entity resolution and network access are off, so a hostile NFO cannot read files or URLs.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from lxml import etree

from metarr_pipeline.models import MANAGED_TAGS, ExistingNfo, UserState

_MAX_NFO_BYTES = 5 * 1024 * 1024
_TMDB_URL = re.compile(r"themoviedb\.org/movie/(\d+)")
_IMDB_ID = re.compile(r"\b(tt\d{7,9})\b")


def candidate_nfo_names(kind: str, basename: str, video_file: str | None = None) -> tuple[str, ...]:
    """NFO files to look for, relative to the movie folder, in the order Kodi would read them (for a stack:
    beside its first part, then under the stacked title)."""
    if kind == "dvd":
        return ("VIDEO_TS/VIDEO_TS.nfo", "movie.nfo")
    if kind == "bluray":
        return ("BDMV/index.nfo", "movie.nfo")
    if kind == "dvd_flat":
        return ("VIDEO_TS.nfo", "movie.nfo")
    first = f"{video_file.rpartition('.')[0]}.nfo" if video_file and "." in video_file else f"{basename}.nfo"
    return tuple(dict.fromkeys((first, f"{basename}.nfo", "movie.nfo")))


def find_nfo(folder: Path, kind: str, basename: str, video_file: str | None = None) -> Path | None:
    for name in candidate_nfo_names(kind, basename, video_file):
        path = folder / name
        if path.is_file():
            return path
    return None


def read_nfo(path: Path) -> ExistingNfo:
    """Read an NFO; problems are reported in ``.problem`` and whatever could be read is kept."""
    try:
        size = path.stat().st_size
        if size > _MAX_NFO_BYTES:
            return ExistingNfo(path=str(path), problem=f"NFO is {size} bytes, larger than any real NFO; not read")
        raw = path.read_bytes()
    except OSError as exc:
        return ExistingNfo(path=str(path), problem=f"cannot read NFO: {exc.strerror or exc}")
    return parse_nfo(raw, str(path))


def parse_nfo(raw: bytes, path: str = "") -> ExistingNfo:
    text_ids = _ids_from_text(raw)
    start = raw.find(b"<")
    if start < 0 or b"<movie" not in raw.lower():
        # A URL-only NFO (or junk): keep whatever ids its text names.
        problem = "" if text_ids else "NFO has no <movie> element and no provider URL"
        return ExistingNfo(path=path, uniqueids=text_ids, problem=problem)

    root, recovered, problem = _parse_xml(raw)
    if root is None:
        return ExistingNfo(path=path, uniqueids=text_ids, recovered=True,
                           problem=problem or "NFO is not readable XML")
    movie = root if _local(root.tag) == "movie" else next(root.iter("movie"), None)
    if movie is None:
        return ExistingNfo(path=path, uniqueids=text_ids, recovered=recovered,
                           problem="NFO has no <movie> element")

    uniqueids = _uniqueids(movie)
    for key, value in text_ids.items():
        uniqueids.setdefault(key, value)
    nfo = ExistingNfo(
        path=path,
        uniqueids=uniqueids,
        title=_text(movie, "title"),
        year=_year(movie),
        user_state=_user_state(movie),
        lockdata=_text(movie, "lockdata").lower() == "true",
        # As written (Jellyfin writes its enum names, "Name|Overview"): kept so our NFO gives them back the
        # same; the merge compares them case-insensitively.
        locked_fields=tuple(f.strip() for f in _text(movie, "lockedfields").split("|") if f.strip()),
        foreign_tags=_foreign(movie),
        fields=_fields(movie, uniqueids),
        recovered=recovered,
        problem=problem,
    )
    return nfo


def _parse_xml(raw: bytes) -> tuple[etree._Element | None, bool, str]:
    strict = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False)
    body = raw[raw.find(b"<"):] if not raw.startswith(b"\xef\xbb\xbf") else raw[3:]
    try:
        return etree.fromstring(body, strict), False, ""
    except etree.XMLSyntaxError as exc:
        first_error = str(exc)
    except ValueError as exc:
        first_error = str(exc)
    lenient = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False,
                              encoding=None)
    try:
        root = etree.fromstring(body, lenient)
    except (etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        # Last resort: undeclared Latin-1 text is the most common cause of "not UTF-8" NFOs.
        try:
            root = etree.fromstring(body.decode("latin-1").encode("utf-8"), lenient)
        except (etree.XMLSyntaxError, ValueError):
            root = None
    return root, True, f"malformed NFO read in recovery mode ({first_error})"


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _children(movie: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in movie if _local(c.tag) == name]


def _text(movie: etree._Element, name: str) -> str:
    for child in _children(movie, name):
        value = (child.text or "").strip()
        if value:
            return value
    return ""


def _uniqueids(movie: etree._Element) -> dict[str, str]:
    ids: dict[str, str] = {}
    for el in _children(movie, "uniqueid"):
        kind = (el.get("type") or "").strip().lower()
        value = (el.text or "").strip()
        if kind and value:
            ids.setdefault(kind, value)
    # Older Kodi / Jellyfin spellings.
    for tag, kind in (("tmdbid", "tmdb"), ("imdbid", "imdb"), ("imdb", "imdb")):
        value = _text(movie, tag)
        if value:
            ids.setdefault(kind, value)
    legacy = _text(movie, "id")
    if legacy:
        ids.setdefault("imdb" if legacy.startswith("tt") else "tmdb", legacy)
    if "tmdb" in ids and not ids["tmdb"].isdigit():
        ids.pop("tmdb")
    if "imdb" in ids and not _IMDB_ID.fullmatch(ids["imdb"]):
        ids.pop("imdb")
    return ids


def _ids_from_text(raw: bytes) -> dict[str, str]:
    text = raw.decode("utf-8", errors="replace")
    ids: dict[str, str] = {}
    if m := _TMDB_URL.search(text):
        ids["tmdb"] = m.group(1)
    if "imdb.com" in text and (m := _IMDB_ID.search(text)):
        ids["imdb"] = m.group(1)
    return ids


def _year(movie: etree._Element) -> int | None:
    for source in (_text(movie, "premiered")[:4], _text(movie, "year")):
        if source.isdigit() and 1870 <= int(source) <= 2200:
            return int(source)
    return None


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _user_state(movie: etree._Element) -> UserState:
    state = UserState()
    playcount = _number(_text(movie, "playcount"))
    if playcount is not None:
        state = replace(state, playcount=int(playcount))
    watched = _text(movie, "watched").lower()
    if watched in ("true", "false"):
        state = replace(state, watched=watched == "true")
    rating = _number(_text(movie, "userrating"))
    if rating is not None:
        state = replace(state, userrating=rating)
    state = replace(state, lastplayed=_text(movie, "lastplayed"), dateadded=_text(movie, "dateadded"))
    for resume in _children(movie, "resume"):
        position = _number(_text(resume, "position"))
        total = _number(_text(resume, "total"))
        if position is not None:
            state = replace(state, resume_position=position, resume_total=total)
        break
    return state


def _all_text(movie: etree._Element, name: str) -> list[str]:
    values: list[str] = []
    for child in _children(movie, name):
        for part in (child.text or "").split(" / "):  # Kodi also accepts "A / B" lists
            if part.strip() and part.strip() not in values:
                values.append(part.strip())
    return values


def _fields(movie: etree._Element, uniqueids: dict[str, str]) -> dict[str, object]:
    """The managed fields as the user's NFO has them: the merge base for locked fields."""
    premiered = _text(movie, "premiered") or _text(movie, "releasedate")
    runtime = _number(_text(movie, "runtime"))
    ratings: dict[str, object] = {}
    for block in _children(movie, "ratings"):
        for rating in block:
            if _local(rating.tag) != "rating":
                continue
            value = _number(_text(rating, "value"))
            if value is None:
                continue
            votes = _number(_text(rating, "votes"))
            ratings[(rating.get("name") or "default").lower()] = {
                "value": value, "votes": int(votes) if votes is not None else 0,
                "max": int(_number(rating.get("max") or "10") or 10)}
    set_name = set_overview = ""
    for el in _children(movie, "set"):
        set_name = _text(el, "name") or (el.text or "").strip()
        set_overview = _text(el, "overview")
        break
    fields: dict[str, object] = {
        "title": _text(movie, "title"), "originaltitle": _text(movie, "originaltitle"),
        "sorttitle": _text(movie, "sorttitle"), "plot": _text(movie, "plot"), "outline": _text(movie, "outline"),
        "tagline": _text(movie, "tagline"), "runtime": int(runtime) if runtime else None,
        "premiered": premiered[:10], "year": _year(movie), "mpaa": _text(movie, "mpaa"), "ratings": ratings,
        "genres": _all_text(movie, "genre"), "studios": _all_text(movie, "studio"),
        "countries": _all_text(movie, "country"), "tags": _all_text(movie, "tag"),
        "directors": _all_text(movie, "director"),
        "writers": _all_text(movie, "credits") or _all_text(movie, "writer"),
        "set_name": set_name, "set_overview": set_overview, "trailer": _text(movie, "trailer"),
        "tmdb_id": int(uniqueids["tmdb"]) if uniqueids.get("tmdb", "").isdigit() else None,
        "imdb_id": uniqueids.get("imdb", ""),
    }
    return {k: v for k, v in fields.items() if v not in ("", None, [], {})}


def _foreign(movie: etree._Element) -> tuple[str, ...]:
    kept = []
    for child in movie:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions are not data
        if _local(child.tag) in MANAGED_TAGS:
            continue
        kept.append(etree.tostring(child, encoding="unicode", with_tail=False))
    return tuple(kept)
