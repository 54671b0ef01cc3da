"""The demo movie library: thirteen folders that exercise every branch of the scan.

Each folder stands for a case a real library has: ids in folder names in both Jellyfin and Radarr
spelling, an existing user NFO with watch state to keep (and a cast locked with Jellyfin's ``Cast``), HDR,
disc structures, samples, trailers and extras to ignore, non-Latin names, a film only a title search can
find, one only its alternative (romanised) title finds, and one that cannot be identified at all. Other
modules' tests depend on these exact names.

The simulator's hostile cases each land on a demo film (``simulator/known.py`` plants them):

* an alternative-title-only film: "Kimi no Na wa (2016)" is *Your Name.* (tmdb 372058);
* a wrong declared size: Schindler's List's best poster declares 2000×3000 but is served at 1000×1500;
* a misnamed PNG: Se7en's best poster is a PNG under a ``.jpg`` name;
* a locked cast: Amélie's user NFO locks the cast (Jellyfin ``<lockedfields>Cast``).

The generator owns only the folders listed here: re-generating deletes those and nothing else, so a
demo root the user has added their own folders to is safe.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from metarr_pipeline.demo.media import write_video
from metarr_pipeline.errors import DemoError

DEMO_VERSION = "3"
MARKER = ".metarr-demo"


@dataclass(frozen=True)
class DemoMovie:
    folder: str
    kind: str  # file | dvd | bluray, as the scan's discovery calls them
    main: str  # the main video, relative to the folder (for discs: the main title Kodi probes)
    videos: tuple[tuple[str, dict[str, Any]], ...]  # (relative path, write_video keyword arguments)
    texts: tuple[tuple[str, str], ...] = ()  # (relative path, UTF-8 text)
    blobs: tuple[tuple[str, bytes], ...] = ()  # (relative path, bytes)


def _padded(magic: bytes, size: int = 2048) -> bytes:
    """Disc index files only need to exist and look right to a sniffer; their magic, zero-padded."""
    return magic + bytes(size - len(magic))


def _srt(text: str) -> str:
    return f"1\n00:00:00,500 --> 00:00:01,500\n{text}\n\n"


_AMELIE_NFO = """\
<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<movie>
    <title>Amélie</title>
    <uniqueid type="tmdb" default="true">194</uniqueid>
    <uniqueid type="imdb">tt0211915</uniqueid>
    <playcount>3</playcount>
    <lastplayed>2024-12-24 21:03:00</lastplayed>
    <dateadded>2019-05-01 10:00:00</dateadded>
    <userrating>9</userrating>
    <watched>true</watched>
    <resume>
        <position>1234.0</position>
        <total>7320.0</total>
    </resume>
    <mycollection>Favourites</mycollection>
    <director>Jean-Pierre Jeunet</director>
    <credits>Guillaume Laurant</credits>
    <credits>Jean-Pierre Jeunet</credits>
    <lockedfields>Cast</lockedfields>
    <actor><name>Audrey Tautou</name><role>Amélie</role><order>0</order></actor>
    <actor><name>Dominique Pinon</name><role>Joseph</role><order>1</order></actor>
</movie>
"""

_STEREO = (("aac", 2, "eng"),)
_MAIN = {"seconds": 2.0}  # main features are longer (so larger) than the samples and extras next to them

DEMO_MOVIES: tuple[DemoMovie, ...] = (
    DemoMovie(
        "The Matrix (1999) {tmdb-603}", "file", "The Matrix (1999) {tmdb-603}.mkv",
        videos=(("The Matrix (1999) {tmdb-603}.mkv", {
            **_MAIN, "width": 320, "height": 134, "audio": (("ac3", 6, "eng"), ("aac", 2, "eng")),
            "subtitles": (("eng", False), ("fre", False)),
        }),),
        texts=(("The Matrix (1999) {tmdb-603}.fre.forced.srt", _srt("Suivez le lapin blanc.")),),
    ),
    DemoMovie(
        "Amélie (2001)", "file", "Amélie (2001).mkv",
        videos=(("Amélie (2001).mkv", {
            **_MAIN, "video_codec": "hevc", "audio": (("aac", 2, "fre"), ("aac", 2, "eng")),
        }),),
        texts=(("Amélie (2001).nfo", _AMELIE_NFO),),
    ),
    DemoMovie(
        "Léon - The Professional (1994) [tmdbid-101]", "file", "Léon - The Professional (1994).mp4",
        videos=(("Léon - The Professional (1994).mp4", {
            **_MAIN, "width": 320, "height": 136, "audio": (("aac", 2, "eng"), ("aac", 2, "fre")),
        }),),
        texts=(("Léon - The Professional (1994).en.srt", _srt("No women, no kids.")),),
    ),
    DemoMovie(
        "Blade Runner 2049 (2017) {tmdb-335984}", "file", "Blade Runner 2049 (2017).mkv",
        videos=(("Blade Runner 2049 (2017).mkv", {
            **_MAIN, "video_codec": "hevc", "hdr10": True, "width": 320, "height": 134,
            "audio": (("eac3", 6, "eng"), ("ac3", 6, "ger")),
        }),),
    ),
    DemoMovie(
        # MPEG-PS cannot carry a language tag (a DVD keeps it in the IFO), so the audio has none.
        "Heat (1995) {tmdb-949}", "dvd", "VIDEO_TS/VTS_01_1.VOB",
        videos=(
            ("VIDEO_TS/VTS_01_1.VOB", {
                "seconds": 3.0, "video_codec": "mpeg2video", "width": 352, "height": 240,
                "fps": Fraction(30000, 1001), "sample_aspect": (10, 11), "audio": (("ac3", 2, "eng"),),
            }),
            ("VIDEO_TS/VTS_02_1.VOB", {
                "seconds": 0.5, "video_codec": "mpeg2video", "width": 352, "height": 240,
                "fps": Fraction(30000, 1001), "sample_aspect": (10, 11), "audio": (("ac3", 2, "eng"),),
            }),
        ),
        blobs=(
            ("VIDEO_TS/VIDEO_TS.IFO", _padded(b"DVDVIDEO-VMG")),
            ("VIDEO_TS/VIDEO_TS.BUP", _padded(b"DVDVIDEO-VMG")),
            ("VIDEO_TS/VTS_01_0.IFO", _padded(b"DVDVIDEO-VTS")),
            ("VIDEO_TS/VTS_02_0.IFO", _padded(b"DVDVIDEO-VTS")),
        ),
    ),
    DemoMovie(
        "Inception (2010) {tmdb-27205}", "bluray", "BDMV/STREAM/00000.m2ts",
        videos=(
            ("BDMV/STREAM/00000.m2ts", {"seconds": 3.0, "audio": (("ac3", 6, "eng"),)}),
            ("BDMV/STREAM/00001.m2ts", {"seconds": 0.5, "audio": (("ac3", 2, "eng"),)}),
        ),
        blobs=(
            ("BDMV/index.bdmv", _padded(b"INDX0200", 256)),
            ("BDMV/MovieObject.bdmv", _padded(b"MOBJ0200", 256)),
        ),
    ),
    DemoMovie(
        "Crouching Tiger, Hidden Dragon (2000) {imdb-tt0190332}", "file",
        "Crouching Tiger, Hidden Dragon (2000).mkv",
        videos=(("Crouching Tiger, Hidden Dragon (2000).mkv", {
            **_MAIN, "audio": (("aac", 2, "chi"), ("aac", 2, "eng")), "subtitles": (("eng", False),),
        }),),
    ),
    DemoMovie(
        "Schindler's List (1993)", "file", "Schindler's List (1993).mkv",
        videos=(("Schindler's List (1993).mkv", {**_MAIN, "audio": _STEREO}),),
    ),
    DemoMovie(
        "Se7en (1995) {tmdb-807}", "file", "Se7en (1995).avi",
        videos=(
            ("Se7en (1995).avi", {**_MAIN, "video_codec": "mpeg4", "audio": (("mp2", 2, ""),)}),
            ("Se7en (1995)-trailer.mkv", {"seconds": 0.5, "audio": _STEREO}),
            ("Sample/Se7en sample.mkv", {"seconds": 0.5, "audio": _STEREO}),
        ),
    ),
    DemoMovie(
        "Pulp Fiction (1994) {tmdb-680}", "file", "Pulp Fiction (1994).mkv",
        videos=(
            ("Pulp Fiction (1994).mkv", {
                **_MAIN, "width": 320, "height": 172, "audio": (("aac", 2, "eng"), ("ac3", 2, "spa")),
            }),
            ("Pulp Fiction (1994).sample.mkv", {"seconds": 0.5, "width": 320, "height": 172, "audio": _STEREO}),
            ("Extras/Behind the Scenes.mkv", {"seconds": 0.5, "audio": _STEREO}),
        ),
    ),
    DemoMovie(
        "千と千尋の神隠し (2001) {tmdb-129}", "file", "千と千尋の神隠し (2001).mkv",
        videos=(("千と千尋の神隠し (2001).mkv", {**_MAIN, "audio": (("aac", 2, "jpn"), ("aac", 2, "eng"))}),),
        texts=(("千と千尋の神隠し (2001).en.srt", _srt("Don't look back until you're out of the tunnel.")),),
    ),
    DemoMovie(
        # Filed under its romanised title, as anime collections are: neither TMDB's title ("Your Name.") nor
        # the original ("君の名は。") matches, only an alternative title does (identify's alternative-title rung).
        "Kimi no Na wa (2016)", "file", "Kimi no Na wa (2016).mkv",
        videos=(("Kimi no Na wa (2016).mkv", {**_MAIN, "audio": (("aac", 2, "jpn"),)}),),
    ),
    DemoMovie(
        "Untitled Home Video", "file", "clip.mkv",
        videos=(("clip.mkv", {**_MAIN, "audio": (("aac", 2, ""),)}),),
    ),
)

DEMO_FOLDERS: tuple[str, ...] = tuple(movie.folder for movie in DEMO_MOVIES)


def generate_demo_library(root: Path, *, force: bool = False) -> list[Path]:
    """Create (or bring up to date) the demo library under ``root``; return its movie folders.

    Cheap when nothing changed: the marker file holds the version that wrote the folders, and an
    up-to-date library is left alone (its files' mtimes too, so a scan sees nothing new). A newer
    version or ``force`` deletes and rewrites the demo folders only; the marker is written last, so
    an interrupted run is redone next time.
    """
    folders = [root / name for name in DEMO_FOLDERS]
    marker = root / MARKER
    try:
        if not force and _current_version(marker) == DEMO_VERSION and all(f.is_dir() for f in folders):
            return folders
        root.mkdir(parents=True, exist_ok=True)
        marker.unlink(missing_ok=True)
        for movie, folder in zip(DEMO_MOVIES, folders, strict=True):
            if folder.exists():
                shutil.rmtree(folder)
            _write_movie(folder, movie)
        marker.write_text(DEMO_VERSION + "\n", encoding="utf-8")
    except OSError as exc:
        raise DemoError(f"cannot generate the demo library in '{root}': {exc}") from exc
    return folders


def _current_version(marker: Path) -> str | None:
    try:
        return marker.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        return None


def _write_movie(folder: Path, movie: DemoMovie) -> None:
    for relative, options in movie.videos:
        write_video(folder / relative, **options)
    for relative, content in (*movie.texts, *movie.blobs):
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
