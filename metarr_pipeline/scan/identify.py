"""Identification: which TMDB movie a folder holds, by the ladder of DOMAIN §2.

1. the existing NFO's ``<uniqueid type="tmdb">`` (or its IMDb id, looked up with TMDB ``/find``);
2. a tag in the folder or file name: ``{tmdb-603}``, ``[tmdbid-603]``, ``{imdb-tt0133093}``;
3. a TMDB search with the title and year parsed from the name (a unique confident match only: the exact title,
   or else one of a result's alternative or translated titles with the year agreeing within one);
4. otherwise ``unidentified`` with the reason (and the candidates, when the search was ambiguous).

Above the ladder stands a choice made by hand (:mod:`.manual`, ``metarr identify``), kept by the scan.

Steps 1b and 3 need a provider; they go through the :class:`IdResolver` seam so the scan works (and is
tested) without one, and the provider layer plugs in without the scan knowing HTTP.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from metarr_pipeline.errors import MetarrError, ProviderAuthError
from metarr_pipeline.models import ExistingNfo, SearchOutcome

_TMDB_TAG = re.compile(r"[\[{](?:tmdb|tmdbid)[-=:\s]?(\d+)[\]}]", re.IGNORECASE)
_IMDB_TAG = re.compile(r"[\[{](?:imdb|imdbid)[-=:\s]?(tt\d{7,9})[\]}]", re.IGNORECASE)
_ANY_TAG = re.compile(r"[\[{][^\]}]*[\]}]")
_YEAR_PAREN = re.compile(r"\((\d{4})\)")
_YEAR_BARE = re.compile(r"(?:^|[ ._\-\[(])((?:19|20)\d{2})(?=$|[ ._\-\])])")
# Scene-release noise that follows the year in names like "The.Matrix.1999.1080p.BluRay.x264-GRP".
_NOISE = re.compile(
    r"\b(2160p|1080p|720p|480p|4k|uhd|hdr|hdr10|dv|bluray|blu-ray|bdrip|brrip|web-?dl|webrip|hdtv|dvdrip|"
    r"remux|x264|x265|h264|h265|hevc|avc|aac|ac3|dts|truehd|atmos|proper|repack|extended|unrated|"
    r"directors\.?cut|imax)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedName:
    title: str
    year: int | None
    tmdb_id: int | None
    imdb_id: str | None


class IdResolver(Protocol):
    """The provider seam of the ladder (implemented by the TMDB client)."""

    def find_by_imdb(self, imdb_id: str) -> int | None: ...

    def search(self, title: str, year: int | None) -> SearchOutcome: ...


@dataclass(frozen=True)
class Identity:
    status: str  # identified | unidentified
    tmdb_id: int | None = None
    imdb_id: str | None = None
    source: str = ""  # nfo | name | search
    title: str = ""
    year: int | None = None
    reason: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)


def parse_name(name: str) -> ParsedName:
    """Title, year and id tags from a folder or file name (extension already removed)."""
    tmdb = _TMDB_TAG.search(name)
    imdb = _IMDB_TAG.search(name)
    rest = _ANY_TAG.sub(" ", name)
    year: int | None = None
    title = rest
    paren = list(_YEAR_PAREN.finditer(rest))
    bare = list(_YEAR_BARE.finditer(rest))
    if paren and _plausible_year(int(paren[-1].group(1))):
        match = paren[-1]
        year = int(match.group(1))
        title = rest[: match.start()]
    elif bare:
        # The last year-like token that is not the whole title ("2012 (2009)" has already matched above;
        # "1917.2019.1080p" keeps "1917" as the title).
        for match in reversed(bare):
            if match.start(1) > 0 and _plausible_year(int(match.group(1))):
                year = int(match.group(1))
                title = rest[: match.start(1)]
                break
    noise = _NOISE.search(title)
    if noise:
        title = title[: noise.start()]
    if title.count(".") >= 2 and " " not in title.strip():
        title = title.replace(".", " ")
    title = re.sub(r"[_\s]+", " ", title.replace("_", " ")).strip(" -.[](){}")
    return ParsedName(title=title, year=year, tmdb_id=int(tmdb.group(1)) if tmdb else None,
                      imdb_id=imdb.group(1).lower() if imdb else None)


def _plausible_year(year: int) -> bool:
    return 1870 <= year <= 2100


def identify(
    folder_name: str,
    file_stem: str,
    nfo: ExistingNfo | None,
    resolver: IdResolver | None = None,
) -> Identity:
    """Walk the ladder; the first rung that gives a TMDB id wins, disagreements become warnings."""
    folder = parse_name(folder_name)
    file = parse_name(file_stem) if file_stem else ParsedName("", None, None, None)
    title = (nfo.title if nfo and nfo.title else "") or folder.title or file.title
    year = (nfo.year if nfo and nfo.year else None) or folder.year or file.year
    name_tmdb = folder.tmdb_id or file.tmdb_id
    name_imdb = folder.imdb_id or file.imdb_id
    warnings: list[str] = []

    nfo_tmdb = int(nfo.uniqueids["tmdb"]) if nfo and nfo.uniqueids.get("tmdb") else None
    nfo_imdb = nfo.uniqueids.get("imdb") if nfo else None
    imdb = nfo_imdb or name_imdb

    if nfo_tmdb:
        if name_tmdb and name_tmdb != nfo_tmdb:
            warnings.append(f"NFO says TMDB {nfo_tmdb} but the name says tmdb-{name_tmdb}; using the NFO")
        return Identity("identified", nfo_tmdb, imdb, "nfo", title, year, warnings=tuple(warnings))

    pending_reasons: list[str] = []
    if nfo_imdb:
        found = _find(resolver, nfo_imdb, pending_reasons)
        if found:
            return Identity("identified", found, nfo_imdb, "nfo", title, year, warnings=tuple(warnings))
    if name_tmdb:
        return Identity("identified", name_tmdb, imdb, "name", title, year, warnings=tuple(warnings))
    if name_imdb and name_imdb != nfo_imdb:
        found = _find(resolver, name_imdb, pending_reasons)
        if found:
            return Identity("identified", found, name_imdb, "name", title, year, warnings=tuple(warnings))

    if not title:
        pending_reasons.append("no title could be read from the name")
        return Identity("unidentified", None, imdb, "", title, year, reason="; ".join(pending_reasons))
    if resolver is None:
        pending_reasons.append(
            f"no TMDB id in an NFO or the name, and no TMDB search is configured for '{title}'"
            + (f" ({year})" if year else "")
        )
        return Identity("unidentified", None, imdb, "", title, year, reason="; ".join(pending_reasons))
    try:
        outcome = resolver.search(title, year)
    except ProviderAuthError:
        raise  # a wrong key fails every search alike: it stops the scan ("check your key"), never one movie
    except MetarrError as exc:  # a provider failure leaves the movie for the next scan, never invalid
        pending_reasons.append(f"TMDB search failed, will retry on the next scan: {exc}")
        return Identity("unidentified", None, imdb, "", title, year, reason="; ".join(pending_reasons))
    if outcome.tmdb_id:
        return Identity("identified", outcome.tmdb_id, imdb, "search", title, year, warnings=tuple(warnings))
    reason = outcome.reason or "TMDB search found no confident match"
    if outcome.candidates:
        reason += ": candidates " + "; ".join(outcome.candidates[:5])
    reason += ". Run 'metarr identify FOLDER' to choose, or add {tmdb-ID} to the folder name"
    return Identity("unidentified", None, imdb, "", title, year, reason="; ".join([*pending_reasons, reason]))


def _find(resolver: IdResolver | None, imdb_id: str, reasons: list[str]) -> int | None:
    if resolver is None:
        reasons.append(f"IMDb id {imdb_id} needs a TMDB lookup, and no provider is configured")
        return None
    try:
        found = resolver.find_by_imdb(imdb_id)
    except ProviderAuthError:
        raise
    except MetarrError as exc:
        reasons.append(f"TMDB lookup of {imdb_id} failed, will retry on the next scan: {exc}")
        return None
    if found is None:
        reasons.append(f"TMDB knows no movie with IMDb id {imdb_id}")
    return found


def slug(text: str) -> str:
    """Lower-case, accent-free, dash-separated; keeps non-Latin letters (CJK titles stay readable)."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = re.findall(r"\w+", without_marks.lower().replace("_", " "))
    return "-".join(words)[:60].strip("-")


def partition_key(title: str, year: int | None, tmdb_id: int, taken: Collection[str] = ()) -> str:
    """A readable, stable Dagster partition key: ``the-matrix-1999-tmdb603``.

    Computed once, when a movie is first identified, and stored; later title changes (enrichment,
    renames, upgrades) never change it. Two copies of one film get ``-2``, ``-3``... suffixes.
    """
    parts = [p for p in (slug(title), str(year) if year else "", f"tmdb{tmdb_id}") if p]
    key = "-".join(parts)
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key}-{n}"
    return candidate


def describe(identity: Identity) -> str:
    if identity.status == "identified":
        return f"tmdb {identity.tmdb_id} (from {identity.source})"
    return f"unidentified: {identity.reason}"


__all__: Sequence[str] = ("IdResolver", "Identity", "ParsedName", "SearchOutcome", "identify", "parse_name",
                          "partition_key", "slug")
