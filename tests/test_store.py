"""The state store: migrations, the scan write path, and several processes at once."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from metarr_pipeline.errors import StoreBusyError, StoreError
from metarr_pipeline.models import AudioStream, StreamDetails, SubtitleStream, VideoStream
from metarr_pipeline.store import (
    ActorRow,
    BlobRow,
    EnrichmentRow,
    LibraryFileRow,
    NfoBackupRow,
    NotificationRow,
    PersonRow,
    PublishState,
    RemovedMovie,
    ScanRun,
    ScanWrite,
    Store,
)
from metarr_pipeline.store.connection import DEFAULT_TIMEOUT, TIMEOUT_ENV, available_migrations
from tests.helpers.store_worker import movie

HELPERS = Path(__file__).parent / "helpers"


def test_migrations_are_numbered_recorded_and_applied_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.duckdb")
    versions = [v for v, _, _ in available_migrations()]
    assert versions == sorted(versions) and versions[0] == 1
    assert store.migrate() == versions
    assert store.migrate() == []  # second time: nothing pending
    con = duckdb.connect(str(store.path))
    try:
        recorded = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    finally:
        con.close()
    assert [v for v, _ in recorded] == versions
    assert recorded[0][1] == "001_initial.sql"
    assert store.schema_version() == versions[-1]


def test_migration_007_adds_the_audio_profile_and_reprobes_dts_movies(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store probed before 007 has DTS streams without a profile: those movies are probed again next scan
    (their probe key is cleared), the others keep theirs."""
    from dataclasses import replace

    before = [m for m in available_migrations() if m[0] < 7]
    monkeypatch.setattr("metarr_pipeline.store.connection.available_migrations", lambda: before)
    store = Store(tmp_path / "state.duckdb")
    store.apply_scan(ScanWrite(movies=[replace(movie(1, i), probe_key=f"m.mkv|{i}|{i}") for i in (1, 2)]))
    ids = {m.folder: m.id for m in store.movies()}
    con = duckdb.connect(str(store.path))
    try:
        con.execute("INSERT INTO streams (movie_id, kind, position, codec, channels) VALUES "
                    "(?, 'audio', 0, 'dts', 6), (?, 'audio', 0, 'ac3', 6)", [ids["/lib/w1/m1"], ids["/lib/w1/m2"]])
    finally:
        con.close()
    monkeypatch.undo()
    assert store.migrate() == [v for v, _, _ in available_migrations() if v >= 7]
    keys = {m.folder: m.probe_key for m in store.movies()}
    assert keys == {"/lib/w1/m1": "", "/lib/w1/m2": "m.mkv|2|2"}
    assert store.streams([ids["/lib/w1/m1"]])[ids["/lib/w1/m1"]].audio == (AudioStream("dts", 6, ""),)


def test_scan_write_round_trips_movies_and_streams(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.duckdb")
    details = StreamDetails(
        video=VideoStream("hevc", 3840, 1600, 2.4, 7200, "hdr10"),
        audio=(AudioStream("truehd", 8, "eng"), AudioStream("ac3", 6, "fre"), AudioStream("dts", 8, "ger", "DTS-HD MA")),
        subtitles=(SubtitleStream("eng", codec="subrip"), SubtitleStream("fre", external=True, forced=True,
                                                                         codec="subrip", path="m.fre.forced.srt")),
        container="matroska,webm",
    )
    store.apply_scan(ScanWrite(movies=[movie(1, 1), movie(1, 2)], streams={"/lib/w1/m1": details}))
    movies = {m.folder: m for m in store.movies()}
    assert set(movies) == {"/lib/w1/m1", "/lib/w1/m2"}
    m1 = movies["/lib/w1/m1"]
    assert m1.id is not None and m1.partition_key == "w1-m1" and m1.is_partition
    assert store.streams([m1.id]) == {m1.id: details}
    assert store.movie_by_partition("w1-m2").folder == "/lib/w1/m2"

    # Re-writing the same movie (with its id) replaces it rather than duplicating it.
    from dataclasses import replace
    store.apply_scan(ScanWrite(movies=[replace(m1, title="Renamed")], gone_ids=[movies["/lib/w1/m2"].id]))
    again = {m.folder: m for m in store.movies()}
    assert len(again) == 2 and again["/lib/w1/m1"].title == "Renamed"
    assert again["/lib/w1/m2"].gone_at is not None  # marked gone, never deleted
    assert store.partition_keys() == ["w1-m1"]


def test_a_failed_write_leaves_nothing_half_done(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.duckdb")
    store.apply_scan(ScanWrite(movies=[movie(1, 1)]))
    bad = movie(1, 2)
    from dataclasses import replace
    bad = replace(bad, status=None)  # type: ignore[arg-type]  # NOT NULL violation inside the transaction
    with pytest.raises(StoreError, match=r"NOT NULL"):
        store.apply_scan(ScanWrite(movies=[movie(1, 3), bad]))
    assert [m.folder for m in store.movies()] == ["/lib/w1/m1"]


def test_scan_runs_and_notifications_read_back_as_frozen_rows(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.duckdb")
    t0 = datetime(2026, 11, 1, 12, 0, 0)
    assert store.last_scan() is None
    store.apply_scan(ScanWrite(movies=[movie(1, 1), movie(1, 2)], started_at=t0, seen_at=t0, roots=["/lib"],
                               summary={"movies": 2}))
    assert store.last_scan() == ScanRun(started_at=t0, finished_at=t0, roots=("/lib",), summary={"movies": 2})
    m1, m2 = store.movies()
    store.queue_notifications([{"player": "kodi", "movie_id": m.id, "event": "created", "folder": m.folder,
                                "video_file": m.video_file, "queued_at": t0} for m in (m1, m2)])
    due = store.due_notifications(t0, ["kodi"], movie_ids=[m1.id])
    assert [(type(r), r.player, r.partition_key, r.event, r.status, r.attempts) for r in due] == [
        (NotificationRow, "kodi", "w1-m1", "created", "pending", 0)]
    with pytest.raises(AttributeError):
        due[0].status = "sent"  # type: ignore[misc]  # a row read back is a value
    store.record_notification_results([{"id": due[0].id, "status": "sent", "attempts": 1, "detail": "ok",
                                        "last_attempt_at": t0, "next_attempt_at": None, "sent_at": t0}])
    (sent,) = store.notifications(movie_ids=[m1.id])
    assert (sent.status, sent.detail, sent.sent_at, sent.next_attempt_at) == ("sent", "ok", t0, None)
    assert [r.partition_key for r in store.notifications(undelivered=True)] == ["w1-m2"]

    # A published movie that left the disk is due a "deleted" for each player not yet told.
    store.log_publish_many([{"movie_id": m1.id, "published_at": t0, "status": "published"}])
    store.apply_scan(ScanWrite(gone_ids=[m1.id], seen_at=t0))
    assert store.removed_movies_to_notify(["kodi"]) == [
        RemovedMovie(player="kodi", movie_id=m1.id, folder=m1.folder, video_file="m.mkv", gone_at=t0)]


def test_artwork_library_and_blob_reads_return_frozen_typed_rows(tmp_path: Path) -> None:
    """Callers read fields by name: each read returns its row type, with the columns as fields and the values
    as written (an actor without a ``people`` row has None headshot fields; a backup's missing ext is 'nfo')."""
    store = Store(tmp_path / "state.duckdb")
    t0, t1 = datetime(2026, 11, 1, 12, 0, 0), datetime(2026, 11, 2, 12, 0, 0)
    store.apply_scan(ScanWrite(movies=[movie(1, 1), movie(1, 2)]))
    m1, m2 = (m.id for m in store.movies())
    assert m1 is not None and m2 is not None
    blob = BlobRow("ab" * 32, "png", 123, 10, 20, "PNG", "https://image.tmdb.org/t/p/original/a.png", t0)
    person = PersonRow(7, "Keanu Reeves", "/k.jpg", "https://image.tmdb.org/t/p/h632/k.jpg", blob.sha256, "", t0)
    enrichment = EnrichmentRow(m1, "state", "sel", t1, t0, "fp", '{"actors": 2}')
    store.save_enrichment(
        analysis=None, candidates=None, movie_ids=[m1],
        actors=pl.DataFrame([{"movie_id": m1, "position": 0, "person_id": 7, "name": "Keanu Reeves", "role": "Neo"},
                             {"movie_id": m1, "position": 1, "person_id": 8, "name": "Nobody", "role": ""}]),
        people=pl.DataFrame([dataclasses.asdict(person)]), blobs=pl.DataFrame([dataclasses.asdict(blob)]),
        enrichment=pl.DataFrame([dataclasses.asdict(enrichment)]))
    store.record_library_files_many({m1: [{"path": "m-poster.png", "role": "art", "sha256": blob.sha256,
                                           "bytes": 123, "mtime_ns": None, "written_at": t0}]}, replace_all=True)
    store.log_publish_many([{"movie_id": m1, "published_at": t0, "status": "published"}])
    store.record_nfo_backup(m1, "m.nfo", {"sha256": "cd" * 32, "ext": "nfo", "bytes": 40, "source_url": ""}, t0)

    assert store.enrichment_rows([m1, m2]) == {m1: enrichment}
    assert store.people([7, 8]) == {7: person}
    assert store.movie_actors([m1, m2]) == {m1: [
        ActorRow(m1, 0, 7, "Keanu Reeves", "Neo", "/k.jpg", person.thumb_url, blob.sha256),
        ActorRow(m1, 1, 8, "Nobody", "", None, None, None)]}
    assert store.blob_rows([blob.sha256]) == {blob.sha256: blob}
    assert store.library_files([m1, m2]) == {m1: {"m-poster.png": LibraryFileRow(
        m1, "m-poster.png", "art", blob.sha256, 123, None, t0)}}
    assert store.publish_state() == {
        m1: PublishState(published_at=t0, changed_at=t1, state="outdated", enriched=True, last_error=""),
        m2: PublishState(published_at=None, changed_at=None, state="unpublished", enriched=False, last_error="")}
    assert store.nfo_backups(m1) == [NfoBackupRow("m.nfo", "cd" * 32, t0, "nfo", 40)]
    assert [f.name for f in dataclasses.fields(ActorRow)] == [
        "movie_id", "position", "person_id", "name", "role", "profile_path", "thumb_url", "blob_sha"]
    assert [f.name for f in dataclasses.fields(PublishState)] == [
        "published_at", "changed_at", "state", "enriched", "last_error"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        store.publish_state()[m1].state = "published"  # type: ignore[misc]  # a row read back is a value


def test_busy_database_gives_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    db = tmp_path / "state.duckdb"
    Store(db).migrate()
    # Another process holds DuckDB's own lock (outside our file lock), like a user's duckdb shell would.
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(db)!r}); print('ready', flush=True); "
                               "time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        store = Store(db, lock_timeout=1.0)
        started = datetime.now()
        with pytest.raises(StoreBusyError, match="state database") as err:
            store.movies()
        assert (datetime.now() - started).total_seconds() < 10
        assert str(db) in str(err.value)
    finally:
        holder.kill()
        holder.wait()


def test_several_processes_write_and_read_at_once_without_lock_errors_or_lost_writes(tmp_path: Path) -> None:
    db = tmp_path / "state.duckdb"
    Store(db).migrate()
    workers, seconds = 5, 4.0
    procs = [
        subprocess.Popen([sys.executable, str(HELPERS / "store_worker.py"), str(db), str(w), str(seconds)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=Path(__file__).parents[1])
        for w in range(workers)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"worker failed:\n{err[-3000:]}"
        results.append(json.loads(out.strip().splitlines()[-1]))
    total = sum(r["writes"] for r in results)
    assert all(r["writes"] >= 3 and r["reads"] >= 1 for r in results), results
    stored = Store(db).movies()
    assert len(stored) == total  # no write lost
    assert len({m.partition_key for m in stored}) == total
    for r in results:
        mine = [m for m in stored if m.folder.startswith(f"/lib/w{r['worker']}/")]
        assert len(mine) == r["writes"]


def test_the_default_wait_is_bounded_below_any_test_or_scheduler_timeout(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    assert Store(tmp_path / "s.duckdb").lock_timeout == DEFAULT_TIMEOUT < 300  # pytest's own timeout is 300 s
    monkeypatch.setenv(TIMEOUT_ENV, "7.5")
    assert Store(tmp_path / "s.duckdb").lock_timeout == 7.5
    monkeypatch.setenv(TIMEOUT_ENV, "-1")
    with pytest.raises(StoreError, match=TIMEOUT_ENV):
        Store(tmp_path / "s.duckdb")


def test_a_lock_file_held_by_another_process_is_a_clear_busy_error(tmp_path: Path) -> None:
    db = tmp_path / "state.duckdb"
    Store(db).migrate()
    lock = db.with_name(db.name + ".lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import filelock,time; l=filelock.FileLock({str(lock)!r}); l.acquire(); "
                               "print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        started = datetime.now()
        with pytest.raises(StoreBusyError) as err:
            Store(db, lock_timeout=1.0).provider_responses([("tmdb_movie", "603")])
        assert (datetime.now() - started).total_seconds() < 10
        message = str(err.value)
        assert str(db) in message and str(lock) in message
        assert re.search(r"within [0-9.]+s \(limit 1s", message), message
    finally:
        holder.kill()
        holder.wait()


def test_a_statement_that_outlives_the_deadline_is_interrupted_not_waited_for(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.duckdb", lock_timeout=1.0)
    store.migrate()
    started = datetime.now()
    with pytest.raises(StoreBusyError, match="its statements did not finish within") as err:
        store.execute_script("SELECT sum(hash(i)) FROM range(1000000000000) t(i)")  # hours of work
    assert (datetime.now() - started).total_seconds() < 30
    assert str(store.path) in str(err.value)
    assert Store(store.path).schema_version() > 0  # the file is fine afterwards


def test_provider_cache_reads_under_load_with_thread_churn_finish(tmp_path: Path) -> None:
    db = tmp_path / "state.duckdb"
    Store(db).migrate()
    workers, seconds = 4, 3.0
    procs = [
        subprocess.Popen([sys.executable, str(HELPERS / "cache_worker.py"), str(db), str(w), str(seconds)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
        for w in range(workers)
    ]
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=240)  # a hang fails here, with the worker's output
            assert proc.returncode == 0, f"worker failed:\n{err[-3000:]}"
            result = json.loads(out.strip().splitlines()[-1])
            assert result["writes"] >= 1 and result["reads"] >= 3, result
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_frame_reaches_duckdb_with_its_types(tmp_path: Path) -> None:
    """store/frames.py: what a registered frame did, without DuckDB's threads calling back into Python."""
    import duckdb
    import polars as pl

    from metarr_pipeline.store.frames import drop_frame, duck_type, load_frame

    frame = pl.DataFrame({"id": [1, 2], "name": ["a", None], "tags": [["x"], []], "seen_at": [None, None]},
                         schema={"id": pl.Int64, "name": pl.String, "tags": pl.List(pl.String),
                                 "seen_at": pl.Datetime("us")})
    con = duckdb.connect(str(tmp_path / "f.duckdb"))
    load_frame(con, "new_rows", frame)
    assert con.execute("SELECT id, name, tags, seen_at FROM new_rows ORDER BY id").fetchall() == [
        (1, "a", ["x"], None), (2, None, [], None)]
    assert [r[1] for r in con.execute("DESCRIBE new_rows").fetchall()] == ["BIGINT", "VARCHAR", "VARCHAR[]",
                                                                           "TIMESTAMP"]
    drop_frame(con, "new_rows")
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'new_rows'").fetchone() == (0,)
    with pytest.raises(TypeError, match="no DuckDB column type"):
        duck_type(pl.Object())


@contextmanager
def imports_attempted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names ``import`` is asked for inside the block (a failed ``import pandas`` is DuckDB's per-value cost)."""
    import builtins

    imports: list[str] = []
    real_import = builtins.__import__

    def counting_import(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        imports.append(name)
        return real_import(name, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(builtins, "__import__", counting_import)
        yield imports


def test_reads_by_many_keys_cost_no_python_work_per_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads that look rows up by a list of keys hand the keys over as one JSON text: as a list parameter DuckDB
    tried ``import pandas`` for each key (a quarter of a 1,000-movie re-score, in ``image_analysis``). Counted,
    not timed: the imports attempted while 20,000 preview URLs, movie ids and partition keys are looked up."""
    store = Store(tmp_path / "state.duckdb")
    store.image_analysis(["x"]), store.artwork_candidates([1]), store.movies(partition_keys=["x"])  # opened, migrated
    n = 20_000
    urls = [f"https://image.tmdb.org/t/p/w300/{i}.jpg" for i in range(n)]
    with imports_attempted(monkeypatch) as imports:
        found = store.image_analysis(urls)
        frame = store.artwork_candidates(list(range(n)))
        movies = store.movies(partition_keys=[f"movie-{i}" for i in range(n)])
    assert found == {} and frame.height == 0 and movies == []
    tried = imports.count("pandas")
    assert tried <= 10, f"'import pandas' tried {tried} times for {3 * n} keys"  # was twice per key


def test_a_large_frame_costs_no_python_work_per_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch's frame goes to DuckDB without a Python call per value: as list parameters, DuckDB tried
    ``import pandas`` twice per value (a failed import walks sys.path), which was 70 % of a 1,000-movie re-score.
    Counted, not timed: the imports attempted while 20,000 rows are loaded."""
    from metarr_pipeline.store.frames import load_frame

    n = 20_000
    frame = pl.DataFrame({"id": range(n), "name": [f"m{i}" for i in range(n)], "score": [i / 7 for i in range(n)],
                          "parts": [[1.0, 2.0]] * n, "at": [datetime(2026, 11, 30)] * n})
    con = duckdb.connect(str(tmp_path / "big.duckdb"))
    with imports_attempted(monkeypatch) as imports:
        load_frame(con, "big", frame)
    assert len(imports) < 100, f"{len(imports)} imports attempted, e.g. {sorted(set(imports))[:5]}"
    assert con.execute("SELECT count(*), sum(id), max(name) FROM big").fetchone() == (n, n * (n - 1) // 2, "m9999")
