"""Writing the ``{basename}.nfo`` Kodi reads, and reading our own NFO back to check it.

Kodi 20's NFO reader is the target (``docs/KODI.md`` wins over the wiki and other tools): writers go in
``<credits>``, exactly one default ``<rating>`` and a default ``<uniqueid>`` (Kodi's ``imdbnumber`` is
the default uniqueid, empty without one), one element per list value, no artwork URLs (local files win
and we write local files). Elements follow the order of Kodi's own NFO export so a diff against an NFO
Kodi exported stays readable.

Kodi's parser is lenient but Jellyfin's, Plex's and ours are not, so the output is well-formed XML built
with lxml, with every character XML 1.0 forbids removed, even inside the user's foreign tags. The user's
state and foreign tags are carried over: publishing must never cost a watched flag or a custom tag.

Output is deterministic (same input, same bytes) so the publish stage can skip files whose bytes are
already right and keep a stable NFO hash.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree

from metarr_pipeline.models import AudioStream, StreamDetails, SubtitleStream, UserState, VideoStream
from metarr_pipeline.scan.nfo import MANAGED_TAGS

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_INDENT = "  "
# Everything outside XML 1.0's Char production: C0 controls other than tab/LF/CR, lone surrogates,
# U+FFFE and U+FFFF. lxml refuses such text outright, and a strict reader refuses the file.
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CHAR_REF = re.compile(r"&#(x[0-9a-fA-F]+|[0-9]+);")
_RATED = "Rated "
# Top-level elements render_nfo writes; anything else in our own NFO is a carried-over foreign tag.
_WRITTEN = frozenset({
    "title", "originaltitle", "sorttitle", "ratings", "userrating", "outline", "plot", "tagline", "runtime",
    "mpaa", "playcount", "lastplayed", "watched", "uniqueid", "genre", "country", "set", "tag", "credits",
    "director", "premiered", "year", "studio", "fileinfo", "actor", "resume", "dateadded", "lockdata",
    "lockedfields",
})


@dataclass(frozen=True)
class NfoActor:
    """One ``<actor>``; ``thumb`` is the provider's headshot URL so Jellyfin and Plex get one too."""

    name: str
    role: str
    order: int
    thumb: str  # "" when the provider has no headshot


@dataclass(frozen=True)
class NfoInput:
    """Everything one movie's NFO is made of, already decided (merged, probed, carried over)."""

    fields: Mapping[str, Any]  # merged metadata, keys of metadata.fields.FIELDS; missing keys = empty
    streams: StreamDetails | None
    actors: Sequence[NfoActor]
    user_state: UserState  # from the user's existing NFO
    foreign_tags: Sequence[str]  # serialised top-level elements we do not manage, written back verbatim
    lockdata: bool = False
    locked_fields: Sequence[str] = ()  # Jellyfin <lockedfields> names as the user wrote them
    dateadded: str = ""  # fallback when the user has none: the movie's first_seen, "YYYY-MM-DD HH:MM:SS"


def clean_xml_text(value: str) -> str:
    """Remove the characters XML 1.0 forbids (rather than fail the publish over a stray control char)."""
    return _FORBIDDEN.sub("", value)


def kodi_mpaa(value: str) -> str:
    """The certification as Kodi's own TMDB scraper stores a US one: ``"R"`` → ``"Rated R"``.

    Skins map "Rated R" to the rating flag; a bare "R" shows as text only. Values already in a scraper's
    form ("Rated PG-13", or a country-prefixed "FR:12" / "UK:15") are kept as they are.
    """
    value = clean_xml_text(value).strip()
    if not value or value.startswith(_RATED) or ":" in value:
        return value
    return _RATED + value


def nfo_streams(streams: StreamDetails | None) -> StreamDetails | None:
    """What of a probe the NFO can carry, as Kodi's own probe would report it: no container, audio codecs
    in Kodi's names (:func:`kodi_audio_codec`), only embedded subtitles (Kodi's probe does not list sidecar
    files), reduced to their language.

    ``read_back`` returns exactly this, so it is what a round trip or the publish asset check compares.
    """
    if streams is None or streams.video is None:
        return None
    return StreamDetails(
        video=streams.video,
        audio=tuple(replace(a, codec=kodi_audio_codec(a.codec)) for a in streams.audio),
        subtitles=tuple(SubtitleStream(language=s.language) for s in streams.subtitles if not s.external),
    )


def kodi_audio_codec(codec: str, profile: str = "") -> str:
    """Kodi 20's name for an audio codec (``CDVDDemuxFFmpeg::GetStreamCodecName``): FFmpeg's codec name, except
    DTS, which Kodi names by profile: ``dtshd_ma``, ``dtshd_hra``, else ``dca``.

    The probe does not keep the profile yet, so a DTS-HD stream is written ``dca`` (Kodi's own probe, on by
    default, replaces it with ``dtshd_ma``/``dtshd_hra``).
    """
    if codec != "dts":
        return codec
    return {"DTS-HD MA": "dtshd_ma", "DTS-HD MA + DTS:X": "dtshd_ma", "DTS-HD MA + DTS:X IMAX": "dtshd_ma",
            "DTS-HD HRA": "dtshd_hra"}.get(profile, "dca")


def render_nfo(data: NfoInput) -> bytes:
    """The NFO as UTF-8 bytes with a trailing newline; empty values are left out, never written empty."""
    f, state = data.fields, data.user_state
    movie = etree.Element("movie")
    for tag in ("title", "originaltitle", "sorttitle"):
        _sub(movie, tag, f.get(tag))
    _ratings(movie, f.get("ratings"))
    _sub(movie, "userrating", _number(state.userrating))
    for tag in ("outline", "plot", "tagline"):
        _sub(movie, tag, f.get(tag))
    _sub(movie, "runtime", _integer(f.get("runtime")))
    _sub(movie, "mpaa", kodi_mpaa(str(f.get("mpaa") or "")))
    _sub(movie, "playcount", state.playcount)
    _sub(movie, "lastplayed", state.lastplayed)
    if state.watched is not None:
        _sub(movie, "watched", "true" if state.watched else "false")
    _uniqueids(movie, f.get("tmdb_id"), f.get("imdb_id"))
    _each(movie, "genre", f.get("genres"))
    _each(movie, "country", f.get("countries"))
    _set(movie, f.get("set_name"), f.get("set_overview"))
    _each(movie, "tag", f.get("tags"))
    _each(movie, "credits", f.get("writers"))
    _each(movie, "director", f.get("directors"))
    _sub(movie, "premiered", f.get("premiered"))
    _sub(movie, "year", _integer(f.get("year")))
    _each(movie, "studio", f.get("studios"))
    _fileinfo(movie, data.streams)
    for actor in data.actors:
        _actor(movie, actor)
    _resume(movie, state)
    _sub(movie, "dateadded", state.dateadded or data.dateadded)
    if data.lockdata:
        _sub(movie, "lockdata", "true")
    _sub(movie, "lockedfields", "|".join(n for n in (clean_xml_text(x).strip() for x in data.locked_fields) if n))
    _layout(movie, [el for el in map(_foreign_element, data.foreign_tags) if el is not None])
    return XML_DECLARATION + etree.tostring(movie, encoding="UTF-8", xml_declaration=False) + b"\n"


def _sub(parent: etree._Element, tag: str, value: object, attrib: Mapping[str, str] | None = None) -> None:
    text = "" if value is None else clean_xml_text(str(value)).strip()
    if text:
        el = etree.SubElement(parent, tag, {k: clean_xml_text(v) for k, v in (attrib or {}).items()})
        el.text = text


def _each(parent: etree._Element, tag: str, values: object) -> None:
    """One element per value: Kodi also splits ``"A / B"``, but Jellyfin and Plex do not."""
    if not isinstance(values, Sequence) or isinstance(values, str):
        values = [values] if isinstance(values, str) else []
    seen: set[str] = set()
    for value in values:
        text = clean_xml_text(str(value)).strip() if value is not None else ""
        if text and text not in seen:
            seen.add(text)
            _sub(parent, tag, text)


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _number(value: object) -> str | None:
    """Integral numbers without a decimal point (Kodi's userrating is an int), others exactly."""
    number = _finite(value)
    if number is None:
        return None
    return str(int(number)) if number.is_integer() else repr(number)


def _decimal(value: float) -> str:
    """Python's shortest round-tripping form ("8.2", "8.0", "7.25"): stable and loses nothing."""
    return repr(float(value))


def _ratings(movie: etree._Element, ratings: object) -> None:
    rows = []
    for name, rating in (ratings.items() if isinstance(ratings, Mapping) else ()):
        source = clean_xml_text(str(name)).strip()
        value = _finite(rating.get("value")) if isinstance(rating, Mapping) else None
        if source and value is not None:
            rows.append((source, value, rating))
    if not rows:
        return
    # Exactly one default, or Kodi picks one itself: TMDB's (our scraper's) when there is one.
    default = "themoviedb" if any(source == "themoviedb" for source, _, _ in rows) else rows[0][0]
    block = etree.SubElement(movie, "ratings")
    for source, value, rating in rows:
        attrib = {"name": source, "max": _number(rating.get("max")) or "10"}
        if source == default:
            attrib["default"] = "true"
        el = etree.SubElement(block, "rating", attrib)
        _sub(el, "value", _decimal(value))
        _sub(el, "votes", _integer(_finite(rating.get("votes"))))


def _uniqueids(movie: etree._Element, tmdb_id: object, imdb_id: object) -> None:
    """TMDB is the default when known: it is what the pipeline identifies by, and Kodi's imdbnumber."""
    tmdb = clean_xml_text(str(tmdb_id)).strip() if tmdb_id not in (None, "") else ""
    imdb = clean_xml_text(str(imdb_id)).strip() if imdb_id else ""
    if tmdb:
        _sub(movie, "uniqueid", tmdb, {"type": "tmdb", "default": "true"})
    if imdb:
        _sub(movie, "uniqueid", imdb, {"type": "imdb", "default": "true"} if not tmdb else {"type": "imdb"})


def _set(movie: etree._Element, name: object, overview: object) -> None:
    name_text = clean_xml_text(str(name or "")).strip()
    if name_text:
        el = etree.SubElement(movie, "set")
        _sub(el, "name", name_text)
        _sub(el, "overview", overview)


def _aspect(aspect: float) -> str | None:
    """Two decimals as the probe rounds it ("2.40"); exact digits if the value has more precision."""
    if not math.isfinite(aspect) or aspect <= 0:
        return None
    text = f"{aspect:.2f}"
    return text if float(text) == aspect else repr(float(aspect))


def _positive(value: int) -> int | None:
    """A zero from a failed probe is left out: a wrong <fileinfo> value is worse than none."""
    return value if value > 0 else None


def _fileinfo(movie: etree._Element, streams: StreamDetails | None) -> None:
    streams = nfo_streams(streams)
    if streams is None or streams.video is None:
        return
    details = etree.SubElement(etree.SubElement(movie, "fileinfo"), "streamdetails")
    v = streams.video
    video = etree.SubElement(details, "video")
    _sub(video, "codec", v.codec)
    _sub(video, "aspect", _aspect(v.aspect))
    _sub(video, "width", _positive(v.width))
    _sub(video, "height", _positive(v.height))
    _sub(video, "durationinseconds", _positive(v.duration_seconds))
    _sub(video, "stereomode", v.stereo_mode)
    _sub(video, "hdrtype", v.hdr_type)
    for a in streams.audio:
        audio = etree.SubElement(details, "audio")
        _sub(audio, "codec", a.codec)
        _sub(audio, "language", a.language)
        _sub(audio, "channels", _positive(a.channels))
    for s in streams.subtitles:
        # Kept even without a language (<subtitle/>): Kodi counts subtitle streams one per element.
        _sub(etree.SubElement(details, "subtitle"), "language", s.language)


def _actor(movie: etree._Element, actor: NfoActor) -> None:
    name = clean_xml_text(actor.name).strip()
    if not name:
        return  # Kodi drops a nameless actor anyway
    el = etree.SubElement(movie, "actor")
    _sub(el, "name", name)
    _sub(el, "role", actor.role)
    _sub(el, "order", int(actor.order))
    _sub(el, "thumb", actor.thumb)


def _resume(movie: etree._Element, state: UserState) -> None:
    position = _finite(state.resume_position)
    if position is None:
        return
    el = etree.SubElement(movie, "resume")
    _sub(el, "position", _decimal(position))
    total = _finite(state.resume_total)
    if total is not None:
        _sub(el, "total", _decimal(total))


def _without_forbidden_ref(match: re.Match[str]) -> str:
    ref = match.group(1)
    try:
        char = chr(int(ref[1:], 16) if ref.startswith("x") else int(ref))
    except (ValueError, OverflowError):
        return ""
    return "" if _FORBIDDEN.match(char) else match.group(0)


def _foreign_element(xml: str) -> etree._Element | None:
    """One carried-over tag, cleaned; ``None`` for one we cannot write back safely (it is dropped).

    Dropped: text that is not one well-formed element, one that brings a DTD or entity references
    (they would not survive outside their document), and one named like a tag we manage (a second
    ``<title>``, or an artwork URL in ``<fanart>``, would contradict what we write).
    """
    text = _CHAR_REF.sub(_without_forbidden_ref, clean_xml_text(xml)).strip()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        el = etree.fromstring(text.encode("utf-8"), parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if el.getroottree().docinfo.internalDTD is not None or any(isinstance(n, etree._Entity) for n in el.iter()):
        return None
    if not isinstance(el.tag, str) or etree.QName(el).localname.lower() in MANAGED_TAGS:
        return None
    el.tail = None
    return el


def _layout(movie: etree._Element, foreign: list[etree._Element]) -> None:
    """Indent what we wrote, then append foreign tags untouched (pretty_print would re-indent their
    insides, so a re-scan would read back a different tag than the user wrote)."""
    etree.indent(movie, space=_INDENT)
    for el in foreign:
        movie.append(el)
    children = list(movie)
    movie.text = "\n" + _INDENT if children else None
    for i, child in enumerate(children):
        child.tail = "\n" + _INDENT if i < len(children) - 1 else "\n"


# --- reading our own NFO back ----------------------------------------------------------------------


def read_back(raw: bytes) -> dict[str, Any]:
    """Parse an NFO render_nfo wrote (strictly: ours must be well-formed) into the values it carries.

    Returns the non-empty metadata fields (as ``FIELDS`` names, ``mpaa`` without "Rated "; there is no
    ``collection_id`` in an NFO) plus ``actors``, ``streams`` (see :func:`nfo_streams`), ``user_state``,
    ``foreign_tags``, ``uniqueids``, ``lockdata`` and ``locked_fields``. Raises ValueError otherwise.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        movie = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"NFO is not well-formed XML: {exc}") from exc
    if movie.tag != "movie":
        raise ValueError(f"NFO root is <{movie.tag}>, not <movie>")
    result: dict[str, Any] = _read_fields(movie)
    uniqueids = {el.get("type", ""): el.text or "" for el in movie.findall("uniqueid")}
    tmdb = uniqueids.get("tmdb", "")
    fields_from_ids = {"tmdb_id": int(tmdb) if tmdb.isdigit() else tmdb, "imdb_id": uniqueids.get("imdb", "")}
    result.update({k: v for k, v in fields_from_ids.items() if v not in ("", None)})
    result.update(
        actors=[NfoActor(name=_get(a, "name"), role=_get(a, "role"), order=int(_get(a, "order") or 0),
                         thumb=_get(a, "thumb")) for a in movie.findall("actor")],
        streams=_read_streams(movie),
        user_state=_read_state(movie),
        foreign_tags=[etree.tostring(c, encoding="unicode", with_tail=False) for c in movie
                      if isinstance(c.tag, str) and c.tag not in _WRITTEN],
        uniqueids=uniqueids,
        lockdata=_get(movie, "lockdata") == "true",
        locked_fields=[n for n in _get(movie, "lockedfields").split("|") if n],
    )
    return result


def _get(parent: etree._Element, tag: str) -> str:
    return parent.findtext(tag) or ""


def _read_fields(movie: etree._Element) -> dict[str, Any]:
    mpaa = _get(movie, "mpaa")
    ratings = {}
    for rating in movie.iterfind("ratings/rating"):
        entry: dict[str, Any] = {"value": float(_get(rating, "value"))}
        if votes := _get(rating, "votes"):
            entry["votes"] = int(votes)
        max_value = float(rating.get("max", "10"))
        entry["max"] = int(max_value) if max_value.is_integer() else max_value
        ratings[rating.get("name", "")] = entry
    fields: dict[str, Any] = {
        **{tag: _get(movie, tag) for tag in ("title", "originaltitle", "sorttitle", "plot", "outline", "tagline",
                                             "premiered")},
        "runtime": int(_get(movie, "runtime")) if _get(movie, "runtime") else None,
        "year": int(_get(movie, "year")) if _get(movie, "year") else None,
        "mpaa": mpaa.removeprefix(_RATED),
        "ratings": ratings,
        **{name: [el.text or "" for el in movie.findall(tag)] for name, tag in (
            ("genres", "genre"), ("studios", "studio"), ("countries", "country"), ("tags", "tag"),
            ("directors", "director"), ("writers", "credits"))},
        "set_name": _get(movie, "set/name"),
        "set_overview": _get(movie, "set/overview"),
    }
    return {k: v for k, v in fields.items() if v not in ("", None, [], {})}


def _read_streams(movie: etree._Element) -> StreamDetails | None:
    details = movie.find("fileinfo/streamdetails")
    video = details.find("video") if details is not None else None
    if details is None or video is None:
        return None
    return StreamDetails(
        video=VideoStream(
            codec=_get(video, "codec"), width=int(_get(video, "width") or 0), height=int(_get(video, "height") or 0),
            aspect=float(_get(video, "aspect") or 0), duration_seconds=int(_get(video, "durationinseconds") or 0),
            hdr_type=_get(video, "hdrtype"), stereo_mode=_get(video, "stereomode")),
        audio=tuple(AudioStream(codec=_get(a, "codec"), channels=int(_get(a, "channels") or 0),
                                language=_get(a, "language")) for a in details.findall("audio")),
        subtitles=tuple(SubtitleStream(language=_get(s, "language")) for s in details.findall("subtitle")),
    )


def _read_state(movie: etree._Element) -> UserState:
    def number(path: str) -> float | None:
        text = _get(movie, path)
        return float(text) if text else None

    watched = _get(movie, "watched")
    playcount = _get(movie, "playcount")
    return UserState(
        playcount=int(playcount) if playcount else None,
        lastplayed=_get(movie, "lastplayed"),
        watched=None if not watched else watched == "true",
        dateadded=_get(movie, "dateadded"),
        userrating=number("userrating"),
        resume_position=number("resume/position"),
        resume_total=number("resume/total"),
    )
