"""A large enrichment's image work on worker processes (``[providers] image_processes``) decides exactly what the
same enrichment on threads decides: the same analysis facts, the same winners, the same blobs and headshots, the
same request counts in the report; and a failure keeps its kind (a fact, a transient fault) across the process
boundary. The processes are real (spawned), the HTTP real (the loopback simulator)."""

from __future__ import annotations

import io
import threading
from datetime import datetime
from pathlib import Path

import httpx
import polars as pl
import pytest
from PIL import Image

from metarr_pipeline.artwork.enrich import enrich_movies
from metarr_pipeline.artwork.enrich.images import ImageRequests, _on_threads
from metarr_pipeline.artwork.tiles import tile_path
from metarr_pipeline.blobs import BlobStore
from metarr_pipeline.providers.fetch import fetch_metadata
from metarr_pipeline.providers.http import HttpFetcher
from metarr_pipeline.providers.politeness import HostPolicy, Route
from metarr_pipeline.providers.session import open_providers
from metarr_pipeline.simulator import Faults, Simulator, SimulatorConfig
from metarr_pipeline.store import Store
from tests.test_providers import KEYS, make_settings, seed_movies

pytestmark = pytest.mark.timeout(600)

IDS = [603, 949, 807, 1001, 1002, 1004]


def _enrich(tmp_path: Path, sim: Simulator, processes: int) -> tuple[Store, object, dict]:
    tmp_path.mkdir()
    settings = make_settings(tmp_path, sim, providers=f"image_processes = {processes}")
    store = Store(settings.database_path)
    seed_movies(store, IDS)
    with open_providers(settings, KEYS) as providers:
        fetch_metadata(settings, store, providers)
        report = enrich_movies(settings, store, providers)
    assert not report.failures, [m.error for m in report.failures]
    return store, report, {m.tmdb_id: m.id for m in store.movies()}


def _decisions(store: Store, ids: dict) -> pl.DataFrame:
    frame = store.artwork_candidates(sorted(ids.values()))
    return frame.select("movie_id", "type", "candidate_id", "width", "height", "phash", "gate", "duplicate_of",
                        "selected_rank", "blob_sha").sort("movie_id", "type", "candidate_id")


def test_worker_processes_decide_what_threads_decide(tmp_path: Path, sim: Simulator,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("metarr_pipeline.artwork.enrich.images.MIN_IMAGES_FOR_PROCESSES", 1)
    threads, by_threads, ids = _enrich(tmp_path / "threads", sim, 1)
    workers, by_workers, ids_w = _enrich(tmp_path / "workers", sim, 2)
    assert by_threads.image_processes == 0 and by_workers.image_processes == 2  # really two processes
    assert ids == ids_w
    assert _decisions(workers, ids).equals(_decisions(threads, ids))
    chosen = _decisions(workers, ids).filter(pl.col("selected_rank").is_not_null())
    assert chosen.height > 20 and chosen["blob_sha"].null_count() == 0
    blobs = BlobStore(tmp_path / "workers" / "state" / "cache")
    rows = workers.blob_rows(chosen["blob_sha"].unique().to_list())
    assert rows and all(blobs.path_for(sha, row.ext).is_file() for sha, row in rows.items())  # stored where read
    assert _headshots(workers, ids) == _headshots(threads, ids) and any(_headshots(workers, ids).values())
    for run in ("threads", "workers"):  # each original's contact-sheet tile made where it was downloaded
        cache = tmp_path / run / "state" / "cache"
        assert all(tile_path(cache, sha).is_file() for sha in chosen["blob_sha"].unique()), run
        assert not any(tile_path(cache, sha).exists() for sha in _headshots(workers, ids).values() if sha), run
    for key in ("candidates", "previews_analysed", "originals_downloaded", "headshots_downloaded", "bytes_downloaded"):
        assert by_workers.counters[key] == by_threads.counters[key], key
    assert by_workers.requests["requests"] == by_threads.requests["requests"] > 100  # the workers' requests counted


def _headshots(store: Store, ids: dict) -> dict[tuple[int, int], str | None]:
    return {(a.movie_id, a.position): a.blob_sha for actors in store.movie_actors(sorted(ids.values())).values()
            for a in actors}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory):
    """Every image request of the TMDB image host fails with a 500, every fanart.tv asset is found (none)."""
    config = SimulatorConfig(image_cache_dir=tmp_path_factory.mktemp("faulty"),
                             faults={"tmdb_images": Faults(error_rate=1.0)})
    with Simulator(config) as s:
        yield s


def test_a_failure_keeps_its_kind_across_the_process_boundary(tmp_path: Path, faulty: Simulator,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("metarr_pipeline.artwork.enrich.images.MIN_IMAGES_FOR_PROCESSES", 1)
    settings = make_settings(tmp_path, faulty, providers="image_processes = 2\nmax_attempts = 1")
    base = "https://image.tmdb.org/t/p/w300"
    with open_providers(settings, KEYS) as session:
        images = ImageRequests(settings, session, BlobStore(settings.cache_dir), now=_now())
        try:
            results = images.analyse([f"{base}/a.jpg", f"{base}/b.jpg", "https://elsewhere.example/c.jpg"])
            assert images.used_processes == 2
        finally:
            images.close()
    assert results[f"{base}/a.jpg"].transient and not results[f"{base}/a.jpg"].fact  # a 500: tried again next run
    assert "HTTP 500" in results[f"{base}/b.jpg"].error
    refused = results["https://elsewhere.example/c.jpg"]  # not on the allowlist: refused, neither kind
    assert not refused.ok and not refused.fact and not refused.transient and "elsewhere.example" in refused.error


def _now() -> datetime:
    return datetime(2026, 11, 30, 12, 0, 0)


def test_each_image_host_has_its_own_threads(tmp_path: Path) -> None:
    """A run of one host's URLs must not hold the threads another host's connections need. Here every fanart.tv
    request waits until all TMDB ones are served: with one pool for both, the fanart.tv URLs listed first would
    take every thread and no TMDB request would ever start (each fanart.tv request then gives up after 30 s)."""
    tmdb_urls = [f"https://image.tmdb.test/t/p/w300/{n}.jpg" for n in range(12)]
    fanart_urls = [f"https://assets.fanart.test/preview/{n}.jpg" for n in range(12)]
    all_tmdb_served = threading.Event()
    served: list[str] = []
    lock = threading.Lock()
    jpeg = io.BytesIO()
    Image.new("RGB", (300, 450), (20, 120, 200)).save(jpeg, "JPEG")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "assets.fanart.test" and not all_tmdb_served.wait(timeout=30):
            return httpx.Response(503)
        with lock:
            served.append(request.url.host)
            if served.count("image.tmdb.test") == len(tmdb_urls):
                all_tmdb_served.set()
        return httpx.Response(200, content=jpeg.getvalue(), headers={"Content-Type": "image/jpeg"})

    policy = HostPolicy(1000.0, 3, 60.0)
    routes = [Route("tmdb_images", "https://image.tmdb.test/t/p", policy),
              Route("fanart_assets", "https://assets.fanart.test", policy)]
    with HttpFetcher(routes, transport=httpx.MockTransport(handler), max_attempts=1) as fetcher:
        results = _on_threads("analyse", fanart_urls + tmdb_urls, "preview", fetcher, lambda url: url, 10**7,
                              datetime(2026, 1, 1), BlobStore(tmp_path))
    assert all(r.ok for r in results.values()), [r.error for r in results.values() if not r.ok][:3]
    assert served[:len(tmdb_urls)] == ["image.tmdb.test"] * len(tmdb_urls)  # TMDB's lane never waited
    assert len(results) == len(served) == 24


def test_once_the_workers_run_every_image_request_of_the_batch_goes_through_them(tmp_path: Path,
                                                                                 sim: Simulator) -> None:
    """A large batch starts its workers up front (``expect``); a small request after that (a few headshots)
    goes through them too: on this process's own threads it would add its connections to the workers' share."""
    settings = make_settings(tmp_path, sim, providers="image_processes = 2")
    with open_providers(settings, KEYS) as providers:
        images = ImageRequests(settings, providers, BlobStore(settings.cache_dir), datetime(2026, 1, 1))
        try:
            images.expect(10)  # a small batch: its requests stay on threads
            images.expect(300)
            assert images.used_processes == 0  # no worker runs before there is work for it
            before = providers.fetcher.stats.snapshot()["requests"]
            (result,) = images.download(["https://image.tmdb.org/t/p/original/no-such-image.jpg"], "headshot").values()
            assert images.used_processes == 2
        finally:
            images.close()
        assert result.fact and "404" in result.error  # answered (a fact), by a worker:
        assert providers.fetcher.stats.snapshot()["requests"] == before + 1  # its request counted here,
        assert "tmdb_images" not in providers.fetcher._clients  # but this process never opened TMDB's images
