"""Player notification: Kodi, Jellyfin and Plex told about every publish, against loopback doubles.

The doubles (tests/helpers/players.py) record every request and can answer 401s, hang past the timeout or
report that Kodi is playing. State lives in real DuckDB files in temporary folders.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from metarr_pipeline.cli import build_parser, main
from metarr_pipeline.config import Settings, load_settings
from metarr_pipeline.errors import ConfigError
from metarr_pipeline.players.deliver import backoff, deliver_notifications
from metarr_pipeline.players.errors import UnmappedPathError
from metarr_pipeline.players.mapping import PathMapper, as_folder
from metarr_pipeline.players.plex import MAX_PATH_REFRESHES
from metarr_pipeline.players.queue import queue_notifications
from metarr_pipeline.players.report import delivery_text
from metarr_pipeline.store import MovieRecord, NotificationRow, ScanWrite, Store
from tests.helpers.players import FakeJellyfin, FakeKodi, FakePlex, closed_port_url
from tests.test_publish import MATRIX, enrich_all, publish, sim  # noqa: F401  (sim is a fixture)

KODI_PASSWORD = "kodi-Pa55word-0091"
JELLYFIN_TOKEN = "jf-T0ken-4a5b6c7d8e"
PLEX_TOKEN = "plex-T0ken-zz991100"
SECRETS = (KODI_PASSWORD, JELLYFIN_TOKEN, PLEX_TOKEN)
T0 = datetime(2025, 3, 1, 20, 0, 0)


@pytest.fixture(autouse=True)
def player_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KODI_PASSWORD", KODI_PASSWORD)
    monkeypatch.setenv("TEST_JELLYFIN_TOKEN", JELLYFIN_TOKEN)
    monkeypatch.setenv("TEST_PLEX_TOKEN", PLEX_TOKEN)


@pytest.fixture
def doubles():
    with FakeKodi(password=KODI_PASSWORD) as kodi, FakeJellyfin(JELLYFIN_TOKEN) as jellyfin, \
            FakePlex(PLEX_TOKEN) as plex:
        kodi.sources = [{"file": "smb://nas/movies/", "label": "Movies"}]
        yield kodi, jellyfin, plex


def players_toml(root: Path, kodi: str, jellyfin: str, plex: str, *, kodi_extra: str = "", extra: str = "") -> str:
    return f"""
[[players]]
type = "kodi"
name = "living-room"
url = "{kodi}"
password_env = "TEST_KODI_PASSWORD"
timeout_seconds = 0.5
path_mappings = {{ "{root}" = "smb://nas/movies/" }}
{kodi_extra}
{extra}
[[players]]
type = "jellyfin"
url = "{jellyfin}"
token_env = "TEST_JELLYFIN_TOKEN"
timeout_seconds = 0.5
path_mappings = {{ "{root}" = "/data/movies" }}
{extra}
[[players]]
type = "plex"
url = "{plex}"
token_env = "TEST_PLEX_TOKEN"
timeout_seconds = 0.5
path_mappings = {{ "{root}/" = "/data/movies/" }}
{extra}
"""


def make_config(tmp_path: Path, doubles, **kw: str) -> Settings:
    kodi, jellyfin, plex = doubles
    root = tmp_path / "movies"
    root.mkdir(exist_ok=True)
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f'[data]\ndir = "{tmp_path / "state"}"\n[library]\nroots = ["{root}"]\n'
                   + players_toml(root, kodi.url, jellyfin.url, plex.url, **kw), encoding="utf-8")
    return load_settings(cfg)


def seed(store: Store, root: Path, names: list[str], prefix: str = "movie") -> list[MovieRecord]:
    now = datetime.now().replace(microsecond=0)
    base = MovieRecord(
        id=None, library_root=str(root), folder="", kind="file", video_file="", basename="", video_size=1,
        video_mtime_ns=1, status="identified", reason="", warnings=(), tmdb_id=None, imdb_id=None, id_source="name",
        title="", year=2000, partition_key="", nfo_file="", nfo_json="{}", lockdata=False, locked_fields=(),
        probe_key="", probe_error="", manual=False, first_seen=now, last_seen=now, changed_at=now, gone_at=None)
    records = [replace(base, folder=str(root / name), video_file=f"{Path(name).name}.mkv", basename=Path(name).name,
                       title=name, tmdb_id=None, partition_key=f"{prefix}-{i}") for i, name in enumerate(names)]
    store.apply_scan(ScanWrite(movies=records))
    by_key = {m.partition_key: m for m in store.movies()}
    return [by_key[r.partition_key] for r in records]


def rows(store: Store) -> dict[tuple[str, str], NotificationRow]:
    """(player, partition key) → the newest notification row."""
    out: dict[tuple[str, str], NotificationRow] = {}
    for r in store.notifications():
        out.setdefault((r.player, r.partition_key), r)
    return out


# -- path mapping ---------------------------------------------------------------------------------------------

MAPPINGS = {
    "/mnt/media": "/data",
    "/mnt/media/movies/": "smb://nas/movies/",
    "D:\\Films": "/films",
    "/mnt/win": "D:\\Movies\\",
    "//nas/share/Movies": "/share",
}


@pytest.mark.parametrize(("library_path", "expected"), [
    ("/mnt/media/movies/Heat (1995)", "smb://nas/movies/Heat (1995)"),  # longest prefix wins
    ("/mnt/media/movies/Heat (1995)/", "smb://nas/movies/Heat (1995)"),  # trailing slash ignored
    ("/mnt/media/movies", "smb://nas/movies"),  # the prefix itself
    ("/mnt/media/tv/Show", "/data/tv/Show"),  # the shorter prefix
    ("/mnt/media/movies2/Alien", "/data/movies2/Alien"),  # whole components only: movies2 is not movies
    ("d:/films/Amélie (2001)", "/films/Amélie (2001)"),  # Windows: either separator, case-insensitive
    ("D:\\Films\\Heat", "/films/Heat"),
    ("/mnt/win/Heat (1995)", "D:\\Movies\\Heat (1995)"),  # a Windows player gets backslashes
    ("\\\\NAS\\share\\movies\\Se7en", "/share/Se7en"),  # UNC, case-insensitive
])
def test_path_mapping_table(library_path: str, expected: str) -> None:
    assert PathMapper(MAPPINGS)(library_path) == expected


def test_kodi_folders_end_with_its_separator_and_unmapped_paths_are_a_clear_error() -> None:
    assert as_folder("smb://nas/movies/Heat") == "smb://nas/movies/Heat/"
    assert as_folder("D:\\Movies\\Heat") == "D:\\Movies\\Heat\\"
    assert as_folder("/data/x/") == "/data/x/"
    assert PathMapper({})("/mnt/movies/Heat/") == "/mnt/movies/Heat"  # no table: same paths
    with pytest.raises(UnmappedPathError) as err:
        PathMapper({"/mnt/movies": "/data"}, "kodi 'den'")("/srv/other/Heat")
    assert "kodi 'den'" in str(err.value) and "/srv/other/Heat" in str(err.value) and "/mnt/movies" in str(err.value)
    assert err.value.retryable is False


# -- config -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("players", "message"), [
    ('[[players]]\ntype = "kodi"\n', "'players[0].url' is required"),
    ('[[players]]\ntype = "kodi"\nurl = "kodi.local:8080"\n', "players[0].url must be an http"),
    ('[[players]]\ntype = "kodi"\nurl = "http://x"\n[[players]]\ntype = "emby"\nurl = "http://y"\n',
     "players[1].type must be one of kodi, jellyfin, plex"),
    ('[[players]]\ntype = "plex"\nurl = "http://x"\ntoken = "abc123"\n', "secrets are read from the environment"),
    ('[[players]]\ntype = "kodi"\nurl = "http://kodi:s3cret@x:8080"\n', "players[0].url contains credentials"),
    ('[[players]]\ntype = "jellyfin"\nurl = "http://x"\n', "players[0].token_env is required for jellyfin"),
    ('[[players]]\ntype = "kodi"\nurl = "http://x"\nskip_while_playing = "yes"\n',
     "'players[0].skip_while_playing' must be true or false"),
    ('[[players]]\ntype = "kodi"\nurl = "http://x"\ncolour = 1\n', "unknown key 'players[0].colour'"),
    ('[[players]]\ntype = "kodi"\nurl = "http://x"\n[[players]]\ntype = "kodi"\nurl = "http://y"\n',
     "players[1] is named 'kodi' like players[0]"),
    ('[players]\ntype = "kodi"\nurl = "http://x"\n', "write [[players]] above each entry"),
    ('[[players]]\ntype = "plex"\nurl = "http://x"\ntoken_env = "not a name"\n', "players[0].token_env must name"),
])
def test_player_config_errors_name_the_key_and_the_file(tmp_path: Path, players: str, message: str) -> None:
    (tmp_path / "movies").mkdir()
    cfg = tmp_path / "metarr.toml"
    cfg.write_text('[library]\nroots = ["movies"]\n' + players, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert message in str(err.value) and str(cfg) in str(err.value)
    assert "abc123" not in str(err.value) and "s3cret" not in str(err.value)


def test_player_config_loads_with_defaults(tmp_path: Path, doubles) -> None:
    settings = make_config(tmp_path, doubles)
    kodi, jellyfin, plex = settings.players
    assert (kodi.label, jellyfin.label, plex.label) == ("living-room", "jellyfin", "plex")
    assert kodi.enabled and kodi.skip_while_playing and kodi.max_attempts == 24
    assert kodi.path_mappings == {str(tmp_path / "movies"): "smb://nas/movies/"}
    assert settings.enabled_players == settings.players


def test_demo_config_has_a_disabled_example_of_each_player() -> None:
    from metarr_pipeline.config import DEMO_CONFIG

    settings = load_settings(DEMO_CONFIG, check_roots=False)
    assert sorted(p.type for p in settings.players) == ["jellyfin", "kodi", "plex"]
    assert not settings.enabled_players and all(p.path_mappings for p in settings.players)


# -- publish → notify, end to end -------------------------------------------------------------------------

@pytest.fixture
def published_library(demo_library: Path, tmp_path: Path, sim, doubles):  # noqa: F811
    from tests.test_providers import make_settings

    kodi, jellyfin, plex = doubles
    root = tmp_path / "library"
    for name in (MATRIX, "Heat (1995) {tmdb-949}"):
        shutil.copytree(demo_library / name, root / name)
    settings = make_settings(tmp_path, sim, root=root, extra=players_toml(root, kodi.url, jellyfin.url, plex.url))
    store = Store(settings.database_path)
    enrich_all(settings, store)
    return root, settings, store


def test_publish_queues_and_each_player_gets_the_mapped_folder(published_library, doubles) -> None:
    root, settings, store = published_library
    kodi, jellyfin, plex = doubles
    heat = "Heat (1995) {tmdb-949}"
    kodi.movies[42] = f"smb://nas/movies/{heat}/{heat}.mkv"  # Kodi already has Heat (scanned by itself)

    report = publish(settings, store)
    assert not report.failures
    assert not kodi.requests and not jellyfin.requests and not plex.requests  # publish never talks to players
    queued = rows(store)
    assert {r.event for r in queued.values()} == {"created"} and len(queued) == 6  # 2 movies × 3 players
    assert {r.status for r in queued.values()} == {"pending"}

    delivered = deliver_notifications(settings, store)
    assert delivered.summary()["sent"] == 6 and delivered.failed == 0, delivery_text(delivered)
    # Kodi: the new movie → a scan of its mapped folder (with the trailing slash); the known one → RefreshMovie.
    assert kodi.called("VideoLibrary.Scan") == [{"directory": f"smb://nas/movies/{MATRIX}/", "showdialogs": False}]
    assert kodi.called("VideoLibrary.RefreshMovie") == [{"movieid": 42, "ignorenfo": False}]
    assert kodi.requests[0].headers["authorization"].startswith("Basic ")
    # Jellyfin: one POST with both mapped folders.
    assert jellyfin.updates() == [[{"Path": f"/data/movies/{heat}", "UpdateType": "Created"},
                                   {"Path": f"/data/movies/{MATRIX}", "UpdateType": "Created"}]]
    assert jellyfin.requests[0].headers["authorization"].endswith(f'Token="{JELLYFIN_TOKEN}"')
    # Plex: the section holding /data/movies, refreshed for each mapped folder.
    assert sorted(plex.refreshes()) == [("1", f"/data/movies/{heat}"), ("1", f"/data/movies/{MATRIX}")]
    assert all(r.headers["x-plex-token"] == PLEX_TOKEN and "token" not in r.path.lower() for r in plex.requests)
    assert {r.status for r in rows(store).values()} == {"sent"}
    assert rows(store)[("living-room", "the-matrix-1999-tmdb603")].detail.startswith("Scan smb://nas/movies/")

    # Republishing without a change tells nobody anything.
    assert not publish(settings, store).failures
    assert deliver_notifications(settings, store).players == []

    # A republished movie (its NFO was deleted and is written again) → RefreshMovie with the id Kodi gave it.
    matrix_id = next(i for i, f in kodi.movies.items() if MATRIX in f)
    assert matrix_id != 42
    (root / MATRIX / f"{MATRIX}.nfo").unlink()
    report = publish(settings, store, ["the-matrix-1999-tmdb603"])
    assert report.movies[0].written == [f"{MATRIX}.nfo"]
    assert rows(store)[("jellyfin", "the-matrix-1999-tmdb603")].event == "modified"
    delivered = deliver_notifications(settings, store)
    assert delivered.summary()["sent"] == 3
    assert kodi.called("VideoLibrary.RefreshMovie")[-1] == {"movieid": matrix_id, "ignorenfo": False}
    # Then one scan of the refreshed folder, only to know the refresh job has ended (Kodi runs its jobs in order).
    assert [c["directory"] for c in kodi.called("VideoLibrary.Scan")][1:] == [f"smb://nas/movies/{MATRIX}/"]
    assert sorted(kodi.movies.values()) == [f"smb://nas/movies/{heat}/{heat}.mkv", f"smb://nas/movies/{MATRIX}/movie.mkv"]
    assert jellyfin.updates()[-1] == [{"Path": f"/data/movies/{MATRIX}", "UpdateType": "Modified"}]
    assert plex.refreshes()[-1] == ("1", f"/data/movies/{MATRIX}")


def test_offline_and_401_players_leave_the_publish_successful_and_the_notification_retryable(
    published_library, doubles
) -> None:
    _, settings, store = published_library
    kodi, jellyfin, plex = doubles
    offline = closed_port_url()
    settings = replace(settings, players=(
        replace(settings.players[0], url=offline), settings.players[1], settings.players[2]))
    jellyfin.mode = "unauthorized"
    plex.mode = "slow"

    report = publish(settings, store)
    assert not report.failures and report.summary()["published"] == 2

    now = datetime.now()  # queued at microsecond resolution: a truncated "now" would be before it
    delivered = deliver_notifications(settings, store, now=now)
    assert delivered.summary()["failed"] == 6 and delivered.summary()["sent"] == 0
    text = delivery_text(delivered)
    assert "not reachable" in text and "refused" in text and "401" in text and "did not answer" in text
    for (player, _), row in rows(store).items():
        assert row.status == "failed" and row.attempts == 1
        assert row.next_attempt_at == now + timedelta(seconds=60), player  # retryable, after the backoff
    assert not any(s in text for s in SECRETS)

    # Not due yet: nothing is sent, nobody is contacted.
    before = len(jellyfin.requests)
    assert deliver_notifications(settings, store, now=now + timedelta(seconds=30)).players == []
    assert len(jellyfin.requests) == before

    # Still failing after the backoff: the second attempt waits twice as long.
    later = now + timedelta(seconds=61)
    deliver_notifications(settings, store, now=later)
    assert rows(store)[("jellyfin", "the-matrix-1999-tmdb603")].next_attempt_at == later + timedelta(seconds=120)

    # The players come back: the retry is sent.
    jellyfin.mode = plex.mode = "ok"
    settings = replace(settings, players=(replace(settings.players[0], url=kodi.url), *settings.players[1:]))
    delivered = deliver_notifications(settings, store, now=later + timedelta(seconds=121))
    assert delivered.summary()["sent"] == 6, delivery_text(delivered)
    for row in rows(store).values():
        assert row.status == "sent" and row.attempts == 3 and row.next_attempt_at is None
    # Both new movies are in one Kodi source: one scan of it (issue #12: scans never cancel each other).
    assert kodi.called("VideoLibrary.Scan") == [{"directory": "smb://nas/movies/", "showdialogs": False}]
    assert len(kodi.movies) == 2 and len(jellyfin.updates()) == 1


# -- delivery rules, on a seeded store ------------------------------------------------------------------------

def test_ten_movies_in_one_tree_are_one_batch_per_player(tmp_path: Path, doubles) -> None:
    kodi, jellyfin, plex = doubles
    settings = make_config(tmp_path, doubles)
    root = settings.library.roots[0]
    store = Store(settings.database_path)
    movies = seed(store, root, [f"Collection/Movie {i:02d}" for i in range(10)])
    assert queue_notifications(store, settings, [(m, "created") for m in movies], T0) == 30

    report = deliver_notifications(settings, store, now=T0)
    assert report.summary()["sent"] == 30
    # Kodi: one lookup for all ten folders, one scan of the source holding them (never a scan while Kodi
    # scans: it would stop the running one), then the same lookup again to verify.
    lookups = kodi.called("VideoLibrary.GetMovies")
    assert len(lookups) == 2 and len(lookups[0]["filter"]["or"]) == 10
    assert [c["directory"] for c in kodi.called("VideoLibrary.Scan")] == ["smb://nas/movies/"]
    assert kodi.cancelled_scans == 0 and len(kodi.movies) == 10
    assert all("verified" in r.detail for (p, _), r in rows(store).items() if p == "living-room")
    # Jellyfin: one POST with all ten; Plex: the sections, then one refresh per folder.
    assert len(jellyfin.requests) == 1 and len(jellyfin.updates()[0]) == 10
    assert len(plex.requests) == 11 and len(plex.refreshes()) == 10
    assert {p.player: p.requests for p in report.players if p.player != "living-room"} == {"jellyfin": 1, "plex": 11}


def test_kodi_gets_every_new_movie_of_a_large_batch_and_verifies_it(
        tmp_path: Path, doubles, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #12: 23 scans in one batch cancelled each other in a real Kodi and most movies were lost, yet all
    were recorded sent. Now: no scan while Kodi scans (the user's own scan included), then a GetMovies check;
    a movie Kodi still lacks is failed with the reason and retried."""
    monkeypatch.setattr("metarr_pipeline.players.kodi.VERIFY_SECONDS", 0.3)
    kodi, _, _ = doubles
    settings = make_config(tmp_path, doubles)
    settings = replace(settings, players=settings.players[:1])
    root = settings.library.roots[0]
    store = Store(settings.database_path)
    names = [f"Movie {i:02d} (2000)" for i in range(30)] + ["Elsewhere/Alien (1979)"]
    kodi.sources.append({"file": "smb://nas/movies/Elsewhere/", "label": "Elsewhere"})
    movies = seed(store, root, names)
    kodi.disk = {f"smb://nas/movies/{n}/{Path(n).name}.mkv" for n in names}
    kodi.unreadable = {"smb://nas/movies/Movie 07 (2000)/"}  # its NFO cannot be read: Kodi will not add it
    kodi.movies[500] = "smb://nas/movies/Movie 00 (2000)/Movie 00 (2000).mkv"  # known: refreshed, new id
    kodi.scan_seconds = 0.2
    kodi._scan("smb://nas/other/")  # the user started a scan: ours must wait, not stop it
    queue_notifications(store, settings, [(m, "created") for m in movies], T0)

    report = deliver_notifications(settings, store, now=T0)
    assert kodi.cancelled_scans == 0
    assert sorted(c["directory"] for c in kodi.called("VideoLibrary.Scan")) == [
        "smb://nas/movies/", "smb://nas/movies/Elsewhere/Alien (1979)/"]
    assert kodi.called("VideoLibrary.RefreshMovie") == [{"movieid": 500, "ignorenfo": False}]
    assert report.summary()["sent"] == 30 and report.failed == 1, delivery_text(report)
    failed = rows(store)[("living-room", "movie-7")]
    assert failed.status == "failed" and "still does not have the movie" in failed.detail
    assert failed.next_attempt_at == T0 + timedelta(seconds=60)  # retried
    assert len(set(kodi.movies.values())) == len(kodi.movies) == 30  # nothing twice

    kodi.unreadable = set()  # the user fixed the NFO: the retry adds it
    report = deliver_notifications(settings, store, now=T0 + timedelta(seconds=61))
    assert report.summary()["sent"] == 1 and len(kodi.movies) == 31
    assert rows(store)[("living-room", "movie-7")].detail.endswith("verified")


def _kodi_only_with_heat(tmp_path: Path, doubles, monkeypatch: pytest.MonkeyPatch):
    """The Kodi double as the only player (verification waits 0.3 s at most) and one movie, Heat (1995)."""
    monkeypatch.setattr("metarr_pipeline.players.kodi.VERIFY_SECONDS", 0.3)
    kodi, _, _ = doubles
    settings = make_config(tmp_path, doubles)
    settings = replace(settings, players=settings.players[:1])
    store = Store(settings.database_path)
    (movie,) = seed(store, settings.library.roots[0], ["Heat (1995)"])
    return kodi, settings, store, movie


def test_a_refresh_of_kodis_newest_movie_is_verified_though_its_id_comes_back(
        tmp_path: Path, doubles, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kodi's refresh removes the movie and adds it again, and its newest movie gets its own id back (SQLite's
    largest rowid + 1; measured), so a new id cannot be the sign that the refresh ended: a scan of ours queued
    behind it is (Kodi runs its library jobs one at a time, in order)."""
    kodi, settings, store, movie = _kodi_only_with_heat(tmp_path, doubles, monkeypatch)
    kodi.movies[1] = "smb://nas/movies/Heat (1995)/Heat (1995).mkv"
    queue_notifications(store, settings, [(movie, "modified")], T0)

    report = deliver_notifications(settings, store, now=T0)
    assert report.summary()["sent"] == 1, delivery_text(report)
    assert kodi.called("VideoLibrary.RefreshMovie") == [{"movieid": 1, "ignorenfo": False}]
    assert kodi.movies == {1: "smb://nas/movies/Heat (1995)/Heat (1995).mkv"}  # the same id, re-read
    assert [c["directory"] for c in kodi.called("VideoLibrary.Scan")] == ["smb://nas/movies/Heat (1995)/"]
    assert rows(store)[("living-room", "movie-0")].detail == "RefreshMovie 1; verified"


def test_a_refreshed_movie_gets_the_art_on_disk_not_kodis_cached_listing(
        tmp_path: Path, doubles, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real Kodi 20 finds a refreshed movie's local art in its *cached* listing of the folder, so a clearlogo
    the publish removed came back and a new banner was missed (measured, docs/KODI-SOURCE.md (c)). The folder
    is listed in the same batch, before the refresh: Kodi caches that listing instead."""
    kodi, settings, store, movie = _kodi_only_with_heat(tmp_path, doubles, monkeypatch)
    folder = "smb://nas/movies/Heat (1995)/"
    kodi.disk = {folder + "Heat (1995).mkv"}
    kodi.files = {folder + "Heat (1995)-poster.jpg", folder + "Heat (1995)-clearlogo.png"}
    with kodi._lock:  # Kodi scanned the folder earlier: it has the movie and a cached listing of the folder
        kodi._list(folder)
        kodi._add_movie(folder + "Heat (1995).mkv")
    assert set(kodi.art[1]) == {"poster", "clearlogo"}

    kodi.files = {folder + "Heat (1995)-poster.jpg", folder + "Heat (1995)-banner.jpg"}  # what the publish did
    queue_notifications(store, settings, [(movie, "modified")], T0)
    report = deliver_notifications(settings, store, now=T0)
    assert report.summary()["sent"] == 1, delivery_text(report)
    (movieid,) = kodi.movies
    assert set(kodi.art[movieid]) == {"poster", "banner"}  # the removed logo is gone, the new banner is there
    methods = [m for m, _ in kodi.calls]
    assert methods.index("Files.GetDirectory") < methods.index("VideoLibrary.RefreshMovie")
    assert kodi.called("Files.GetDirectory") == [{"directory": folder, "media": "files"}]


def test_plex_refreshes_the_whole_section_for_a_large_batch(tmp_path: Path, doubles) -> None:
    _, _, plex = doubles
    settings = make_config(tmp_path, doubles)
    settings = replace(settings, players=(settings.players[2],))
    store = Store(settings.database_path)
    movies = seed(store, settings.library.roots[0], [f"Movie {i:02d}" for i in range(MAX_PATH_REFRESHES + 5)])
    queue_notifications(store, settings, [(m, "modified") for m in movies], T0)
    assert deliver_notifications(settings, store, now=T0).summary()["sent"] == MAX_PATH_REFRESHES + 5
    assert plex.refreshes() == [("1", None)]


def test_unmapped_movie_fails_alone_with_a_clear_reason_and_is_not_retried(tmp_path: Path, doubles) -> None:
    _, jellyfin, _ = doubles
    settings = make_config(tmp_path, doubles)
    other = tmp_path / "elsewhere"
    other.mkdir()
    settings = replace(settings, players=settings.players[:2])
    store = Store(settings.database_path)
    movies = [*seed(store, settings.library.roots[0], ["Heat (1995)"]), *seed(store, other, ["Alien (1979)"], "outside")]
    queue_notifications(store, settings, [(m, "created") for m in movies], T0)

    report = deliver_notifications(settings, store, now=T0)
    assert report.summary()["sent"] == 2 and report.failed == 2
    for player in ("living-room", "jellyfin"):
        row = rows(store)[(player, "outside-0")]
        assert row.status == "failed" and row.next_attempt_at is None
        assert f"no path mapping covers '{other / 'Alien (1979)'}'" in row.detail and "not retried" in row.detail
        assert rows(store)[(player, "movie-0")].status == "sent"
    assert [u["Path"] for u in jellyfin.updates()[0]] == ["/data/movies/Heat (1995)"]
    assert deliver_notifications(settings, store, now=T0 + timedelta(days=1)).players == []  # not retried
    # ... unless asked to: 'metarr players notify --now' delivers everything undelivered.
    assert deliver_notifications(settings, store, now=T0 + timedelta(days=1), force=True).failed == 2


def test_kodi_playing_defers_and_delivers_once_playback_stops(tmp_path: Path, doubles) -> None:
    kodi, _, _ = doubles
    settings = make_config(tmp_path, doubles, kodi_extra="defer_seconds = 600")
    settings = replace(settings, players=settings.players[:1])
    store = Store(settings.database_path)
    movies = seed(store, settings.library.roots[0], ["Heat (1995)", "Alien (1979)"])
    queue_notifications(store, settings, [(m, "created") for m in movies], T0)
    kodi.mode = "playing"

    report = deliver_notifications(settings, store, now=T0)
    assert report.summary()["deferred"] == 2 and report.failed == 0
    assert kodi.called("VideoLibrary.Scan") == [] and kodi.called("VideoLibrary.GetMovies") == []
    for row in rows(store).values():
        assert row.status == "deferred" and row.attempts == 0 and "playing" in row.detail
        assert row.next_attempt_at == T0 + timedelta(seconds=600)
    assert deliver_notifications(settings, store, now=T0 + timedelta(seconds=300)).players == []

    # Still playing after the deferral: deferred again; stopped: delivered.
    assert deliver_notifications(settings, store, now=T0 + timedelta(seconds=600)).summary()["deferred"] == 2
    kodi.mode = "ok"
    assert deliver_notifications(settings, store, now=T0 + timedelta(seconds=1200)).summary()["sent"] == 2
    assert len(kodi.called("VideoLibrary.Scan")) == 1 and len(kodi.movies) == 2  # one scan of their source

    # With skip_while_playing off, playback does not hold anything back.
    settings = replace(settings, players=(replace(settings.players[0], skip_while_playing=False),))
    kodi.mode = "playing"
    queue_notifications(store, settings, [(movies[0], "modified")], T0 + timedelta(hours=1))
    assert deliver_notifications(settings, store, now=T0 + timedelta(hours=1)).summary()["sent"] == 1
    assert kodi.called("VideoLibrary.RefreshMovie")


def test_a_removed_movie_is_removed_from_kodi_and_announced_deleted(tmp_path: Path, doubles) -> None:
    kodi, jellyfin, plex = doubles
    settings = make_config(tmp_path, doubles)
    store = Store(settings.database_path)
    gone, kept, never = seed(store, settings.library.roots[0], ["Heat (1995)", "Alien (1979)", "Se7en (1995)"])
    kodi.movies[7] = "smb://nas/movies/Heat (1995)/Heat (1995).mkv"
    kodi.movies[8] = "smb://nas/movies/Alien (1979)/Alien (1979).mkv"
    for m in (gone, kept):
        store.log_publish_many([{"movie_id": m.id, "published_at": T0, "status": "published"}])
    store.apply_scan(ScanWrite(gone_ids=[gone.id, never.id], seen_at=T0 + timedelta(minutes=1)))

    now = T0 + timedelta(minutes=2)
    report = deliver_notifications(settings, store, now=now)
    assert report.removals_queued == 3 and report.summary()["sent"] == 3  # one player each; Se7en never published
    assert kodi.called("VideoLibrary.RemoveMovie") == [{"movieid": 7}] and 7 not in kodi.movies and 8 in kodi.movies
    assert jellyfin.updates() == [[{"Path": "/data/movies/Heat (1995)", "UpdateType": "Deleted"}]]
    assert plex.refreshes() == [("1", "/data/movies")]  # the parent: Plex notices the folder is gone
    assert rows(store)[("living-room", "movie-0")].detail == "RemoveMovie 7"
    # Told once: the next delivery queues nothing.
    assert deliver_notifications(settings, store, now=now + timedelta(hours=1)).removals_queued == 0


def test_queue_merges_undelivered_events(tmp_path: Path, doubles) -> None:
    settings = make_config(tmp_path, doubles)
    settings = replace(settings, players=settings.players[1:2])
    store = Store(settings.database_path)
    (movie,) = seed(store, settings.library.roots[0], ["Heat (1995)"])
    queue_notifications(store, settings, [(movie, "created")], T0)
    queue_notifications(store, settings, [(movie, "modified")], T0 + timedelta(minutes=1))
    undelivered = store.notifications(undelivered=True)
    assert [(r.event, r.status) for r in undelivered] == [("created", "pending")]  # still new to the player
    deliver_notifications(settings, store, now=T0 + timedelta(minutes=1))
    queue_notifications(store, settings, [(movie, "modified")], T0 + timedelta(minutes=2))
    assert [r.event for r in store.notifications()] == ["modified", "created"]


def test_backoff_doubles_up_to_an_hour_and_gives_up_after_max_attempts(tmp_path: Path, doubles) -> None:
    assert [backoff(n, 60) for n in (1, 2, 3, 7, 20)] == [60, 120, 240, 3600, 3600]
    _, jellyfin, _ = doubles
    settings = make_config(tmp_path, doubles, extra="max_attempts = 2")
    settings = replace(settings, players=settings.players[1:2])
    store = Store(settings.database_path)
    (movie,) = seed(store, settings.library.roots[0], ["Heat (1995)"])
    queue_notifications(store, settings, [(movie, "created")], T0)
    jellyfin.mode = "unauthorized"
    deliver_notifications(settings, store, now=T0)
    deliver_notifications(settings, store, now=T0 + timedelta(seconds=60))
    (row,) = store.notifications()
    assert row.status == "failed" and row.attempts == 2 and row.next_attempt_at is None
    assert row.detail.startswith("gave up after 2 attempts:") and "TEST_JELLYFIN_TOKEN" in row.detail


def test_a_missing_credential_variable_fails_the_player_not_the_delivery(
    tmp_path: Path, doubles, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_config(tmp_path, doubles)
    store = Store(settings.database_path)
    (movie,) = seed(store, settings.library.roots[0], ["Heat (1995)"])
    queue_notifications(store, settings, [(movie, "created")], T0)
    monkeypatch.delenv("TEST_PLEX_TOKEN")
    report = deliver_notifications(settings, store, now=T0)
    assert report.summary()["sent"] == 2 and report.failed == 1
    assert "TEST_PLEX_TOKEN" in rows(store)[("plex", "movie-0")].detail
    assert rows(store)[("plex", "movie-0")].next_attempt_at is not None  # set the variable: the retry works


# -- credentials ----------------------------------------------------------------------------------------------

def test_credentials_never_appear_in_logs_errors_state_or_dagster_metadata(
    tmp_path: Path, doubles, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from dagster_project.assets.notify import player_notifications
    from dagster_project.resources import MetarrResource

    kodi, jellyfin, plex = doubles
    settings = make_config(tmp_path, doubles)
    store = Store(settings.database_path)
    movies = seed(store, settings.library.roots[0], ["Heat (1995)", "Alien (1979)"])
    queue_notifications(store, settings, [(m, "created") for m in movies], T0)
    kodi.password = "something-else"  # Kodi now refuses our password, Jellyfin our token
    jellyfin.mode = "unauthorized"
    caplog.set_level(logging.DEBUG)

    report = deliver_notifications(settings, store, now=T0, partition_keys=["movie-0"])
    text = delivery_text(report) + repr(report) + repr(store.notifications())
    assert report.failed == 2 and report.summary()["sent"] == 1
    main(["--config", str(settings.config_path), "players", "test"])
    text += capsys.readouterr().out
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("movies", ["movie-0", "movie-1"])
        result = dg.materialize([player_notifications], instance=instance, partition_key="movie-1",
                                resources={"metarr": MetarrResource(config_path=str(settings.config_path))})
        assert result.success
        (event,) = result.get_asset_materialization_events()
        meta = event.materialization.metadata  # the movie's own: what each player was told
        assert meta["jellyfin"].value.startswith("failed: created") and meta["plex"].value.startswith("sent")
        (totals,) = [e.event_specific_data.asset_observation.metadata for e in result.get_asset_observation_events()]
        assert totals["failed"].value == 2 and totals["sent"].value == 1 and "401" in totals["players"].value
        text += "".join(repr(e) for e in result.all_events)
    text += caplog.text
    assert "refused" in text  # the failures are visible ...
    for secret in SECRETS:
        assert secret not in text  # ... the credentials are not
    # They were sent, though, in headers only.
    assert any(r.headers.get("x-plex-token") == PLEX_TOKEN for r in plex.requests)
    assert all(PLEX_TOKEN not in r.path + repr(r.query) for r in plex.requests)


# -- the CLI --------------------------------------------------------------------------------------------------

def test_every_players_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    actions = next(a for a in commands["players"]._actions if a.dest == "players_command").choices
    assert {"test", "notify", "status"} <= set(actions)
    for name in actions:
        with pytest.raises(SystemExit) as exit_info:
            main(["players", name, "--help"])
        assert exit_info.value.code == 0
        assert f"usage: metarr players {name}" in capsys.readouterr().out


def test_players_test_notify_and_status_commands(tmp_path: Path, doubles, capsys: pytest.CaptureFixture[str]) -> None:
    kodi, jellyfin, plex = doubles
    settings = make_config(tmp_path, doubles)
    root = settings.library.roots[0]
    cfg = str(settings.config_path)
    assert main(["--config", cfg, "players", "test"]) == 0
    out = capsys.readouterr().out
    assert "kodi 'living-room': OK" in out and "JSONRPC.Ping → pong" in out
    assert f"library root {root} → smb://nas/movies/: in Kodi source 'Movies'" in out
    assert "fake-jellyfin (Jellyfin 10.10.3)" in out and f"{root} → /data/movies: in library 'Movies'" in out
    assert "Plex Media Server 1.41.0" in out and f"{root} → /data/movies: in section 'Movies' (id 1)" in out
    assert not any(c[0] in ("VideoLibrary.Scan", "VideoLibrary.RefreshMovie") for c in kodi.calls)
    assert not jellyfin.updates() and not plex.refreshes()  # a test notifies nobody

    plex.sections = {"2": ("TV Shows", ["/data/tv"])}  # the library root is in no Plex section
    kodi.sources = []
    assert main(["--config", cfg, "players", "test", "plex", "living-room"]) == 1
    out = capsys.readouterr().out
    assert "plex 'plex': PROBLEMS" in out and "not inside any Plex section" in out
    assert "not inside any Kodi video source" in out and "jellyfin" not in out
    assert main(["--config", cfg, "players", "test", "nope"]) == 2
    assert "no player named 'nope'" in capsys.readouterr().err

    plex.sections = {"1": ("Movies", ["/data/movies"])}
    store = Store(settings.database_path)
    (movie,) = seed(store, root, ["Heat (1995)"])
    queue_notifications(store, settings, [(movie, "created")], datetime.now().replace(microsecond=0))
    jellyfin.mode = "unauthorized"
    assert main(["--config", cfg, "players", "notify"]) == 1
    out = capsys.readouterr().out
    assert "2 notifications sent, 0 deferred, 1 failed" in out and "movie-0: failed (created)" in out
    assert main(["--config", cfg, "players", "status"]) == 0
    out = capsys.readouterr().out
    assert "jellyfin: 0 pending, 0 deferred, 1 failed, 0 sent" in out and "next try" in out
    jellyfin.mode = "ok"
    assert main(["--config", cfg, "players", "notify"]) == 0  # not due yet: nothing to do
    assert "nothing due" in capsys.readouterr().out
    assert main(["--config", cfg, "players", "notify", "--now"]) == 0
    assert "1 notifications sent" in capsys.readouterr().out


# -- Dagster --------------------------------------------------------------------------------------------------

def test_dagster_notification_asset_sensor_and_retry_job(tmp_path: Path, doubles) -> None:
    from dagster_project.assets.notify import player_notification_retry_job, player_notifications
    from dagster_project.automation import player_notification_sensor
    from dagster_project.definitions import defs
    from dagster_project.partitions import movies_partitions
    from dagster_project.resources import MetarrResource

    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey("player_notifications"))
    assert node.partitions_def == movies_partitions
    assert dg.AssetKey("published_library_files") in node.parent_keys
    assert defs.resolve_sensor_def("player_notification_sensor") is not None
    assert dg.AssetKey("player_notifications") in defs.resolve_job_def("publish_job").asset_layer.selected_asset_keys

    _, jellyfin, _ = doubles
    settings = make_config(tmp_path, doubles, extra="retry_seconds = 0.001")
    store = Store(settings.database_path)
    movies = seed(store, settings.library.roots[0], ["Heat (1995)", "Alien (1979)"])
    resource = MetarrResource(config_path=str(settings.config_path))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("movies", ["movie-0", "movie-1"])
        result = player_notification_sensor(dg.build_sensor_context(instance=instance, resources={"metarr": resource}))
        assert not result.run_requests and "no player notification is due" in result.skip_reason.skip_message

        queue_notifications(store, settings, [(m, "created") for m in movies], datetime.now().replace(microsecond=0))
        jellyfin.mode = "unauthorized"
        result = dg.materialize([player_notifications], instance=instance, partition_key="movie-0",
                                resources={"metarr": resource})
        meta = result.get_asset_materialization_events()[0].materialization.metadata
        assert meta["living-room"].value.startswith("sent: created, Scan smb://nas/movies/Heat (1995)/")
        assert meta["jellyfin"].value.startswith("failed: created") and "failed" not in meta  # totals: run level
        (totals,) = [e.event_specific_data.asset_observation for e in result.get_asset_observation_events()]
        assert totals.partition is None and totals.metadata["failed"].value == 1

        # movie-1 is pending (too fresh: left to its publish run); movie-0's failure is due after its backoff.
        context = dg.build_sensor_context(instance=instance, resources={"metarr": resource})
        first = player_notification_sensor(context)
        (request,) = first.run_requests
        assert request.tags["metarr/due_notifications"] == "1"
        again = player_notification_sensor(dg.build_sensor_context(instance=instance, resources={"metarr": resource}))
        assert again.run_requests[0].run_key == request.run_key  # same due set: Dagster will not launch twice

        jellyfin.mode = "ok"
        run = player_notification_retry_job.execute_in_process(instance=instance, resources={"metarr": resource})
        assert run.success
        assert rows(store)[("jellyfin", "movie-0")].status == "sent"
        observed = [e for e in run.all_events if e.event_type_value == "ASSET_OBSERVATION"]
        assert any(e.event_specific_data.asset_observation.partition == "movie-0" for e in observed)
