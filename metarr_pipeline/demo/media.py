"""Tiny real video files, encoded with PyAV's bundled FFmpeg.

The demo library must be probed by the same code (and the same FFmpeg) as a real library, so its files
are genuine containers with genuine streams: a stub with the right extension would only test the error
path. They are kept to a few frames of a flat moving pattern so a whole library is written in about a
second and weighs well under a megabyte.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import av.logging
import numpy as np
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

from metarr_pipeline.errors import DemoError

AudioSpec = tuple[str, int, str]  # (codec, channels, language or "")
SubtitleSpec = tuple[str, bool]  # (language, forced)

_FORMATS = {
    ".mkv": "matroska",
    ".mp4": "mp4",
    ".m4v": "mp4",
    ".avi": "avi",
    ".m2ts": "mpegts",
    ".ts": "mpegts",
    ".vob": "vob",
    ".mpg": "mpeg",
    ".webm": "webm",  # vp9 or av1 video, opus audio only
}
_ENCODERS = {
    "h264": "libx264", "hevc": "libx265", "mpeg2video": "mpeg2video", "mpeg4": "mpeg4",
    "vp9": "libvpx-vp9", "av1": "libsvtav1",
}
_AUDIO_ENCODERS = {"opus": "libopus"}  # FFmpeg's native opus encoder is still experimental
# Low but valid bit rates: the defaults (448 kb/s for 5.1 AC-3) would make every file ten times bigger.
_AUDIO_BIT_RATES = {"aac": 32_000, "ac3": 96_000, "eac3": 96_000, "mp2": 64_000, "opus": 32_000}
_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}
_SAMPLE_RATE = 48_000
# MPEG-2 only knows these frame rates; anything else is rejected by the encoder.
_MPEG2_RATES = (Fraction(24000, 1001), 24, 25, Fraction(30000, 1001), 30, 50, Fraction(60000, 1001), 60)
# SMPTE ST 2086 values of a typical UHD Blu-ray master (P3 primaries, 1000 nits), in x265's syntax.
_MASTER_DISPLAY = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"
# Single-threaded, no thread pools: x265/x264 output then depends only on the input, and tiny
# frames encode faster without the pool start-up cost.
_X265_BASE = "log-level=error:pools=none:frame-threads=1:info=0"
# Annex B start code + HEVC NAL header of type 62 (UNSPEC62, Dolby Vision RPU) + a few payload bytes.
_PLACEHOLDER_RPU = b"\x00\x00\x00\x01\x7c\x01\x19\x08\x09\x00\x80"


def write_video(
    path: Path,
    *,
    video_codec: str = "h264",
    width: int = 320,
    height: int = 180,
    seconds: float = 1.0,
    fps: int | Fraction = 10,
    audio: Sequence[AudioSpec] = (("aac", 2, "eng"),),
    subtitles: Sequence[SubtitleSpec] = (),
    hdr10: bool = False,
    sample_aspect: tuple[int, int] | None = None,
    title: str = "",
    dolby_vision: bool = False,
) -> Path:
    """Encode a short real video at ``path`` (container from the extension) and return the path.

    A failed encode removes the partial file and raises :class:`DemoError`, so a half-written demo
    movie never looks like a corrupt user file to the scan.

    ``dolby_vision`` (HDR10 HEVC in .mkv only) imitates a Dolby Vision profile 8.1 file: the stream
    carries a real DOVI configuration record, and every frame a placeholder RPU NAL unit. The RPU
    is not a valid one (no encoder here can make one), so players treat the file as HDR10; it exists
    to test detection, not playback.
    """
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DemoError(f"cannot write demo video '{path}': unsupported extension {path.suffix!r}")
    if video_codec not in _ENCODERS:
        raise DemoError(f"cannot write demo video '{path}': unsupported video codec {video_codec!r}")
    if hdr10 and video_codec != "hevc":
        raise DemoError(f"cannot write demo video '{path}': HDR10 needs hevc, not {video_codec}")
    if dolby_vision and not (hdr10 and fmt == "matroska"):
        raise DemoError(f"cannot write demo video '{path}': Dolby Vision needs hdr10=True and .mkv")
    if subtitles and fmt != "matroska":
        raise DemoError(f"cannot write demo video '{path}': embedded subtitles are only written to .mkv")
    if video_codec == "mpeg2video" and fps not in _MPEG2_RATES:
        fps = 25
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _quiet_ffmpeg():
            _encode(path, fmt, video_codec, width, height, seconds, fps, audio, subtitles, hdr10,
                    sample_aspect, title, dolby_vision)
    except (av.FFmpegError, OSError, ValueError) as exc:
        path.unlink(missing_ok=True)
        raise DemoError(f"cannot write demo video '{path}': {exc}") from exc
    return path


@contextlib.contextmanager
def _quiet_ffmpeg() -> Iterator[None]:
    """Encoders chat at INFO level; only errors are worth showing, and only while we encode.

    x265 and SVT-AV1 print straight to stderr, past FFmpeg's logger: x265 is quietened by its
    ``log-level`` parameter, SVT-AV1 only by the ``SVT_LOG`` environment variable (1 = errors).
    """
    previous = av.logging.get_level()
    previous_svt = os.environ.get("SVT_LOG")
    av.logging.set_level(av.logging.ERROR)
    os.environ["SVT_LOG"] = previous_svt or "1"
    try:
        yield
    finally:
        av.logging.set_level(previous)
        if previous_svt is None:
            os.environ.pop("SVT_LOG", None)


def _encode(
    path: Path,
    fmt: str,
    video_codec: str,
    width: int,
    height: int,
    seconds: float,
    fps: int | Fraction,
    audio: Sequence[AudioSpec],
    subtitles: Sequence[SubtitleSpec],
    hdr10: bool,
    sample_aspect: tuple[int, int] | None,
    title: str,
    dolby_vision: bool,
) -> None:
    container_options = {"fflags": "+bitexact"}
    if path.suffix.lower() == ".m2ts":
        container_options["mpegts_m2ts_mode"] = "1"  # 192-byte packets, as on a Blu-ray disc
    if fmt == "mp4":
        container_options["movflags"] = "+faststart"  # index first, as most downloaded files have it
    with av.open(str(path), "w", format=fmt, container_options=container_options) as out:
        if title:
            out.metadata["title"] = title
        video = _add_video(out, video_codec, width, height, fps, hdr10, sample_aspect, dolby_vision)
        encode = _dolby_vision_encoder(video) if dolby_vision else video.encode
        audio_streams = [_add_audio(out, codec, channels, language) for codec, channels, language in audio]
        subtitle_streams = _add_subtitles(out, subtitles, seconds)

        for packet in subtitle_streams:
            out.mux(packet)
        n_frames = max(1, round(seconds * float(fps)))
        for index, frame in enumerate(_video_frames(width, height, n_frames)):
            frame.pts = index
            out.mux(encode(frame))
        out.mux(encode(None))
        n_samples = round(seconds * _SAMPLE_RATE)
        for stream, (_codec, channels, _lang) in zip(audio_streams, audio, strict=True):
            for frame in _audio_frames(channels, n_samples):
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))


def _add_video(
    out: av.container.OutputContainer,
    codec: str,
    width: int,
    height: int,
    fps: int | Fraction,
    hdr10: bool,
    sample_aspect: tuple[int, int] | None,
    dolby_vision: bool = False,
) -> av.video.stream.VideoStream:
    options = {"flags": "+bitexact"}
    if codec == "h264":
        options |= {"preset": "veryfast", "threads": "1"}
    elif codec == "hevc":
        x265 = _X265_BASE
        if hdr10:
            x265 += f":hdr10=1:master-display={_MASTER_DISPLAY}:max-cll=1000,400"
        if dolby_vision:
            x265 += ":vbv-bufsize=1000:vbv-maxrate=1000"  # x265 refuses Dolby Vision without VBV
            options["dolbyvision"] = "1"
        options |= {"preset": "veryfast", "x265-params": x265}
    stream = out.add_stream(_ENCODERS[codec], rate=fps, options=options)
    stream.width, stream.height = width, height
    stream.pix_fmt = "yuv420p10le" if hdr10 else "yuv420p"
    context = stream.codec_context
    if hdr10:
        # Set on the codec context, these reach both x265's VUI (FFmpeg's wrapper copies them) and the
        # container's own colour fields (Matroska Colour, MP4 colr), which readers that never parse the
        # HEVC SPS rely on. x265-params colour flags alone would only do the former.
        context.color_primaries = ColorPrimaries.BT2020
        context.color_trc = ColorTrc.SMPTE2084
        context.colorspace = Colorspace.BT2020
        context.color_range = ColorRange.MPEG
    if sample_aspect:
        context.sample_aspect_ratio = Fraction(*sample_aspect)
    return stream


def _dolby_vision_encoder(stream: av.video.stream.VideoStream) -> Callable[[av.VideoFrame | None], list[av.Packet]]:
    """Encode with a twin libx265 that has Dolby Vision off, into ``stream`` that has it on.

    FFmpeg's libx265 wrapper writes the DOVI configuration record when the stream's encoder is opened
    with ``dolbyvision=1``, but then demands Dolby Vision metadata on every frame, which PyAV cannot
    attach. So the stream's encoder is only opened (for its record and headers) and the frames go
    through a twin; each packet gets a placeholder RPU NAL unit (type 62), as real Dolby Vision has.
    """
    context = stream.codec_context
    options = {k: v for k, v in context.options.items() if k != "dolbyvision"}  # open() consumes them
    context.open()
    twin = av.codec.CodecContext.create("libx265", "w")
    twin.width, twin.height, twin.pix_fmt = context.width, context.height, context.pix_fmt
    twin.color_primaries, twin.color_trc = context.color_primaries, context.color_trc
    twin.colorspace, twin.color_range = context.colorspace, context.color_range
    twin.time_base, twin.framerate = context.time_base, context.framerate
    twin.options = options

    def encode(frame: av.VideoFrame | None) -> list[av.Packet]:
        packets = []
        for packet in twin.encode(frame):
            marked = av.Packet(bytes(packet) + _PLACEHOLDER_RPU)
            marked.pts, marked.dts, marked.duration = packet.pts, packet.dts, packet.duration
            marked.time_base, marked.is_keyframe = packet.time_base, packet.is_keyframe
            marked.stream = stream
            packets.append(marked)
        return packets

    return encode


def _add_audio(
    out: av.container.OutputContainer, codec: str, channels: int, language: str
) -> av.audio.stream.AudioStream:
    if channels not in _LAYOUTS:
        raise ValueError(f"unsupported audio channel count {channels}")
    options = {"flags": "+bitexact"}
    encoder = _AUDIO_ENCODERS.get(codec, codec)
    stream = out.add_stream(encoder, rate=_SAMPLE_RATE, layout=_LAYOUTS[channels], options=options)
    if codec in _AUDIO_BIT_RATES:
        stream.codec_context.bit_rate = _AUDIO_BIT_RATES[codec] * (2 if channels > 2 else 1)
    if language:
        stream.metadata["language"] = language
    return stream


def _add_subtitles(
    out: av.container.OutputContainer, subtitles: Sequence[SubtitleSpec], seconds: float
) -> list[av.Packet]:
    """Add one SubRip stream per spec and return its packets, ready to mux.

    PyAV has no SubRip encoder path from text, so a one-cue .srt is demuxed from memory and its
    packets are copied into streams made from that template: the muxer sees exactly what remuxing a
    real .srt would give it.
    """
    if not subtitles:
        return []
    end = max(100, int(seconds * 800))  # milliseconds: the cue ends before the video does
    stamp = f"{end // 3_600_000:02d}:{end // 60_000 % 60:02d}:{end // 1000 % 60:02d},{end % 1000:03d}"
    srt = f"1\n00:00:00,000 --> {stamp}\nDemo\n\n".encode()
    packets: list[av.Packet] = []
    with av.open(io.BytesIO(srt), format="srt") as source:
        template = source.streams.subtitles[0]
        cues = [p for p in source.demux(template) if p.size]
        for language, forced in subtitles:
            stream = out.add_stream_from_template(template)
            if language:
                stream.metadata["language"] = language
            if forced:
                stream.disposition = av.stream.Disposition.forced
            for cue in cues:
                packet = av.Packet(bytes(cue))
                packet.pts, packet.dts, packet.duration = cue.pts, cue.dts, cue.duration
                packet.time_base = cue.time_base
                packet.stream = stream
                packets.append(packet)
    return packets


def _video_frames(width: int, height: int, count: int) -> Iterator[av.VideoFrame]:
    """A grey ramp with a white bar sliding across it: cheap to encode, different on every frame."""
    ramp = np.linspace(32, 160, width, dtype=np.uint8)
    base = np.repeat(np.tile(ramp, (height, 1))[:, :, None], 3, axis=2)
    bar = max(4, width // 10)
    for index in range(count):
        image = base.copy()
        left = (index * bar // 2) % max(1, width - bar)
        image[:, left : left + bar] = 235
        yield av.VideoFrame.from_ndarray(image, format="rgb24")


def _audio_frames(channels: int, n_samples: int) -> Iterator[av.AudioFrame]:
    """A quiet 440 Hz tone in 0.1 s chunks; PyAV re-chunks to whatever frame size the encoder wants."""
    chunk = _SAMPLE_RATE // 10
    for start in range(0, n_samples, chunk):
        count = min(chunk, n_samples - start)
        t = (np.arange(start, start + count) / _SAMPLE_RATE).astype(np.float32)
        tone = (0.05 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(tone[None, :], channels, axis=0), format="fltp", layout=_LAYOUTS[channels]
        )
        frame.sample_rate = _SAMPLE_RATE
        frame.pts = start
        yield frame
