"""Reading our own NFO back, strictly, into the values it carries: what the round-trip tests and the publish
asset check compare against what we meant to write."""

from __future__ import annotations

from typing import Any

from lxml import etree

from metarr_pipeline.models import AudioStream, StreamDetails, SubtitleStream, UserState, VideoStream
from metarr_pipeline.publish.nfo.fields import RATED
from metarr_pipeline.publish.nfo.model import NfoActor
from metarr_pipeline.publish.nfo.render import WRITTEN


def read_back(raw: bytes) -> dict[str, Any]:
    """Parse an NFO render_nfo wrote (strictly: ours must be well-formed) into the values it carries.

    Returns the non-empty metadata fields (as ``FIELDS`` names, ``mpaa`` without "Rated ", ``collection_id``
    from ``<set tmdbcolid>``) plus ``actors``, ``streams`` (see :func:`nfo_streams`), ``user_state``,
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
                      if isinstance(c.tag, str) and c.tag not in WRITTEN],
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
        "mpaa": mpaa.removeprefix(RATED),
        "ratings": ratings,
        **{name: [el.text or "" for el in movie.findall(tag)] for name, tag in (
            ("genres", "genre"), ("studios", "studio"), ("countries", "country"), ("tags", "tag"),
            ("directors", "director"), ("writers", "credits"))},
        "set_name": _get(movie, "set/name"),
        "set_overview": _get(movie, "set/overview"),
        "collection_id": _collection_id(movie),
        "trailer": _get(movie, "trailer"),
    }
    return {k: v for k, v in fields.items() if v not in ("", None, [], {})}


def _collection_id(movie: etree._Element) -> int | None:
    colid = movie.find("set").get("tmdbcolid", "") if movie.find("set") is not None else ""
    return int(colid) if colid.isdigit() else None


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
