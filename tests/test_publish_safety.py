"""Publishing never writes outside its movie folder, never replaces a user's symlink, fits every name in 255
bytes, sweeps its stale temp files everywhere it writes, and is all-or-nothing per movie (issue 16, 3/6/7).

Against the real demo library enriched from the loopback simulator (the fixtures of test_publish).
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from metarr_pipeline.config import Settings
from metarr_pipeline.publish import apply as applying
from metarr_pipeline.publish.naming import NAME_MAX, artwork_path, fit_name, nfo_path
from metarr_pipeline.publish.report import MoviePublish, PublishReport
from metarr_pipeline.publish.writer import TEMP_PREFIX
from metarr_pipeline.simulator import Simulator
from metarr_pipeline.store import Store
from tests.test_publish import HEAT, MATRIX, enriched_copy, publish, tree

KEY, HEAT_KEY = "the-matrix-1999-tmdb603", "heat-1995-tmdb949"


@pytest.fixture
def library(demo_library: Path, tmp_path: Path, sim: Simulator) -> tuple[Path, Settings, Store]:
    """A file movie and a DVD of the demo library, enriched, not yet published."""
    return enriched_copy(demo_library, tmp_path, sim, (MATRIX, HEAT))


def only(report: PublishReport) -> MoviePublish:
    (result,) = report.movies
    return result


# --- symlinks ---------------------------------------------------------------------------------------


def test_a_movie_folder_symlinked_outside_the_library_is_refused(
        library: tuple[Path, Settings, Store], tmp_path: Path) -> None:
    root, settings, store = library
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.move(root / MATRIX, outside / MATRIX)
    (root / MATRIX).symlink_to(outside / MATRIX, target_is_directory=True)
    before = tree(outside)
    result = only(publish(settings, store, [KEY]))
    assert result.status == "failed" and "outside the library root" in result.error, result.error
    assert tree(outside) == before  # not one file written (nor a writability probe left)


@pytest.mark.parametrize("movie", ["file", "dvd"])
def test_an_actors_folder_symlinked_outside_the_movie_is_refused(
        library: tuple[Path, Settings, Store], tmp_path: Path, movie: str) -> None:
    root, settings, store = library
    name, key, actors = (MATRIX, KEY, ".actors") if movie == "file" else (HEAT, HEAT_KEY, "VIDEO_TS/.actors")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / name / actors).parent.mkdir(parents=True, exist_ok=True)
    (root / name / actors).symlink_to(outside, target_is_directory=True)
    before = tree(root / name)
    result = only(publish(settings, store, [key]))
    assert result.status == "failed" and f"'{actors}' is a symlink leading outside the movie folder" in result.error
    assert list(outside.iterdir()) == [] and tree(root / name) == before  # nothing written anywhere


def test_a_symlink_inside_the_movie_folder_is_fine(library: tuple[Path, Settings, Store]) -> None:
    root, settings, store = library
    (root / MATRIX / "people").mkdir()
    (root / MATRIX / ".actors").symlink_to("people", target_is_directory=True)
    result = only(publish(settings, store, [KEY]))
    assert result.status == "published", result.error
    assert any((root / MATRIX / "people").iterdir())


def test_users_symlinks_at_our_names_are_kept_and_reported(library: tuple[Path, Settings, Store],
                                                           tmp_path: Path) -> None:
    root, settings, store = library
    folder = root / MATRIX
    mine = tmp_path / "my-art"
    mine.mkdir()
    (mine / "poster.jpg").write_bytes(b"\xff\xd8\xff my poster")
    (mine / "movie.nfo").write_text("<movie><title>mine</title></movie>", encoding="utf-8")
    poster, nfo = folder / f"{MATRIX}-poster.jpg", folder / f"{MATRIX}.nfo"
    nfo.unlink(missing_ok=True)
    poster.symlink_to(mine / "poster.jpg")
    nfo.symlink_to(mine / "movie.nfo")
    result = only(publish(settings, store, [KEY]))
    assert result.status == "published", result.error
    assert poster.is_symlink() and nfo.is_symlink()  # not replaced by regular files
    assert (mine / "poster.jpg").read_bytes() == b"\xff\xd8\xff my poster"
    assert (mine / "movie.nfo").read_text(encoding="utf-8") == "<movie><title>mine</title></movie>"
    assert sum("is a symlink (the user's)" in w for w in result.warnings) == 2
    assert (folder / f"{MATRIX}-poster1.jpg").is_file()  # the rest is published


def test_our_file_replaced_by_a_symlink_becomes_the_users(library: tuple[Path, Settings, Store],
                                                          tmp_path: Path) -> None:
    root, settings, store = library
    folder = root / MATRIX
    assert only(publish(settings, store, [KEY])).status == "published"
    poster = folder / f"{MATRIX}-poster.jpg"
    kept = tmp_path / "kept.jpg"
    kept.write_bytes(b"\xff\xd8\xff the user's choice")
    poster.unlink()
    poster.symlink_to(kept)  # at a name we wrote and still plan: the user's now
    result = only(publish(settings, store, [KEY]))
    assert result.status == "published" and poster.is_symlink()
    assert kept.read_bytes() == b"\xff\xd8\xff the user's choice"
    assert f"{MATRIX}-poster.jpg" not in result.written + result.removed
    assert any("is a symlink (the user's)" in w for w in result.warnings)


# --- names within 255 bytes -----------------------------------------------------------------------------


def test_fit_name_keeps_short_names_and_cuts_long_ones_deterministically() -> None:
    assert fit_name("Keanu_Reeves.jpg") == "Keanu_Reeves.jpg"
    long = "佐藤" * 60 + "_Ω" * 20 + ".jpg"  # > 255 bytes of multibyte text
    fitted = fit_name(long)
    assert len(fitted.encode()) <= NAME_MAX and fitted.endswith(".jpg") and fitted == fit_name(long)
    assert fitted != fit_name("佐藤" * 61 + "_Ω" * 20 + ".jpg")  # a hash of the full name: no collision
    fitted.encode().decode("utf-8")  # never a split character
    exactly = "é" * 125 + "a.jpg"  # 255 bytes exactly: kept as is
    assert len(exactly.encode()) == 255 and fit_name(exactly) == exactly
    assert len(fit_name("é" * 126 + ".jpg").encode()) <= 255


def test_artwork_and_nfo_names_of_a_very_long_title_fit() -> None:
    base = "Ünïcödé " * 31  # 248+ bytes: every suffix pushes it over
    names = [artwork_path("file", base, t, r, e) for t in ("poster", "fanart", "clearlogo", "discart")
             for r in (1, 2, 12) for e in ("jpg", "png", "webp")]
    assert all(len(n.encode()) <= NAME_MAX for n in names)
    assert len({n.rsplit("-", 1)[0] for n in names}) == 1  # one shortened base for the whole family
    assert artwork_path("file", "Short", "poster", 1, "jpg") == "Short-poster.jpg"
    video = "ü" * 126 + ".ts"  # a 255-byte video name: its NFO would be 256
    assert len(video.encode()) == 255
    nfo = nfo_path("file", "x", video)
    assert len(nfo.encode()) <= NAME_MAX and nfo.endswith(".nfo")


def test_a_255_byte_multibyte_actor_name_publishes(library: tuple[Path, Settings, Store]) -> None:
    """Too long for a file once ``.jpg`` is added: Kodi could never match a shortened file (it compares the exact
    name, tests/test_kodi_real.py), so that actor gets no file and keeps the NFO's <thumb> URL, and the movie
    publishes instead of failing with "File name too long"."""
    root, settings, store = library
    movie = store.movie_by_partition(KEY)
    assert movie.id is not None
    name = "ア" * 85  # 255 bytes of UTF-8; with ".jpg" the file name would be 259
    assert len(name.encode()) == 255
    store.execute_script("UPDATE movie_actors SET name = ? WHERE movie_id = ? AND position = "
                         "(SELECT min(position) FROM movie_actors WHERE movie_id = ?)", [name, movie.id, movie.id])
    first = store.movie_actors([movie.id])[movie.id][0]
    assert first.name == name and first.blob_sha and first.thumb_url  # a headshot it would otherwise get
    result = only(publish(settings, store, [KEY]))
    assert result.status == "published", result.error
    thumbs = [p.name for p in (root / MATRIX / ".actors").iterdir()]
    assert thumbs and all(len(t.encode()) <= NAME_MAX for t in thumbs)
    assert not [t for t in thumbs if t.startswith("ア")]
    nfo = (root / MATRIX / nfo_path("file", MATRIX)).read_text(encoding="utf-8")
    assert f"<name>{name}</name>" in nfo and f"<thumb>{first.thumb_url}</thumb>" in nfo
    assert only(publish(settings, store, [KEY])).written == []  # the same plan again: nothing rewritten


# --- stale temp files ----------------------------------------------------------------------------------


def test_stale_temp_files_are_swept_from_every_folder_including_a_discs_actors(
        library: tuple[Path, Settings, Store]) -> None:
    root, settings, store = library
    assert only(publish(settings, store, [HEAT_KEY])).status == "published"
    actors = root / HEAT / "VIDEO_TS" / ".actors"
    assert actors.is_dir()
    stale = [actors / f"{TEMP_PREFIX}dead01", root / HEAT / f"{TEMP_PREFIX}dead02",
             root / HEAT / "VIDEO_TS" / f"{TEMP_PREFIX}dead03"]
    for path in stale:
        path.write_bytes(b"half a file")
    (root / HEAT / "notes.txt").write_text("mine", encoding="utf-8")
    assert only(publish(settings, store, [HEAT_KEY])).status == "published"
    assert not any(p.exists() for p in stale) and (root / HEAT / "notes.txt").exists()


# --- all or nothing ------------------------------------------------------------------------------------


def _spoil(folder: Path) -> dict[str, bytes]:
    """Overwrite our published files (NFO, art, headshots) so the next publish must rewrite all of them."""
    spoiled = {}
    for path in [*folder.glob("*.nfo"), *folder.glob("*.jpg"), *(folder / ".actors").glob("*.jpg")]:
        data = b"old " + path.name.encode()
        path.write_bytes(data)
        spoiled[str(path.relative_to(folder))] = data
    return spoiled


def test_a_write_failing_midway_leaves_every_old_file(library: tuple[Path, Settings, Store],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root, settings, store = library
    folder = root / MATRIX
    assert only(publish(settings, store, [KEY])).status == "published"
    spoiled = _spoil(folder)
    assert len(spoiled) > 5
    real, calls = applying.stage_file, []

    def full_disk(path: Path, data: bytes) -> Path:
        calls.append(path)
        if len(calls) == 4:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data)

    monkeypatch.setattr(applying, "stage_file", full_disk)
    result = only(publish(settings, store, [KEY]))
    assert result.status == "failed" and "No space left" in result.error
    assert {rel: (folder / rel).read_bytes() for rel in spoiled} == spoiled  # not one file replaced
    assert not [p for p in folder.rglob(f"{TEMP_PREFIX}*")]
    monkeypatch.setattr(applying, "stage_file", real)
    again = only(publish(settings, store, [KEY]))
    assert again.status == "published" and all((folder / rel).read_bytes() != old for rel, old in spoiled.items())


def test_a_read_only_subfolder_leaves_every_old_file(library: tuple[Path, Settings, Store],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The headshots' folder refuses writes (EROFS/EACCES from a real open, as a read-only bind mount would)."""
    root, settings, store = library
    folder = root / MATRIX
    assert only(publish(settings, store, [KEY])).status == "published"
    spoiled = _spoil(folder)
    real_open = os.open

    def read_only_actors(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if Path(path).parent.name == ".actors" and flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_actors)
    result = only(publish(settings, store, [KEY]))
    monkeypatch.setattr(os, "open", real_open)
    assert result.status == "failed" and "Read-only" in result.error
    assert {rel: (folder / rel).read_bytes() for rel in spoiled} == spoiled


def test_not_enough_space_is_checked_before_any_write(library: tuple[Path, Settings, Store],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root, settings, store = library
    folder = root / MATRIX
    before = tree(folder)
    real = shutil.disk_usage

    def tiny(path: object) -> object:
        usage = real(path)  # type: ignore[arg-type]
        return type(usage)(usage.total, usage.total - 300_000, 200_000)  # 0.2 MB free

    monkeypatch.setattr(applying.shutil, "disk_usage", tiny)
    result = only(publish(settings, store, [KEY]))
    assert result.status == "failed" and "only 0.2 MB is free" in result.error and "nothing written" in result.error
    assert tree(folder) == before
