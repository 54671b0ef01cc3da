"""Plain values passed between the scan, the store and the assets.

Frozen dataclasses: cheap to build, hashable where it matters, and impossible to mutate behind the
store's back. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class VideoStream:
    """The first (main) video stream, in the terms Kodi's ``<streamdetails><video>`` uses."""

    codec: str  # ffmpeg codec name: h264, hevc, av1, mpeg2video ...
    width: int
    height: int
    aspect: float  # display aspect ratio as a decimal, rounded to 2 places (2.40, 1.78)
    duration_seconds: int
    hdr_type: str = ""  # hdr10, hlg, dolbyvision or ""
    stereo_mode: str = ""  # mkv stereo mode tag when present (e.g. "left_right")


@dataclass(frozen=True)
class AudioStream:
    codec: str  # ffmpeg codec name: aac, ac3, eac3, dts, truehd, flac ...
    channels: int
    language: str = ""  # 3-letter code as the file stores it ("" when unknown / und)
    # FFmpeg's profile name ("DTS-HD MA", "DTS-HD HRA", "DTS", "LC" ...; "" when none): Kodi names DTS by it
    profile: str = ""


@dataclass(frozen=True)
class SubtitleStream:
    language: str = ""  # 3-letter code ("" when unknown)
    external: bool = False  # a sidecar file next to the video rather than a stream inside it
    forced: bool = False
    codec: str = ""  # subrip, ass, hdmv_pgs_subtitle ... ("srt"/"ass" extension for sidecars)
    path: str = ""  # sidecar file name (relative to the movie folder) for external subtitles


@dataclass(frozen=True)
class StreamDetails:
    """Everything a probe of one video file tells, ready for ``<fileinfo><streamdetails>``."""

    video: VideoStream | None
    audio: tuple[AudioStream, ...] = ()
    subtitles: tuple[SubtitleStream, ...] = ()
    container: str = ""  # FFmpeg's demuxer name, e.g. "matroska,webm" / "mov,mp4,m4a,3gp,3g2,mj2"


@dataclass(frozen=True)
class UserState:
    """What the user (or their player) put in an existing NFO that we must never lose."""

    playcount: int | None = None
    lastplayed: str = ""
    watched: bool | None = None
    dateadded: str = ""
    userrating: float | None = None
    resume_position: float | None = None
    resume_total: float | None = None


@dataclass(frozen=True)
class ExistingNfo:
    """A leniently read NFO: ids, title hints, user state, locks and the tags we do not write."""

    path: str
    uniqueids: dict[str, str] = field(default_factory=dict)  # type → value, e.g. {"tmdb": "603"}
    title: str = ""
    year: int | None = None
    user_state: UserState = field(default_factory=UserState)
    lockdata: bool = False
    locked_fields: tuple[str, ...] = ()  # Jellyfin <lockedfields>, lower-cased
    foreign_tags: tuple[str, ...] = ()  # serialised XML of top-level elements we do not manage
    fields: dict[str, object] = field(default_factory=dict)  # managed fields as the NFO has them (merge base)
    recovered: bool = False  # the XML was malformed and read in recovery mode
    problem: str = ""  # why it could not be read fully ("" when fine)


@dataclass(frozen=True)
class SearchOutcome:
    """What a provider search found: one confident id, or candidates to show the user."""

    tmdb_id: int | None
    candidates: tuple[str, ...] = ()  # "Title (Year) tmdb-N" lines for the report
    reason: str = ""


# Tags the pipeline writes or deliberately drops on publish; every other top-level tag is foreign.
MANAGED_TAGS = frozenset({
    "title", "originaltitle", "sorttitle", "outline", "plot", "tagline", "runtime", "mpaa", "certification",
    "genre", "country", "studio", "director", "credits", "writer", "tag", "set", "premiered", "year",
    "releasedate", "ratings", "rating", "votes", "uniqueid", "id", "tmdbid", "imdbid", "imdb", "tmdb",
    "actor", "fileinfo", "thumb", "fanart", "playcount", "lastplayed", "watched", "dateadded", "userrating",
    "resume", "lockdata", "lockedfields", "trailer",
})
