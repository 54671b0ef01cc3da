"""The review page's library on a big state: ``python -m bench.review_page [--n 10000] [--rounds 20]``.

Generates a state database of N movies in every review state (enriched, published, outdated, selection changed
since publish, never enriched, failed, unidentified, some manual; 40 candidates each, the chosen poster among
them), then serves the review app in-process and measures the server time of the library page, a filtered page,
a search and a late page (median and worst of ``--rounds`` requests each, after one warm-up). The target: under
300 ms server time at 10,000 movies. Nothing here touches the network.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from metarr_pipeline.config import load_settings
from metarr_pipeline.fingerprints import config_fingerprint, publish_fingerprint
from metarr_pipeline.store import Store

TARGET_MS = 300.0
CANDIDATES_PER_MOVIE = 40


def generate(settings_path: Path, n: int) -> None:
    settings = load_settings(settings_path, check_roots=False)
    Store(settings.database_path).partition_keys()  # creates the schema
    now = datetime(2026, 1, 1)
    enrich_fp, publish_fp = config_fingerprint(settings), publish_fingerprint(settings)
    ids = list(range(1, n + 1))
    unidentified = {i for i in ids if i % 97 == 0}
    movies = pl.DataFrame({
        "id": ids, "library_root": "/lib", "folder": [f"/lib/Movie {i} ({1950 + i % 70})" for i in ids],
        "kind": "file", "video_file": [f"Movie {i}.mkv" for i in ids], "basename": [f"Movie {i}" for i in ids],
        "status": ["unidentified" if i in unidentified else "identified" for i in ids],
        "reason": ["TMDB search found no movie" if i in unidentified else "" for i in ids],
        "tmdb_id": [None if i in unidentified else 1000 + i for i in ids],
        "title": [f"Movie {i}" for i in ids], "year": [1950 + i % 70 for i in ids],
        "partition_key": [None if i in unidentified else f"movie-{i}-{1950 + i % 70}-tmdb{1000 + i}" for i in ids],
        "manual": [i % 50 == 0 for i in ids], "first_seen": now, "last_seen": now, "changed_at": now,
    })
    enriched = [i for i in ids if i not in unidentified and i % 13 != 0]
    enrichment = pl.DataFrame({
        "movie_id": enriched, "state_hash": "h", "selection_hash": "s",
        "enriched_at": [now + timedelta(days=3) if i % 11 == 0 else now for i in enriched],  # outdated
        "selection_changed_at": [now + timedelta(days=2) if i % 7 == 0 else now for i in enriched],
        "config_fingerprint": [enrich_fp if i % 31 else "old" for i in enriched],
    })
    published = [i for i in enriched if i % 5 != 0]
    publish_log = pl.DataFrame({
        "movie_id": published, "published_at": now + timedelta(days=1),
        "status": ["failed" if i % 89 == 0 else "published" for i in published],
        "error": ["folder not writable" if i % 89 == 0 else "" for i in published],
        "config_fingerprint": publish_fp,
    })
    candidates = pl.DataFrame({
        "movie_id": [i for i in enriched for _ in range(CANDIDATES_PER_MOVIE)],
        "candidate_id": [f"c{i}-{k}" for i in enriched for k in range(CANDIDATES_PER_MOVIE)],
        "selected_rank": [1 if k == 0 else None for _ in enriched for k in range(CANDIDATES_PER_MOVIE)],
        "rank": [k + 1 for _ in enriched for k in range(CANDIDATES_PER_MOVIE)],
    }).with_columns(type=pl.lit("poster"), provider=pl.lit("tmdb"), url=pl.lit("https://image.tmdb.org/x.jpg"),
                    preview_url=pl.lit("https://image.tmdb.org/w300/x.jpg"), language=pl.lit("en"))
    with duckdb.connect(str(settings.database_path)) as con:
        for table, frame in (("movies", movies), ("enrichment", enrichment), ("publish_log", publish_log),
                             ("artwork_candidates", candidates)):
            con.register("frame", frame)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")
            con.unregister("frame")


PAGES = {"library": "/", "needs review": "/?state=needs_review", "search": "/?q=movie+12", "page 100": "/?page=100"}


def measure(settings_path: Path, rounds: int, pages: dict[str, str] | None = None) -> dict[str, dict[str, float]]:
    """Median and worst server time of each page (name → URL; default ``PAGES``), after one warm-up request."""
    from starlette.testclient import TestClient

    from metarr_pipeline.review.app import ReviewApp

    app = ReviewApp(load_settings(settings_path, check_roots=False), "http://127.0.0.1:9")
    pages = pages or PAGES
    results = {}
    with TestClient(app.asgi(), base_url="http://127.0.0.1:8300") as client:
        for name, url in pages.items():
            assert client.get(url).status_code == 200  # warm-up
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
            results[name] = {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.review_page", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="metarr-review-bench-") as tmp:
        cfg = Path(tmp) / "metarr.toml"
        cfg.write_text(f'[data]\ndir = "{Path(tmp) / "state"}"\n', encoding="utf-8")
        start = time.perf_counter()
        generate(cfg, args.n)
        print(f"generated {args.n} movies in {time.perf_counter() - start:.1f} s")
        results = measure(cfg, args.rounds)
    worst = max(r["median_ms"] for r in results.values())
    for name, r in results.items():
        print(f"{name:>14}: median {r['median_ms']:7.1f} ms, max {r['max_ms']:7.1f} ms")
    print(f"target: median under {TARGET_MS:.0f} ms server time: {'met' if worst < TARGET_MS else 'MISSED'}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
