"""Reading the NFO a movie folder already has, leniently and without ever losing the user's data.

Users' NFOs come from Kodi, Jellyfin, tinyMediaManager, Radarr or a text editor: some are malformed,
some are only a URL line, some carry tags no tool documents. We read ids (for identification), the
user's state (playcount, watched, resume...), Jellyfin/Kodi locks, and every top-level tag we do not
manage ("foreign tags", kept verbatim to be written back on publish). The scan never writes an NFO.

Hostile or odd files: UTF-16 (with or without a BOM) and UTF-8 with a BOM are decoded first; a namespaced
``<k:movie>`` is a movie like any other; every number and date goes through
:class:`~metarr_pipeline.scan.nfo_values.FieldReader`, so a ``nan``, ``inf`` or ``²`` in one field is ignored
with a warning (kept in ``.problem``) and never costs the rest of the file or the identification.

Security: entity resolution and network access are off, so a hostile NFO cannot read files or URLs; XInclude
elements and processing instructions are never kept as foreign tags, so they never reach the NFO we write.
"""

from __future__ import annotations

import codecs
import copy
import re
from dataclasses import replace
from pathlib import Path

from lxml import etree

from metarr_pipeline.metadata.xml import remove_keeping_tail
from metarr_pipeline.models import MANAGED_TAGS, ExistingNfo, UserState
from metarr_pipeline.scan.nfo_values import MAX_TMDB_ID, FieldReader

_MAX_NFO_BYTES = 5 * 1024 * 1024
# ASCII digits only: "\d" alone would also take superscript and other scripts' digits.
_TMDB_URL = re.compile(r"themoviedb\.org/movie/([0-9]{1,10})(?![0-9])", re.ASCII)
_IMDB_ID = re.compile(r"\b(tt[0-9]{7,9})\b", re.ASCII)
_MOVIE_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?movie[\s>/]", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(r"""^(<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")
_XINCLUDE = frozenset({"http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"})
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


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
    raw = _as_utf8(raw)
    text_ids = _ids_from_text(raw)
    start = raw.find(b"<")
    if start < 0 or not _MOVIE_TAG.search(raw):
        # A URL-only NFO (or junk): keep whatever ids its text names.
        problem = "" if text_ids else "NFO has no <movie> element and no provider URL"
        return ExistingNfo(path=path, uniqueids=text_ids, problem=problem)

    root, recovered, problem = _parse_xml(raw)
    if root is None:
        return ExistingNfo(path=path, uniqueids=text_ids, recovered=True,
                           problem=problem or "NFO is not readable XML")
    movie = root if _local(root.tag) == "movie" else next(
        (el for el in root.iter() if _local(el.tag) == "movie"), None)
    if movie is None:
        return ExistingNfo(path=path, uniqueids=text_ids, recovered=recovered,
                           problem="NFO has no <movie> element")

    values = FieldReader(path)
    uniqueids = _uniqueids(movie, values)
    for key, value in text_ids.items():
        uniqueids.setdefault(key, value)
    user_state = _user_state(movie, values)
    fields = _fields(movie, uniqueids, values)
    problems = [problem] if problem else []
    problems += values.warnings
    nfo = ExistingNfo(
        path=path,
        uniqueids=uniqueids,
        title=_text(movie, "title"),
        year=fields.get("year") if isinstance(fields.get("year"), int) else None,
        user_state=user_state,
        lockdata=_text(movie, "lockdata").lower() == "true",
        # As written (Jellyfin writes its enum names, "Name|Overview"): kept so our NFO gives them back the
        # same; the merge compares them case-insensitively.
        locked_fields=tuple(f.strip() for f in _text(movie, "lockedfields").split("|") if f.strip()),
        foreign_tags=_foreign(movie),
        fields=fields,
        recovered=recovered,
        problem="; ".join(problems),
    )
    return nfo


def _as_utf8(raw: bytes) -> bytes:
    """The file as UTF-8 bytes: a UTF-8/16/32 BOM, or UTF-16 without one (``<`` next to a NUL), is decoded,
    and the declaration's ``encoding`` (now wrong) is dropped. Anything else is returned as it is."""
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), None)
    if encoding is not None:
        raw = raw[len(next(bom for bom, name in _BOMS if name == encoding)):]
    elif raw[:2] == b"<\x00":
        encoding = "utf-16-le"
    elif raw[:2] == b"\x00<":
        encoding = "utf-16-be"
    if encoding is None or encoding == "utf-8":
        return raw
    text = raw.decode(encoding, errors="replace").lstrip()
    return _DECLARED_ENCODING.sub(r"\1", text, count=1).encode("utf-8")


def _parse_xml(raw: bytes) -> tuple[etree._Element | None, bool, str]:
    strict = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False)
    body = raw[raw.find(b"<"):]
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
    """The tag's name without a namespace (``{uri}movie``) or an undeclared prefix (``k:movie``, recovery)."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower() if isinstance(tag, str) else ""


def _children(movie: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in movie if _local(c.tag) == name]


def _text(movie: etree._Element, name: str) -> str:
    for child in _children(movie, name):
        value = (child.text or "").strip()
        if value:
            return value
    return ""


def _uniqueids(movie: etree._Element, values: FieldReader) -> dict[str, str]:
    """Ids by provider, the first usable one of each kind winning (a broken one is skipped with a warning)."""
    found: list[tuple[str, str, str]] = []  # (kind, value, where)
    for el in _children(movie, "uniqueid"):
        kind = (el.get("type") or "").strip().lower()
        value = (el.text or "").strip()
        if kind and value:
            found.append((kind, value, f"uniqueid type={kind}"))
    # Older Kodi / Jellyfin spellings.
    for tag, kind in (("tmdbid", "tmdb"), ("imdbid", "imdb"), ("imdb", "imdb")):
        value = _text(movie, tag)
        if value:
            found.append((kind, value, tag))
    legacy = _text(movie, "id")
    if legacy:
        found.append(("imdb" if legacy.startswith("tt") else "tmdb", legacy, "id"))
    ids: dict[str, str] = {}
    for kind, value, where in found:
        if kind in ids:
            continue
        if kind == "tmdb":
            tmdb = values.identifier(value, where)
            if tmdb is not None:
                ids[kind] = str(tmdb)
        elif kind == "imdb":
            if _IMDB_ID.fullmatch(value):
                ids[kind] = value
            else:
                values.ignore(where, value, "not an IMDb id (tt and 7 to 9 digits)")
        else:
            ids[kind] = value
    return ids


def _ids_from_text(raw: bytes) -> dict[str, str]:
    text = raw.decode("utf-8", errors="replace")
    ids: dict[str, str] = {}
    if (m := _TMDB_URL.search(text)) and 1 <= int(m.group(1)) <= MAX_TMDB_ID:
        ids["tmdb"] = str(int(m.group(1)))
    if "imdb.com" in text and (m := _IMDB_ID.search(text)):
        ids["imdb"] = m.group(1)
    return ids


def _user_state(movie: etree._Element, values: FieldReader) -> UserState:
    state = UserState(
        playcount=values.integer(_text(movie, "playcount"), "playcount", 0, 1_000_000),
        userrating=values.real(_text(movie, "userrating"), "userrating", 0, 10),
        lastplayed=values.timestamp(_text(movie, "lastplayed"), "lastplayed"),
        dateadded=values.timestamp(_text(movie, "dateadded"), "dateadded"),
    )
    watched = _text(movie, "watched").lower()
    if watched in ("true", "false"):
        state = replace(state, watched=watched == "true")
    for resume in _children(movie, "resume"):
        position = values.real(_text(resume, "position"), "resume/position", 0, 1e7)
        total = values.real(_text(resume, "total"), "resume/total", 0, 1e7)
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


def _ratings(movie: etree._Element, values: FieldReader) -> dict[str, object]:
    ratings: dict[str, object] = {}
    for block in _children(movie, "ratings"):
        for rating in block:
            if _local(rating.tag) != "rating":
                continue
            name = (rating.get("name") or "default").lower()
            best = values.integer(rating.get("max") or "10", f"rating {name} max", 1, 100) or 10
            value = values.real(_text(rating, "value"), f"rating {name} value", 0, best)
            if value is None:
                continue
            votes = values.integer(_text(rating, "votes").replace(",", ""), f"rating {name} votes", 0, 10**10)
            ratings[name] = {"value": value, "votes": votes or 0, "max": best}
    return ratings


def _fields(movie: etree._Element, uniqueids: dict[str, str], values: FieldReader) -> dict[str, object]:
    """The managed fields as the user's NFO has them: the merge base for locked fields."""
    premiered = (values.day(_text(movie, "premiered"), "premiered")
                 or values.day(_text(movie, "releasedate"), "releasedate"))
    year = values.year(_text(movie, "year")) if _text(movie, "year") else None
    runtime = values.integer(_text(movie, "runtime"), "runtime", 0, 100_000)
    set_name = set_overview = ""
    for el in _children(movie, "set"):
        set_name = _text(el, "name") or (el.text or "").strip()
        set_overview = _text(el, "overview")
        break
    fields: dict[str, object] = {
        "title": _text(movie, "title"), "originaltitle": _text(movie, "originaltitle"),
        "sorttitle": _text(movie, "sorttitle"), "plot": _text(movie, "plot"), "outline": _text(movie, "outline"),
        "tagline": _text(movie, "tagline"), "runtime": runtime or None,
        "premiered": premiered, "year": int(premiered[:4]) if premiered else year, "mpaa": _text(movie, "mpaa"),
        "ratings": _ratings(movie, values),
        "genres": _all_text(movie, "genre"), "studios": _all_text(movie, "studio"),
        "countries": _all_text(movie, "country"), "tags": _all_text(movie, "tag"),
        "directors": _all_text(movie, "director"),
        "writers": _all_text(movie, "credits") or _all_text(movie, "writer"),
        "set_name": set_name, "set_overview": set_overview, "trailer": _text(movie, "trailer"),
        "tmdb_id": int(uniqueids["tmdb"]) if "tmdb" in uniqueids else None,
        "imdb_id": uniqueids.get("imdb", ""),
        "actors": _actors(movie),
    }
    return {k: v for k, v in fields.items() if v not in ("", None, [], {})}


def _actors(movie: etree._Element) -> list[dict[str, object]]:
    """The NFO's cast in its order: what a locked cast (``<lockdata>``, Jellyfin ``Cast``) keeps."""
    actors: list[dict[str, object]] = []
    for el in _children(movie, "actor"):
        name = _text(el, "name")
        if name:
            actors.append({"name": name, "role": _text(el, "role"), "thumb": _text(el, "thumb")})
    return actors


def _foreign(movie: etree._Element) -> tuple[str, ...]:
    """Every top-level element we do not manage, as XML text; XInclude elements and processing
    instructions (anywhere inside) are left out: they would make a later reader fetch or run something."""
    kept = []
    for child in movie:
        if not isinstance(child.tag, str) or _is_xinclude(child):
            continue  # comments and processing instructions are not data
        if _local(child.tag) in MANAGED_TAGS:
            continue
        clean = copy.deepcopy(child)
        for el in list(clean.iter()):
            if el is not clean and (isinstance(el, etree._ProcessingInstruction) or _is_xinclude(el)):
                remove_keeping_tail(el)
        kept.append(etree.tostring(clean, encoding="unicode", with_tail=False))
    return tuple(kept)


def _is_xinclude(el: etree._Element) -> bool:
    if not isinstance(el.tag, str):
        return False
    if el.tag.startswith("{"):
        return el.tag[1:].split("}", 1)[0] in _XINCLUDE
    return ":" in el.tag and _local(el.tag) in ("include", "fallback")  # an undeclared xi: prefix

