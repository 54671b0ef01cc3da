"""What is inside a video file, in the terms Kodi's ``<fileinfo><streamdetails>`` uses.

Kodi probes files itself with FFmpeg and overwrites ``<fileinfo>`` with what it finds, so the only
values worth writing are FFmpeg's own: codec names as ``ffprobe`` prints them (``codec_name``, which is
the codec id's name, not the decoder's: ``dts`` not ``dca``), its display aspect ratio and its
colour transfer. PyAV links the same libraries, so we ask it rather than guessing from names.

Only headers are read (plus, for HEVC, the first video packet): no frame is decoded, so a probe of a
50 GB remux costs about as much as a probe of a trailer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import av
import av.error
from av.stream import Disposition

from metarr_pipeline.errors import ProbeError
from metarr_pipeline.languages import is_language_token, to_iso639_2
from metarr_pipeline.models import AudioStream, StreamDetails, SubtitleStream, VideoStream

# FFmpeg's AVColorTransferCharacteristic values for the two HDR transfer functions.
_TRC_SMPTE2084 = 16  # PQ: HDR10 and HDR10+ (and the base layer of Dolby Vision profile 8.1)
_TRC_ARIB_STD_B67 = 18  # HLG
# MP4 sample entries that only exist for Dolby Vision streams (profile 5 is always dvh1/dvhe).
_DOVI_CODEC_TAGS = frozenset({"dvh1", "dvhe", "dav1", "dva1", "dvav"})
# HEVC NAL unit types Dolby Vision uses for its RPU (62) and enhancement layer (63).
_DOVI_NAL_TYPES = frozenset({62, 63})
_DOVI_PACKETS_TO_READ = 3

_SUBTITLE_CODECS = {
    "srt": "subrip",
    "ass": "ass",
    "ssa": "ass",
    "vtt": "webvtt",
    "sup": "hdmv_pgs_subtitle",
    "idx": "dvd_subtitle",
    "sub": "dvd_subtitle",
}
_VOB = re.compile(r"^VTS_(\d\d)_(\d)\.VOB$", re.IGNORECASE)


def probe_file(path: Path) -> StreamDetails:
    """Probe one video file; every failure becomes a :class:`ProbeError` that names the file.

    Dolby Vision: PyAV 18 does not expose a stream's coded side data, so the DOVI configuration
    record that ffprobe and Kodi look at cannot be read directly. We report ``dolbyvision`` when the
    MP4 sample entry is a Dolby Vision one (``dvh1``/``dvhe``/``dav1``...) or when the first HEVC
    video packet carries a Dolby Vision RPU or enhancement-layer NAL unit, which every real Dolby
    Vision HEVC stream has in every frame. Not detected: Dolby Vision in AV1 or H.264 streams outside
    MP4, and a configuration record without any RPU (which no real encoder produces).
    """
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise ProbeError(f"cannot probe '{path}': {_describe(exc)}") from exc
    try:
        with container:
            _check_complete(path, container.format.name)
            return _read(path, container)
    except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise ProbeError(f"cannot probe '{path}': {_describe(exc)}") from exc


def _describe(exc: BaseException) -> str:
    """Plain words for the usual causes; FFmpeg's own text in brackets for the rest."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder, not a file"
    if isinstance(exc, av.error.InvalidDataError):
        return f"file is truncated or corrupt ({exc.strerror})"
    if isinstance(exc, EOFError):
        return "file is truncated (it ends in the middle of the data)"
    if isinstance(exc, av.FFmpegError):
        return f"FFmpeg could not read it ({exc.strerror or exc})"
    if isinstance(exc, OSError):
        return (exc.strerror or str(exc)).lower()
    return str(exc)


def _read(path: Path, container: av.container.InputContainer) -> StreamDetails:
    format_name = container.format.name
    if format_name == "image2" or format_name.endswith("_pipe"):
        raise ProbeError(f"cannot probe '{path}': not a video file (FFmpeg reads it as a still image)")
    video_stream = next(
        (s for s in container.streams.video if not s.disposition & Disposition.attached_pic), None
    )
    if video_stream is None:
        kinds = ", ".join(sorted({s.type for s in container.streams}))
        found = f"it has only {kinds} streams" if kinds else "it has no streams at all"
        raise ProbeError(f"cannot probe '{path}': no video stream ({found})")
    video = _video(path, container, video_stream)
    audio = tuple(
        AudioStream(
            codec=_codec_name(s),
            channels=s.codec_context.channels if s.codec_context else 0,
            language=to_iso639_2(s.metadata.get("language", "")),
            profile=_profile(s),
        )
        for s in container.streams.audio
    )
    subtitles = tuple(
        SubtitleStream(
            language=to_iso639_2(s.metadata.get("language", "")),
            forced=bool(s.disposition & Disposition.forced),
            codec=_codec_name(s),
        )
        for s in container.streams.subtitles
    )
    return StreamDetails(video=video, audio=audio, subtitles=subtitles, container=format_name)


def _video(
    path: Path, container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> VideoStream:
    context = stream.codec_context
    if context is None:
        raise ProbeError(f"cannot probe '{path}': this FFmpeg cannot read its video codec")
    width, height = context.width, context.height
    if not width or not height:
        raise ProbeError(f"cannot probe '{path}': the video stream has no picture size")
    # VideoStream.display_aspect_ratio applies the same SAR guess (container, then codec) as ffprobe.
    dar = stream.display_aspect_ratio
    aspect = float(dar) if dar else width / height
    return VideoStream(
        codec=_codec_name(stream),
        width=width,
        height=height,
        aspect=round(aspect, 2),
        duration_seconds=_duration_seconds(container, stream),
        hdr_type=_hdr_type(container, stream),
        stereo_mode=stream.metadata.get("stereo_mode", ""),
    )


def _codec_name(stream: av.stream.Stream) -> str:
    """ffprobe's ``codec_name``: the codec id's name, which a decoder name (``dca``, ``pgssub``,
    ``libdav1d``) is not."""
    try:
        return stream.codec.canonical_name
    except (AttributeError, av.FFmpegError, ValueError):
        return stream.codec_context.name if stream.codec_context else ""


def _profile(stream: av.stream.Stream) -> str:
    """ffprobe's ``profile`` ("DTS-HD MA", "LC" ...), "" when the codec has none: Kodi names DTS by it."""
    try:
        return str(stream.profile or "")
    except (AttributeError, av.FFmpegError, ValueError):
        return ""


def _duration_seconds(container: av.container.InputContainer, stream: av.stream.Stream) -> int:
    if container.duration and container.duration > 0:
        seconds = container.duration / av.time_base
    elif stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    else:
        return 0
    return math.floor(seconds + 0.5)


def _hdr_type(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> str:
    # Dolby Vision first: profile 8.1 is also tagged PQ, and Kodi calls such a file dolbyvision.
    if _is_dolby_vision(container, stream):
        return "dolbyvision"
    transfer = stream.codec_context.color_trc
    if transfer == _TRC_SMPTE2084:
        return "hdr10"
    if transfer == _TRC_ARIB_STD_B67:
        return "hlg"
    return ""


def _is_dolby_vision(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> bool:
    if (stream.codec_tag or "").strip().lower() in _DOVI_CODEC_TAGS:
        return True
    if _codec_name(stream) != "hevc":
        return False
    length_size = _hvcc_length_size(stream.codec_context.extradata or b"")
    for count, packet in enumerate(container.demux(stream), start=1):
        if packet.size and _DOVI_NAL_TYPES & _hevc_nal_types(bytes(packet), length_size):
            return True
        if count >= _DOVI_PACKETS_TO_READ:
            break
    return False


def _hvcc_length_size(extradata: bytes) -> int:
    """NAL length-prefix size from an ``hvcC`` record (MP4, Matroska); 0 means Annex B start codes
    (MPEG-TS, raw streams)."""
    if len(extradata) >= 23 and extradata[0] == 1:
        return (extradata[21] & 0x03) + 1
    return 0


def _hevc_nal_types(data: bytes, length_size: int) -> set[int]:
    types: set[int] = set()
    if length_size and not data.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        pos = 0
        while pos + length_size < len(data):
            size = int.from_bytes(data[pos : pos + length_size], "big")
            types.add((data[pos + length_size] >> 1) & 0x3F)
            pos += length_size + size
        return types
    for match in re.finditer(b"\x00\x00\x01", data):
        if match.end() < len(data):
            types.add((data[match.end()] >> 1) & 0x3F)
    return types


# --- truncated files -----------------------------------------------------------------------------
# FFmpeg happily opens a Matroska or MP4 file cut short (a copy still in progress, a broken download):
# the headers are intact and even the duration is right. The container's own declared size is the
# cheap, exact tell. MPEG-PS/TS have no declared size, so a cut one is indistinguishable from a short
# one and is not reported.


def _check_complete(path: Path, format_name: str) -> None:
    with path.open("rb") as handle:
        actual = path.stat().st_size
        if format_name.startswith("matroska"):
            declared = _matroska_end(handle.read(64))
            what = "Matroska segment ends"
        elif format_name.startswith("mov,mp4"):
            declared = _boxes_end(handle, actual, header=8, little_endian=False)
            what = "last MP4 box ends"
        elif format_name == "avi":
            declared = _boxes_end(handle, actual, header=8, little_endian=True)
            what = "last AVI RIFF chunk ends"
        else:
            return
    if declared is not None and declared > actual:
        raise ProbeError(
            f"cannot probe '{path}': file is truncated or corrupt (its {what} at byte {declared:,} but "
            f"the file has only {actual:,} bytes)"
        )


def _read_vint(data: bytes, pos: int) -> tuple[int, int, bool] | None:
    """One EBML variable-length integer: (value, length, all-ones = "unknown size")."""
    if pos >= len(data) or data[pos] == 0:
        return None
    length = 8 - data[pos].bit_length() + 1
    if pos + length > len(data):
        return None
    value = data[pos] & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, length, value == (1 << (7 * length)) - 1


def _matroska_end(head: bytes) -> int | None:
    """Byte offset where the Segment ends, or None when it is unknown (live-written files)."""
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    header = _read_vint(head, 4)
    if header is None:
        return None
    pos = 4 + header[1] + header[0]
    if head[pos : pos + 4] != b"\x18\x53\x80\x67":
        return None
    segment = _read_vint(head, pos + 4)
    if segment is None or segment[2]:
        return None
    return pos + 4 + segment[1] + segment[0]


def _boxes_end(handle: BinaryIO, actual: int, *, header: int, little_endian: bool, limit: int = 10_000) -> int | None:
    """Walk top-level MP4 boxes / RIFF chunks by their sizes and return where the last one ends."""
    order = "little" if little_endian else "big"
    pos = 0
    for _ in range(limit):
        if pos + header > actual:
            return pos
        handle.seek(pos)
        head = handle.read(16)
        if little_endian:
            size = int.from_bytes(head[4:8], order) + 8
            size += size & 1  # RIFF chunks are padded to an even length
            if size == 8:
                return None  # a writer that never filled the size in: nothing to compare
        else:
            size = int.from_bytes(head[0:4], order)
            if size == 1:
                size = int.from_bytes(head[8:16], order)
            elif size == 0:
                return actual  # "extends to the end of the file"
            if size < 8:
                return None  # not a box header: let FFmpeg be the judge
        pos += size
        if pos >= actual:
            return pos
    return None


# --- sidecar subtitles ---------------------------------------------------------------------------


def external_subtitles(video: Path, sibling_names: Iterable[str]) -> tuple[SubtitleStream, ...]:
    """Sidecar subtitles Kodi attaches to ``video``: ``{stem}[.tokens].{ext}`` in the same folder.

    Works on names only (the caller has listed the folder already). The language is the first token
    that is a language code, ``forced`` any token spelled so; ``.sub`` files that belong to an
    ``.idx`` (VobSub) are not counted twice.
    """
    names = sorted(set(sibling_names))
    lowered = {name.lower() for name in names}
    stem = video.stem
    found: list[SubtitleStream] = []
    for name in names:
        base, dot, ext = name.rpartition(".")
        ext = ext.lower()
        if not dot or ext not in _SUBTITLE_CODECS:
            continue
        if base != stem and not base.startswith(stem + "."):
            continue
        if ext == "sub" and f"{base}.idx".lower() in lowered:
            continue
        tokens = base[len(stem) + 1 :].split(".") if base != stem else []
        language = next((to_iso639_2(t) for t in tokens if is_language_token(t)), "")
        forced = any(t.lower() == "forced" for t in tokens)
        found.append(
            SubtitleStream(language=language, external=True, forced=forced, codec=_SUBTITLE_CODECS[ext],
                           path=name)
        )
    return tuple(found)


# --- disc structures -----------------------------------------------------------------------------


def main_title_file(movie_folder: Path, kind: str) -> Path:
    """The file that holds the main feature of a disc structure, which is what Kodi probes.

    ``dvd``/``dvd_flat``: the title set with the most bytes of VOBs (menus and extras are small), and
    its first part ``VTS_nn_1.VOB``. ``bluray``: the largest ``BDMV/STREAM/*.m2ts``.
    """
    try:
        if kind == "dvd":
            return _dvd_main_title(_child(movie_folder, "VIDEO_TS"))
        if kind == "dvd_flat":
            return _dvd_main_title(movie_folder)
        if kind == "bluray":
            return _bluray_main_title(_child(_child(movie_folder, "BDMV"), "STREAM"))
    except OSError as exc:
        raise ProbeError(f"cannot find the main title in '{movie_folder}': {_describe(exc)}") from exc
    raise ValueError(f"unknown disc kind {kind!r} (expected dvd, dvd_flat or bluray)")


def _child(folder: Path, name: str) -> Path:
    """Disc folders are upper-case by the standard, but copies made on Windows are not always."""
    exact = folder / name
    if exact.is_dir():
        return exact
    for entry in folder.iterdir():
        if entry.name.upper() == name and entry.is_dir():
            return entry
    raise ProbeError(f"cannot find the main title in '{folder}': no {name} folder")


def _dvd_main_title(folder: Path) -> Path:
    title_sets: dict[int, dict[int, Path]] = {}
    sizes: dict[int, int] = {}
    for entry in folder.iterdir():
        match = _VOB.match(entry.name)
        if not match or int(match.group(2)) == 0 or not entry.is_file():
            continue  # part 0 is the title set's menu
        title = int(match.group(1))
        title_sets.setdefault(title, {})[int(match.group(2))] = entry
        sizes[title] = sizes.get(title, 0) + entry.stat().st_size
    if not title_sets:
        raise ProbeError(f"cannot find the main title in '{folder}': no VTS_nn_1.VOB files")
    best = max(sorted(sizes), key=lambda title: sizes[title])
    parts = title_sets[best]
    return parts[min(parts)]


def _bluray_main_title(folder: Path) -> Path:
    streams = sorted(
        (e for e in folder.iterdir() if e.suffix.lower() == ".m2ts" and e.is_file()), key=lambda e: e.name
    )
    if not streams:
        raise ProbeError(f"cannot find the main title in '{folder}': no .m2ts files")
    return max(streams, key=lambda e: e.stat().st_size)
