"""The probe against ffprobe, its errors, sidecar subtitles, languages, disc titles and the demo generator.

ffprobe is the referee: Kodi's own probe is FFmpeg, so whatever ffprobe reports is what ``<fileinfo>``
must say. The comparisons are exact (duration within a second).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.stream import Disposition

from metarr_pipeline.demo.library import DEMO_FOLDERS, DEMO_MOVIES, DEMO_VERSION, MARKER, generate_demo_library
from metarr_pipeline.demo.media import write_video
from metarr_pipeline.errors import DemoError, ProbeError
from metarr_pipeline.languages import is_language_token, to_iso639_2
from metarr_pipeline.models import SubtitleStream
from metarr_pipeline.publish.nfo import nfo_streams
from metarr_pipeline.scan.probe import external_subtitles, main_title_file, probe_file

NOBODY = 65534


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ffprobe() -> str:
    path = shutil.which("ffprobe")
    if path is None:
        pytest.fail("ffprobe is not installed: the probe is checked against it. "
                    "Install ffmpeg (Debian: apt-get install -y ffmpeg) and run the tests again.")
    return path


def run_ffprobe(ffprobe: str, path: Path) -> dict:
    result = subprocess.run(
        [ffprobe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )
    return json.loads(result.stdout)


def ffprobe_view(report: dict) -> dict:
    """ffprobe's report reduced to what ``StreamDetails`` holds, by the rules Kodi applies."""
    streams = report["streams"]
    video = next(
        s for s in streams if s["codec_type"] == "video" and not s.get("disposition", {}).get("attached_pic")
    )
    dar = video.get("display_aspect_ratio", "")
    if dar and not dar.startswith("0:"):
        num, den = dar.split(":")
        aspect = round(int(num) / int(den), 2)
    else:
        aspect = round(video["width"] / video["height"], 2)
    side_data = {sd.get("side_data_type") for sd in video.get("side_data_list", [])}
    transfer = video.get("color_transfer", "")
    if "DOVI configuration record" in side_data:
        hdr = "dolbyvision"
    else:
        hdr = {"smpte2084": "hdr10", "arib-std-b67": "hlg"}.get(transfer, "")
    return {
        "container": report["format"]["format_name"],
        "video": (video["codec_name"], video["width"], video["height"], aspect, hdr),
        "audio": [
            (s["codec_name"], s["channels"], to_iso639_2(s.get("tags", {}).get("language", "")),
             s.get("profile", ""))
            for s in streams if s["codec_type"] == "audio"
        ],
        "subtitles": [
            (s["codec_name"], to_iso639_2(s.get("tags", {}).get("language", "")),
             bool(s.get("disposition", {}).get("forced")))
            for s in streams if s["codec_type"] == "subtitle"
        ],
    }


def probe_view(path: Path) -> dict:
    details = probe_file(path)
    v = details.video
    assert v is not None
    return {
        "container": details.container,
        "video": (v.codec, v.width, v.height, v.aspect, v.hdr_type),
        "audio": [(a.codec, a.channels, a.language, a.profile) for a in details.audio],
        "subtitles": [(s.codec, s.language, s.forced) for s in details.subtitles],
    }


def main_file(root: Path, folder: str) -> Path:
    movie = next(m for m in DEMO_MOVIES if m.folder == folder)
    if movie.kind in ("dvd", "bluray"):
        return main_title_file(root / folder, movie.kind)
    return root / folder / movie.main


def write_audio_only(path: Path, *, cover_art: bool = False) -> Path:
    """An audio file; with ``cover_art`` it also holds a JPEG that FFmpeg shows as a video stream."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=48000, layout="stereo")
        if cover_art:
            cover = out.add_stream("mjpeg", rate=1)
            cover.width, cover.height, cover.pix_fmt = 64, 64, "yuvj420p"
            cover.disposition = Disposition.attached_pic
            image = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 200, np.uint8), format="rgb24")
            image.pts = 0
            out.mux(cover.encode(image) + cover.encode(None))
        frame = av.AudioFrame.from_ndarray(np.zeros((2, 4800), np.float32), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = 48000, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


# --- probe_file against ffprobe ------------------------------------------------------------------


@pytest.mark.parametrize("folder", DEMO_FOLDERS)
def test_probe_agrees_with_ffprobe(demo_library: Path, ffprobe: str, folder: str) -> None:
    path = main_file(demo_library, folder)
    report = run_ffprobe(ffprobe, path)
    assert probe_view(path) == ffprobe_view(report)
    duration = probe_file(path).video.duration_seconds
    assert abs(duration - float(report["format"]["duration"])) <= 1.0


# What the demo library promises (other modules' tests rely on it); ffprobe agreeing is not enough,
# both could be wrong the same way if the generator wrote the wrong streams.
DEMO_STREAMS = {
    "The Matrix (1999) {tmdb-603}": (
        ("h264", 320, 134, 2.39, ""), [("ac3", 6, "eng"), ("aac", 2, "eng")],
        [("subrip", "eng", False), ("subrip", "fre", False)]),
    "Amélie (2001)": (("hevc", 320, 180, 1.78, ""), [("aac", 2, "fre"), ("aac", 2, "eng")], []),
    "Léon - The Professional (1994) [tmdbid-101]": (
        ("h264", 320, 136, 2.35, ""), [("aac", 2, "eng"), ("aac", 2, "fre")], []),
    "Blade Runner 2049 (2017) {tmdb-335984}": (
        ("hevc", 320, 134, 2.39, "hdr10"), [("eac3", 6, "eng"), ("ac3", 6, "ger")], []),
    "Heat (1995) {tmdb-949}": (("mpeg2video", 352, 240, 1.33, ""), [("ac3", 2, "")], []),
    "Inception (2010) {tmdb-27205}": (("h264", 320, 180, 1.78, ""), [("ac3", 6, "eng")], []),
    "Crouching Tiger, Hidden Dragon (2000) {imdb-tt0190332}": (
        ("h264", 320, 180, 1.78, ""), [("aac", 2, "chi"), ("aac", 2, "eng")], [("subrip", "eng", False)]),
    "Schindler's List (1993)": (("h264", 320, 180, 1.78, ""), [("aac", 2, "eng")], []),
    "Se7en (1995) {tmdb-807}": (("mpeg4", 320, 180, 1.78, ""), [("mp2", 2, "")], []),
    "Pulp Fiction (1994) {tmdb-680}": (
        ("h264", 320, 172, 1.86, ""), [("aac", 2, "eng"), ("ac3", 2, "spa")], []),
    "千と千尋の神隠し (2001) {tmdb-129}": (
        ("h264", 320, 180, 1.78, ""), [("aac", 2, "jpn"), ("aac", 2, "eng")], []),
    "Kimi no Na wa (2016)": (("h264", 320, 180, 1.78, ""), [("aac", 2, "jpn")], []),
    "Untitled Home Video": (("h264", 320, 180, 1.78, ""), [("aac", 2, "")], []),
}


def test_demo_streams_table_covers_every_folder() -> None:
    assert set(DEMO_STREAMS) == set(DEMO_FOLDERS) and len(DEMO_FOLDERS) == 13


@pytest.mark.parametrize("folder", DEMO_FOLDERS)
def test_demo_movie_has_the_promised_streams(demo_library: Path, folder: str) -> None:
    view = probe_view(main_file(demo_library, folder))
    audio = [a[:3] for a in view["audio"]]  # (codec, channels, language); the profile is ffprobe's, checked above
    assert (view["video"], audio, view["subtitles"]) == DEMO_STREAMS[folder]
    assert probe_file(main_file(demo_library, folder)).video.duration_seconds >= 2


def test_dolby_vision_is_reported_like_ffprobe(tmp_path: Path, ffprobe: str) -> None:
    dv = write_video(tmp_path / "dv.mkv", video_codec="hevc", hdr10=True, dolby_vision=True, audio=())
    hdr10 = write_video(tmp_path / "hdr10.mkv", video_codec="hevc", hdr10=True, audio=())
    assert ffprobe_view(run_ffprobe(ffprobe, dv))["video"][4] == "dolbyvision"
    assert probe_file(dv).video.hdr_type == "dolbyvision"
    assert probe_file(hdr10).video.hdr_type == "hdr10"


def test_anamorphic_aspect_uses_the_sample_aspect_ratio(tmp_path: Path, ffprobe: str) -> None:
    path = write_video(tmp_path / "wide.mkv", width=320, height=240, sample_aspect=(4, 3), audio=())
    assert probe_view(path) == ffprobe_view(run_ffprobe(ffprobe, path))
    assert probe_file(path).video.aspect == 1.78


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("vp9.webm", {"video_codec": "vp9", "audio": (("opus", 2, "eng"),)}),
        ("av1.mkv", {"video_codec": "av1", "audio": (("aac", 2, "fra"),)}),
        ("av1.mp4", {"video_codec": "av1", "audio": (("aac", 2, "deu"),)}),
        ("mpeg2.mpg", {"video_codec": "mpeg2video", "audio": (("mp2", 2, ""),)}),
        ("h264.ts", {"audio": (("ac3", 6, "spa"), ("aac", 1, "jpn"))}),
        ("flac.mkv", {"audio": (("flac", 2, "ita"),), "subtitles": (("", False), ("ger", True))}),
        ("hevc.mp4", {"video_codec": "hevc", "hdr10": True, "audio": (("eac3", 2, "eng"),)}),
    ],
)
def test_probe_agrees_with_ffprobe_beyond_the_demo(tmp_path: Path, ffprobe: str, name: str, options: dict) -> None:
    path = write_video(tmp_path / name, **options)
    assert probe_view(path) == ffprobe_view(run_ffprobe(ffprobe, path))


def test_dts_keeps_its_profile_which_names_it_for_kodi(tmp_path: Path, ffprobe: str) -> None:
    """A real DTS stream (FFmpeg's experimental ``dca`` encoder writes core DTS): the probe keeps ffprobe's
    profile, so ``<fileinfo>`` says what Kodi's probe says (``dca``; ``dtshd_ma`` for a DTS-HD MA profile)."""
    path = tmp_path / "dts.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=10", "-f", "lavfi",
                    "-i", "sine=frequency=440:sample_rate=48000", "-t", "1", "-c:v", "libx264", "-c:a", "dca",
                    "-strict", "-2", "-ac", "2", "-metadata:s:a:0", "language=eng", str(path)], check=True)
    assert probe_view(path) == ffprobe_view(run_ffprobe(ffprobe, path))
    (audio,) = probe_file(path).audio
    assert (audio.codec, audio.profile) == ("dts", "DTS")
    assert [a.codec for a in nfo_streams(probe_file(path)).audio] == ["dca"]


def test_stream_details_of_a_file_without_audio(tmp_path: Path) -> None:
    details = probe_file(write_video(tmp_path / "silent.mp4", audio=(), seconds=3.0))
    assert details.audio == () and details.subtitles == ()
    assert details.video.duration_seconds == 3 and details.container.startswith("mov,mp4")


# --- errors --------------------------------------------------------------------------------------


def assert_probe_error(path: Path, *words: str) -> str:
    with pytest.raises(ProbeError) as info:
        probe_file(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message
    assert info.value.__cause__ is None or not isinstance(info.value.__cause__, ProbeError)
    return message


@pytest.mark.parametrize("name", ["The Matrix (1999) {tmdb-603}", "Léon - The Professional (1994) [tmdbid-101]"])
def test_truncated_file(demo_library: Path, tmp_path: Path, name: str) -> None:
    source = main_file(demo_library, name)
    data = source.read_bytes()
    cut = tmp_path / source.name
    cut.write_bytes(data[: len(data) * 30 // 100])
    assert_probe_error(cut, "truncated")


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.mkv"
    path.write_bytes(random.Random(20240601).randbytes(50_000))
    assert_probe_error(path, "corrupt")


def test_text_file_named_mkv(tmp_path: Path) -> None:
    path = tmp_path / "notes.mkv"
    path.write_text("This is not a movie.\nJust some notes about one.\n", encoding="utf-8")
    assert_probe_error(path, "corrupt")


def test_missing_file(tmp_path: Path) -> None:
    assert_probe_error(tmp_path / "gone.mkv", "file not found")


def test_folder_named_like_a_video(tmp_path: Path) -> None:
    (tmp_path / "folder.mkv").mkdir()
    assert_probe_error(tmp_path / "folder.mkv", "folder")


def test_audio_only_file(tmp_path: Path) -> None:
    message = assert_probe_error(write_audio_only(tmp_path / "music.mkv"), "no video stream")
    assert "audio" in message


def test_cover_art_is_not_a_video_stream(tmp_path: Path, ffprobe: str) -> None:
    path = write_audio_only(tmp_path / "album.mp4", cover_art=True)
    streams = run_ffprobe(ffprobe, path)["streams"]
    assert [(s["codec_type"], s["disposition"]["attached_pic"]) for s in streams] == [("audio", 0), ("video", 1)]
    assert_probe_error(path, "no video stream")


def _probe_as_nobody(path: Path) -> str:
    """Probe in a forked child that has dropped to nobody; return the error message (or a marker).

    Forked rather than exec'd: the venv's interpreter lives under /root, which nobody cannot enter.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                probe_file(path)
                message = "probe succeeded"
            except ProbeError as exc:
                message = str(exc)
            os.write(write_fd, message.encode())
        except BaseException as exc:  # anything goes back to the parent as text
            os.write(write_fd, f"child failed: {exc!r}".encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        output = pipe.read().decode()
    os.waitpid(pid, 0)
    return output


@pytest.fixture
def unreadable_video(demo_library: Path) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="metarr-perm-"))
    try:
        folder.chmod(0o755)
        path = folder / "locked.mkv"
        shutil.copyfile(main_file(demo_library, "Schindler's List (1993)"), path)
        path.chmod(0o000)
        yield path
    finally:
        shutil.rmtree(folder)


def test_permission_denied(unreadable_video: Path) -> None:
    as_root = os.geteuid() == 0  # root reads anything: probe as nobody instead
    message = _probe_as_nobody(unreadable_video) if as_root else assert_probe_error(unreadable_video)
    assert message.startswith(f"cannot probe '{unreadable_video}'")
    assert "permission denied" in message


def test_probe_error_keeps_the_cause(tmp_path: Path) -> None:
    with pytest.raises(ProbeError) as info:
        probe_file(tmp_path / "gone.mkv")
    assert isinstance(info.value.__cause__, (av.FFmpegError, OSError))


# --- sidecar subtitles ---------------------------------------------------------------------------

VIDEO = Path("/lib/Movie (2000)/Movie (2000).mkv")


def sub(path: str, language: str = "", forced: bool = False, codec: str = "subrip") -> SubtitleStream:
    return SubtitleStream(language=language, external=True, forced=forced, codec=codec, path=path)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["Movie (2000).srt"], [sub("Movie (2000).srt")]),
        (["Movie (2000).en.srt"], [sub("Movie (2000).en.srt", "eng")]),
        (["Movie (2000).fre.forced.srt"], [sub("Movie (2000).fre.forced.srt", "fre", forced=True)]),
        (["Movie (2000).forced.fra.srt"], [sub("Movie (2000).forced.fra.srt", "fre", forced=True)]),
        (["Movie (2000).eng.sdh.srt"], [sub("Movie (2000).eng.sdh.srt", "eng")]),
        (["Movie (2000).sdh.eng.srt"], [sub("Movie (2000).sdh.eng.srt", "eng")]),
        (["Movie (2000).pt-BR.srt"], [sub("Movie (2000).pt-BR.srt", "por")]),
        (["Movie (2000).German.SRT"], [sub("Movie (2000).German.SRT", "ger")]),
        (["Movie (2000).commentary.srt"], [sub("Movie (2000).commentary.srt")]),
        (["Movie (2000).de.ass", "Movie (2000).ja.ssa"],
         [sub("Movie (2000).de.ass", "ger", codec="ass"), sub("Movie (2000).ja.ssa", "jpn", codec="ass")]),
        (["Movie (2000).es.vtt"], [sub("Movie (2000).es.vtt", "spa", codec="webvtt")]),
        (["Movie (2000).it.sup"], [sub("Movie (2000).it.sup", "ita", codec="hdmv_pgs_subtitle")]),
        (["Movie (2000).nl.idx", "Movie (2000).nl.sub"], [sub("Movie (2000).nl.idx", "dut", codec="dvd_subtitle")]),
        (["Movie (2000).sub"], [sub("Movie (2000).sub", codec="dvd_subtitle")]),
        # Not sidecars of this video: other stems, near misses, non-subtitle files, the video itself.
        (["Movie (2000).mkv", "Movie (2000).nfo", "Movie (2000)-poster.jpg", "Movie (2000).srt.bak",
          "Movie (2001).srt", "movie (2000).srt", "Movie (2000)x.srt", "Other.en.srt"], []),
        # Sorted by name, whatever the listing order.
        (["Movie (2000).fr.srt", "Movie (2000).en.srt"],
         [sub("Movie (2000).en.srt", "eng"), sub("Movie (2000).fr.srt", "fre")]),
    ],
)
def test_external_subtitles(names: list[str], expected: list[SubtitleStream]) -> None:
    assert list(external_subtitles(VIDEO, names)) == expected


def test_external_subtitles_in_the_demo_library(demo_library: Path) -> None:
    folder = demo_library / "The Matrix (1999) {tmdb-603}"
    found = external_subtitles(folder / "The Matrix (1999) {tmdb-603}.mkv", os.listdir(folder))
    assert found == (sub("The Matrix (1999) {tmdb-603}.fre.forced.srt", "fre", forced=True),)


# --- languages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("eng", "eng"), ("ENG", "eng"), (" fre ", "fre"), ("fra", "fre"), ("deu", "ger"), ("ger", "ger"),
        ("zho", "chi"), ("ces", "cze"), ("nld", "dut"), ("fas", "per"), ("ron", "rum"), ("slk", "slo"),
        ("ell", "gre"), ("isl", "ice"), ("msa", "may"), ("sqi", "alb"), ("cym", "wel"),
        ("en", "eng"), ("fr", "fre"), ("de", "ger"), ("es", "spa"), ("it", "ita"), ("ja", "jpn"),
        ("zh", "chi"), ("ko", "kor"), ("pt", "por"), ("ru", "rus"), ("nl", "dut"), ("sv", "swe"),
        ("da", "dan"), ("no", "nor"), ("nb", "nob"), ("fi", "fin"), ("pl", "pol"), ("cs", "cze"),
        ("hu", "hun"), ("tr", "tur"), ("el", "gre"), ("he", "heb"), ("ar", "ara"), ("hi", "hin"),
        ("th", "tha"), ("vi", "vie"), ("id", "ind"), ("uk", "ukr"), ("ro", "rum"), ("bg", "bul"),
        ("hr", "hrv"), ("sr", "srp"), ("sk", "slo"), ("sl", "slv"), ("et", "est"), ("lv", "lav"),
        ("lt", "lit"), ("fa", "per"), ("ms", "may"), ("ta", "tam"), ("te", "tel"), ("is", "ice"),
        ("ga", "gle"), ("ca", "cat"), ("eu", "baq"), ("gl", "glg"),
        ("pt-BR", "por"), ("en_US", "eng"), ("zh-Hans", "chi"), ("es-419", "spa"),
        ("english", "eng"), ("French", "fre"), ("GERMAN", "ger"),
        ("tgl", "tgl"), ("yue", "yue"),  # any three-letter code a file carries is kept
        ("und", ""), ("UND", ""), ("unk", ""), ("zxx", ""), ("", ""), ("  ", ""), ("xx", ""), ("e1g", ""),
        ("klingon", ""),
    ],
)
def test_to_iso639_2(code: str, expected: str) -> None:
    assert to_iso639_2(code) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("en", True), ("eng", True), ("FRE", True), ("fra", True), ("pt-BR", True), ("es-419", True),
        ("zh-Hant", True), ("english", True), ("forced", False), ("sdh", False), ("cc", False),
        ("default", False), ("en-cut", False), ("2000", False), ("", False), ("x", False), ("dts", False),
    ],
)
def test_is_language_token(token: str, expected: bool) -> None:
    assert is_language_token(token) is expected


# --- disc structures -----------------------------------------------------------------------------


def test_main_title_of_the_demo_discs(demo_library: Path) -> None:
    heat = demo_library / "Heat (1995) {tmdb-949}"
    inception = demo_library / "Inception (2010) {tmdb-27205}"
    assert main_title_file(heat, "dvd") == heat / "VIDEO_TS" / "VTS_01_1.VOB"
    assert main_title_file(inception, "bluray") == inception / "BDMV" / "STREAM" / "00000.m2ts"
    # The demo really has a smaller second title, so the choice above was a choice.
    assert (heat / "VIDEO_TS" / "VTS_02_1.VOB").stat().st_size < (heat / "VIDEO_TS" / "VTS_01_1.VOB").stat().st_size
    assert (inception / "BDMV/STREAM/00001.m2ts").stat().st_size < (inception / "BDMV/STREAM/00000.m2ts").stat().st_size


def make_files(folder: Path, sizes: dict[str, int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, size in sizes.items():
        (folder / name).write_bytes(bytes(size))


@pytest.mark.parametrize("kind", ["dvd", "dvd_flat"])
def test_main_title_is_the_title_set_with_most_bytes(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "VIDEO_TS" if kind == "dvd" else tmp_path
    make_files(folder, {
        "VIDEO_TS.IFO": 10, "VTS_01_0.VOB": 9000,  # a huge menu does not count
        "VTS_01_1.VOB": 3000,
        "VTS_02_1.VOB": 2000, "VTS_02_2.VOB": 2000,  # most bytes in total, though each part is smaller
        "vts_03_1.vob": 500,
    })
    assert main_title_file(tmp_path, kind) == folder / "VTS_02_1.VOB"


def test_main_title_of_a_bluray_is_the_largest_stream(tmp_path: Path) -> None:
    stream = tmp_path / "BDMV" / "STREAM"
    make_files(stream, {"00000.m2ts": 100, "00001.m2ts": 5000, "00002.M2TS": 200, "00003.clpi": 90000})
    assert main_title_file(tmp_path, "bluray") == stream / "00001.m2ts"


@pytest.mark.parametrize(
    ("kind", "layout"),
    [("dvd", {"VIDEO_TS/VIDEO_TS.IFO": 10}), ("dvd", {}), ("dvd_flat", {"VTS_01_0.VOB": 10}),
     ("bluray", {"BDMV/STREAM/00000.clpi": 10}), ("bluray", {"BDMV/index.bdmv": 10})],
)
def test_main_title_missing(tmp_path: Path, kind: str, layout: dict[str, int]) -> None:
    for relative, size in layout.items():
        make_files((tmp_path / relative).parent, {Path(relative).name: size})
    with pytest.raises(ProbeError, match="cannot find the main title"):
        main_title_file(tmp_path, kind)


# --- demo generator ------------------------------------------------------------------------------


def _mtimes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


def test_demo_library_layout(demo_library: Path) -> None:
    assert sorted(p.name for p in demo_library.iterdir() if p.is_dir()) == sorted(DEMO_FOLDERS)
    assert (demo_library / MARKER).read_text(encoding="utf-8").strip() == DEMO_VERSION
    for movie in DEMO_MOVIES:
        assert (demo_library / movie.folder / movie.main).is_file(), movie.folder
    se7en = demo_library / "Se7en (1995) {tmdb-807}"
    assert (se7en / "Se7en (1995)-trailer.mkv").is_file() and (se7en / "Sample" / "Se7en sample.mkv").is_file()
    nfo = (demo_library / "Amélie (2001)" / "Amélie (2001).nfo").read_text(encoding="utf-8")
    assert "<mycollection>Favourites</mycollection>" in nfo and "<playcount>3</playcount>" in nfo
    assert (demo_library / "Heat (1995) {tmdb-949}/VIDEO_TS/VIDEO_TS.IFO").read_bytes().startswith(b"DVDVIDEO-VMG")


def test_demo_generation_is_idempotent_and_touches_only_its_folders(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    folders = generate_demo_library(root)
    assert [f.name for f in folders] == list(DEMO_FOLDERS)
    user = root / "My Own Movie (2020)"
    make_files(user, {"My Own Movie (2020).mkv": 10})
    stray = root / "The Matrix (1999) {tmdb-603}" / "user-added.txt"
    stray.write_text("mine", encoding="utf-8")
    before = _mtimes(root)
    assert generate_demo_library(root) == folders
    assert _mtimes(root) == before  # up to date: nothing rewritten

    contents = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and user not in p.parents}
    (root / MARKER).write_text("0\n", encoding="utf-8")  # an older generator wrote this library
    generate_demo_library(root)
    assert (user / "My Own Movie (2020).mkv").is_file()  # not ours: kept
    assert not stray.exists()  # inside one of ours: the folder was rebuilt
    regenerated = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and user not in p.parents}
    del contents[stray], contents[root / MARKER], regenerated[root / MARKER]
    assert regenerated == contents  # deterministic output, byte for byte

    stray.write_text("mine again", encoding="utf-8")
    generate_demo_library(root)
    assert stray.exists()  # up to date again: left alone
    generate_demo_library(root, force=True)
    assert not stray.exists() and (user / "My Own Movie (2020).mkv").is_file()
    assert (root / MARKER).read_text(encoding="utf-8").strip() == DEMO_VERSION


def test_write_video_rejects_what_it_cannot_write(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="extension"):
        write_video(tmp_path / "x.flv")
    with pytest.raises(DemoError, match="HDR10"):
        write_video(tmp_path / "x.mkv", hdr10=True)
    with pytest.raises(DemoError, match="subtitles"):
        write_video(tmp_path / "x.mp4", subtitles=(("eng", False),))
    assert not list(tmp_path.iterdir())


def test_write_video_frame_rate_for_mpeg2(tmp_path: Path) -> None:
    path = write_video(tmp_path / "x.mpg", video_codec="mpeg2video", fps=Fraction(30000, 1001), seconds=1.0,
                       audio=(("mp2", 2, ""),))
    with av.open(str(path)) as container:
        assert container.streams.video[0].average_rate == Fraction(30000, 1001)
