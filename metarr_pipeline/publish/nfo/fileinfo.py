"""``<fileinfo><streamdetails>``: what the probe found, as far as an NFO can carry it.

A wrong value is worse than none (Kodi shows it and stops probing), so a zero from a failed probe is left out.
"""

from __future__ import annotations

import math
from dataclasses import replace

from lxml import etree

from metarr_pipeline.models import StreamDetails, SubtitleStream
from metarr_pipeline.publish.nfo.values import sub


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


def fileinfo(movie: etree._Element, streams: StreamDetails | None) -> None:
    streams = nfo_streams(streams)
    if streams is None or streams.video is None:
        return
    details = etree.SubElement(etree.SubElement(movie, "fileinfo"), "streamdetails")
    v = streams.video
    video = etree.SubElement(details, "video")
    sub(video, "codec", v.codec)
    sub(video, "aspect", _aspect(v.aspect))
    sub(video, "width", _positive(v.width))
    sub(video, "height", _positive(v.height))
    sub(video, "durationinseconds", _positive(v.duration_seconds))
    sub(video, "stereomode", v.stereo_mode)
    sub(video, "hdrtype", v.hdr_type)
    for a in streams.audio:
        audio = etree.SubElement(details, "audio")
        sub(audio, "codec", a.codec)
        sub(audio, "language", a.language)
        sub(audio, "channels", _positive(a.channels))
    for s in streams.subtitles:
        # Kept even without a language (<subtitle/>): Kodi counts subtitle streams one per element.
        sub(etree.SubElement(details, "subtitle"), "language", s.language)


def _aspect(aspect: float) -> str | None:
    """Two decimals as the probe rounds it ("2.40"); exact digits if the value has more precision."""
    if not math.isfinite(aspect) or aspect <= 0:
        return None
    text = f"{aspect:.2f}"
    return text if float(text) == aspect else repr(float(aspect))


def _positive(value: int) -> int | None:
    """A zero from a failed probe is left out: a wrong <fileinfo> value is worse than none."""
    return value if value > 0 else None
