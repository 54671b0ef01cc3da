"""Whether Kodi will find a local trailer for a movie, in which case the NFO carries no ``<trailer>`` URL.

Kodi's own rule (``CFileItem::FindTrailer`` / ``VideoUtils::FindTrailer``): in the video's folder, a video
file named ``<video name without extension>-trailer.<video extension>`` (for a stack, also the first part's
name), or ``movie-trailer.<video extension>``, compared case-insensitively; disc structures (DVD, Blu-ray)
never have a local trailer. The scan applies Kodi's exclusions to the same files (``-trailer`` is one of them,
see ``scan.discover``), so they are never taken for the movie itself. Checked at publish time, from the folder
as it is then: a trailer added after the scan still wins over the URL.
"""

from __future__ import annotations

import os

# Kodi's default video extensions that a trailer realistically has (the scan's list of video extensions).
_VIDEO_EXTENSIONS = frozenset({
    "mkv", "mp4", "m4v", "avi", "mov", "wmv", "ts", "m2ts", "mts", "webm", "mpg", "mpeg", "divx", "flv",
    "ogm", "ogv", "vob", "3gp", "rmvb", "iso",
})


def local_trailer(folder: str, kind: str, basename: str, video_file: str | None) -> str | None:
    """The name of the local trailer Kodi would play for this movie, or None."""
    if kind != "file":
        return None
    stems = {f"{basename}-trailer".casefold(), "movie-trailer"}
    if video_file:
        stems.add(f"{video_file.rpartition('.')[0] or video_file}-trailer".casefold())
    try:
        names = os.listdir(folder)
    except OSError:
        return None  # an unreadable folder fails the publish elsewhere, with its reason
    for name in sorted(names):
        stem, dot, ext = name.rpartition(".")
        if dot and ext.lower() in _VIDEO_EXTENSIONS and stem.casefold() in stems \
                and os.path.isfile(os.path.join(folder, name)):
            return name
    return None
