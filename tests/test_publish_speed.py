"""Publishing what is already published is cheap, and blobs are only as verified as their use needs.

Real folders, a real DuckDB and the loopback provider simulator: publishing an unchanged movie again writes
nothing into the library, reads no cached image and writes the store once per batch; a cached image damaged in
place is caught when it has to be written (and downloaded again); a winner whose original was never cached
(an offline re-score chose it) is downloaded by publish, or reported when it cannot be.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from metarr_pipeline.blobs import BlobStore
from metarr_pipeline.config import Settings
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.publish.naming import artwork_path
from metarr_pipeline.publish.publish import publish_movies
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import KEYS, make_settings
from tests.test_publish import HEAT, MATRIX, enriched_copy, tree

MATRIX_KEY, HEAT_KEY = "the-matrix-1999-tmdb603", "heat-1995-tmdb949"


@pytest.fixture
def library(demo_library: Path, tmp_path: Path, sim: Simulator) -> tuple[Path, Settings, Store]:
    """A file movie and a DVD, scanned and enriched against the simulator (not published yet)."""
    return enriched_copy(demo_library, tmp_path, sim, (MATRIX, HEAT))


def publish(settings: Settings, store: Store, keys: list[str] | None = None, *, session: bool = True):
    if not session:
        return publish_movies(settings, store, None, keys)
    with open_providers(settings, KEYS) as providers:
        return publish_movies(settings, store, providers, keys)


class Calls:
    """Counts calls of some methods while still running the real ones."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *targets: tuple[type, str]) -> None:
        self.calls: dict[str, list[tuple[Any, ...]]] = {}
        for owner, name in targets:
            self.calls[name] = []
            real = getattr(owner, name)

            def wrapper(this: Any, *args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                self.calls[_name].append((args, kwargs))
                return _real(this, *args, **kwargs)

            monkeypatch.setattr(owner, name, wrapper)

    def __getitem__(self, name: str) -> list[tuple[Any, ...]]:
        return self.calls[name]


def recorded(calls: Calls) -> list[tuple[int, bool]]:
    """(movie, replace_all) for every movie whose file records were written."""
    return [(movie_id, kw["replace_all"]) for args, kw in calls["record_library_files_many"] for movie_id in args[0]]


def winner(store: Store, key: str, kind: str, rank: int) -> dict[str, Any]:
    movie = store.movie_by_partition(key)
    rows = store.artwork_candidates([movie.id]).filter(
        (pl.col("type") == kind) & (pl.col("selected_rank") == rank)).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def blob_ext(store: Store, sha: str) -> str:
    return store.blob_rows([sha])[sha].ext


def image_requests(sim: Simulator, url: str) -> list[Any]:
    name = url.rsplit("/", 1)[-1]
    return [r for r in sim.requests() if r.path.endswith("/" + name)]


def test_republishing_unchanged_movies_writes_nothing_reads_no_blob_and_logs_once(
        library: tuple[Path, Settings, Store], sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    root, settings, store = library
    first = publish(settings, store)
    assert not first.failures and first.summary()["files_written"] > 10
    before = tree(root)
    sim.clear_log()
    calls = Calls(monkeypatch, (Store, "record_library_files_many"), (Store, "log_publish_many"),
                  (Store, "set_candidate_blobs"), (BlobStore, "read_verified"), (BlobStore, "put"))
    second = publish(settings, store)
    assert [m.status for m in second.movies] == ["published", "published"]
    assert second.summary()["files_written"] == 0 and second.summary()["files_removed"] == 0
    assert second.summary()["files_unchanged"] == first.summary()["files_written"]
    assert tree(root) == before  # not one byte or mtime changed
    assert recorded(calls) == []  # nothing changed: no file record written at all
    assert len(calls["log_publish_many"]) == 1  # the batch's log rows in one transaction
    (rows,), _ = calls["log_publish_many"][0]
    assert sorted(r["movie_id"] for r in rows) == sorted(
        store.movie_by_partition(k).id for k in (MATRIX_KEY, HEAT_KEY))
    assert all(r["status"] == "published" and r["written"] == 0 for r in rows)
    # The cached images were not read (the library copies are right), nothing was downloaded or stored.
    assert calls["read_verified"] == calls["put"] == []
    assert calls["set_candidate_blobs"] == [] and not [r for r in sim.requests() if r.kind == "image"]
    # The log rows really landed: both movies count as published, twice each.
    assert {s.state for s in store.publish_state().values()} == {"published"}
    counts = store.execute_script("SELECT count(*) FROM publish_log WHERE status = 'published'")
    assert counts == [(4,)]


def test_files_are_recorded_before_they_are_written_and_once_after(
        library: tuple[Path, Settings, Store], monkeypatch: pytest.MonkeyPatch) -> None:
    root, settings, store = library
    matrix_id = store.movie_by_partition(MATRIX_KEY).id
    heat_id = store.movie_by_partition(HEAT_KEY).id
    folders = {root / MATRIX: matrix_id, root / HEAT: heat_id}
    folder = root / MATRIX
    import metarr_pipeline.publish.apply as publishing
    real_write = publishing.stage_file
    seen: list[str] = []

    def checked_write(path: Path, data: bytes) -> Path:
        # Crash safety: when a file is written, its intent (path and new hash) is already in the store.
        (movie_folder,) = [f for f in folders if f in path.parents]
        movie_id = folders[movie_folder]
        record = store.library_files([movie_id]).get(movie_id, {}).get(path.relative_to(movie_folder).as_posix())
        assert record is not None and record.sha256 == hashlib.sha256(data).hexdigest(), path
        seen.append(path.name)
        return real_write(path, data)

    monkeypatch.setattr(publishing, "stage_file", checked_write)
    calls = Calls(monkeypatch, (Store, "record_library_files_many"), (BlobStore, "read_verified"))
    first = publish(settings, store)
    assert not first.failures and len(seen) == first.summary()["files_written"] > 10
    assert sorted(recorded(calls)) == sorted([
        (matrix_id, False), (matrix_id, True), (heat_id, False), (heat_id, True)])
    # Both movies' intents in one transaction before any write, their final rows in one after.
    assert [sorted(args[0]) for args, _ in calls["record_library_files_many"]] == [sorted([matrix_id, heat_id])] * 2
    # A file of ours deleted by hand: written again; its record (same hash) needs no new intent, and the
    # final records are written once, for that movie only.
    poster = folder / f"{MATRIX}-poster.jpg"
    poster.unlink()
    seen.clear()
    calls["record_library_files_many"].clear()
    calls["read_verified"].clear()
    report = publish(settings, store)
    by = {m.partition_key: m for m in report.movies}
    assert by[MATRIX_KEY].written == [poster.name] == seen
    assert recorded(calls) == [(matrix_id, True)]
    assert len(calls["read_verified"]) == 1  # only the blob that was written was read (and hashed)
    sha = winner(store, MATRIX_KEY, "poster", 1)["blob_sha"]
    assert hashlib.sha256(poster.read_bytes()).hexdigest() == sha
    row = store.library_files([matrix_id])[matrix_id][poster.name]
    assert (row.sha256, row.bytes, row.mtime_ns) == (
        sha, poster.stat().st_size, poster.stat().st_mtime_ns)
    assert publish(settings, store).summary()["files_written"] == 0


def damage_in_place(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_blob_damaged_in_place_is_caught_when_it_must_be_written_and_downloaded_again(
        library: tuple[Path, Settings, Store], sim: Simulator) -> None:
    root, settings, store = library
    publish(settings, store)
    row = winner(store, MATRIX_KEY, "poster", 1)
    sha, ext = row["blob_sha"], blob_ext(store, row["blob_sha"])
    blob = BlobStore(settings.cache_dir).path_for(sha, ext)
    size = blob.stat().st_size
    damage_in_place(blob)
    assert blob.stat().st_size == size and hashlib.sha256(blob.read_bytes()).hexdigest() != sha
    # The library copy is right: the blob is not read, so the damage is not even noticed yet.
    sim.clear_log()
    assert publish(settings, store).summary()["files_written"] == 0
    assert hashlib.sha256(blob.read_bytes()).hexdigest() != sha and not image_requests(sim, row["url"])
    # Without a provider, a damaged blob that must be written fails the movie before anything is written.
    poster = root / MATRIX / artwork_path("file", MATRIX, "poster", 1, ext)
    poster.unlink()
    folder_before = tree(root / MATRIX)
    offline = publish(settings, store, [MATRIX_KEY], session=False)
    (result,) = offline.movies
    assert result.status == "failed" and "missing or damaged and no provider" in result.error, result.error
    assert tree(root / MATRIX) == folder_before
    # With the provider: the blob's hash is checked as it is read, the damage found, the image downloaded again.
    report = publish(settings, store, [MATRIX_KEY])
    (result,) = report.movies
    assert result.status == "published" and result.written == [poster.name], (result.error, result.written)
    assert image_requests(sim, row["url"]), "the original was not downloaded again"
    assert hashlib.sha256(poster.read_bytes()).hexdigest() == sha
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha  # the cache is repaired too
    assert publish(settings, store).summary()["files_written"] == 0


def test_missing_blob_of_a_right_library_file_is_restored_from_it_offline(
        library: tuple[Path, Settings, Store]) -> None:
    root, settings, store = library
    publish(settings, store)
    row = winner(store, HEAT_KEY, "fanart", 1)
    sha, ext = row["blob_sha"], blob_ext(store, row["blob_sha"])
    blob = BlobStore(settings.cache_dir).path_for(sha, ext)
    blob.unlink()
    before = tree(root)
    report = publish(settings, store, session=False)
    assert not report.failures and report.summary()["files_written"] == 0
    assert tree(root) == before
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha


def drop_blob_reference(store: Store, settings: Settings, row: dict[str, Any]) -> None:
    """What an offline re-score leaves: the winner is selected, its original is not cached."""
    sha = row["blob_sha"]
    ext = blob_ext(store, sha)
    store.execute_script("UPDATE artwork_candidates SET blob_sha = NULL WHERE movie_id = ? AND candidate_id = ?",
                         [row["movie_id"], row["candidate_id"]])
    store.execute_script("DELETE FROM blobs WHERE sha256 = ?", [sha])
    BlobStore(settings.cache_dir).path_for(sha, ext).unlink()


def test_selected_winner_without_a_cached_original_is_downloaded_at_publish(
        library: tuple[Path, Settings, Store], sim: Simulator) -> None:
    root, settings, store = library
    poster = winner(store, MATRIX_KEY, "poster", 1)
    logo = winner(store, MATRIX_KEY, "clearlogo", 1)
    sha, logo_sha = poster["blob_sha"], logo["blob_sha"]
    ext, logo_ext = blob_ext(store, sha), blob_ext(store, logo_sha)
    assert logo_ext == "png"  # published under the extension of what was downloaded, not a default
    for row in (poster, logo):
        drop_blob_reference(store, settings, row)
    assert winner(store, MATRIX_KEY, "poster", 1)["blob_sha"] is None
    sim.clear_log()
    report = publish(settings, store)
    by = {m.partition_key: m for m in report.movies}
    result = by[MATRIX_KEY]
    assert result.status == "published" and not [w for w in result.warnings if "not cached" in w], result.warnings
    assert image_requests(sim, poster["url"]) and image_requests(sim, logo["url"])
    target = root / MATRIX / artwork_path("file", MATRIX, "poster", 1, ext)
    logo_target = root / MATRIX / artwork_path("file", MATRIX, "clearlogo", 1, logo_ext)
    assert target.name in result.written and logo_target.name in result.written
    assert hashlib.sha256(target.read_bytes()).hexdigest() == sha
    assert hashlib.sha256(logo_target.read_bytes()).hexdigest() == logo_sha
    # The download is recorded: the candidate points at its blob again, with its blobs row.
    assert winner(store, MATRIX_KEY, "poster", 1)["blob_sha"] == sha
    assert winner(store, MATRIX_KEY, "clearlogo", 1)["blob_sha"] == logo_sha
    rows = store.blob_rows([sha, logo_sha])
    assert rows[sha].ext == ext and rows[logo_sha].ext == "png" and rows[sha].bytes == target.stat().st_size
    assert store.publish_state()[store.movie_by_partition(MATRIX_KEY).id].state == "published"
    # Nothing left to fetch or write the next time.
    sim.clear_log()
    again = publish(settings, store)
    assert again.summary()["files_written"] == 0 and not [r for r in sim.requests() if r.kind == "image"]


@pytest.mark.parametrize("provider", ["none", "stopped"])
def test_uncached_winner_that_cannot_be_downloaded_is_reported_and_the_rest_published(
        library: tuple[Path, Settings, Store], tmp_path: Path, provider: str) -> None:
    root, settings, store = library
    poster = winner(store, MATRIX_KEY, "poster", 1)
    drop_blob_reference(store, settings, poster)
    if provider == "none":
        report = publish(settings, store, session=False)
    else:
        with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "deadcache")) as dead:
            (tmp_path / "dead").mkdir()
            broken = make_settings(tmp_path / "dead", dead, root=root)
        broken = replace(broken, data_dir=settings.data_dir, providers=replace(broken.providers, max_attempts=1))
        report = publish(broken, store)  # the simulator is stopped: every request fails
    by = {m.partition_key: m for m in report.movies}
    result = by[MATRIX_KEY]
    assert result.status == "published" and not result.error
    (warning,) = [w for w in result.warnings if "not cached" in w]
    assert warning.startswith("poster 1:") and poster["url"] in warning and "not published" in warning
    folder = root / MATRIX
    assert not list(folder.glob(f"{MATRIX}-poster.*"))
    assert (folder / f"{MATRIX}-poster1.jpg").is_file() and (folder / f"{MATRIX}.nfo").is_file()
    assert (folder / f"{MATRIX}-fanart.jpg").is_file()
    assert by[HEAT_KEY].status == "published" and not [w for w in by[HEAT_KEY].warnings if "not cached" in w]
    assert winner(store, MATRIX_KEY, "poster", 1)["blob_sha"] is None


def test_an_earlier_file_is_kept_while_its_new_original_cannot_be_fetched(
        library: tuple[Path, Settings, Store], monkeypatch: pytest.MonkeyPatch) -> None:
    root, settings, store = library
    publish(settings, store)
    poster = winner(store, MATRIX_KEY, "poster", 1)
    target = root / MATRIX / artwork_path("file", MATRIX, "poster", 1, blob_ext(store, poster["blob_sha"]))
    stamp = target.stat().st_mtime_ns
    drop_blob_reference(store, settings, poster)
    calls = Calls(monkeypatch, (Store, "record_library_files_many"))
    report = publish(settings, store, [MATRIX_KEY], session=False)
    (result,) = report.movies
    assert result.status == "published" and result.removed == [] and result.written == []
    assert any(w.startswith("poster 1:") and "not cached" in w for w in result.warnings)
    assert target.is_file() and target.stat().st_mtime_ns == stamp  # kept, untouched, still ours
    assert recorded(calls) == []
    # With a provider again, the original is fetched, the same bytes: nothing to write.
    second = publish(settings, store, [MATRIX_KEY])
    (result,) = second.movies
    assert result.written == [] and not [w for w in result.warnings if "not cached" in w]
    assert winner(store, MATRIX_KEY, "poster", 1)["blob_sha"] == poster["blob_sha"]
