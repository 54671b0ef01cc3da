"""The review page in a real browser (Playwright driving Debian's Chromium) beside a real Dagster webserver.

On the demo state: open the library, filter "needs review", open a movie, pick another poster, see the winner
change, publish it, then find the new ``-poster.jpg`` in the movie's folder and the run in Dagster's GraphQL API.
Screenshots of each page go to ``data/runtime/review-*.png`` for people to look at. Every wait has a deadline.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from dagster_project.run_tags import RANGE_END, RANGE_START, TRIGGER_TAG
from metarr_pipeline.config import Settings
from metarr_pipeline.review.dagster_api import DagsterClient
from metarr_pipeline.store import Store
from tests.helpers.review_state import build_review_state

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "data" / "runtime"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MOVIE = "the-matrix-1999-tmdb603"
STARTUP_DEADLINE = 240.0  # a loaded 2-core machine takes a while to load the code location
RUN_DEADLINE = 300.0

pytestmark = pytest.mark.timeout(900)


def _screenshot(page: Any, path: Path) -> None:
    """``page.screenshot``, taken again after the next painted frames when headless Chromium has no frame to give
    ("Unable to capture screenshot": its compositor had not produced one yet, seen on a loaded CI machine)."""
    from playwright.sync_api import Error

    for attempt in range(3):
        try:
            page.screenshot(path=path)
            return
        except Error as exc:
            if "Unable to capture screenshot" not in str(exc) or attempt == 2:
                raise
            page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(what: str, check: Callable[[], Any], deadline: float, process: subprocess.Popen | None = None,
              log: Path | None = None) -> Any:
    """Poll ``check`` until it returns something truthy; fail with the reason (and the process's log) at the
    deadline or when the process died."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process exited ({process.returncode}):\n{_tail(log)}")
        try:
            result = check()
        except (httpx.HTTPError, OSError):
            result = None
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {deadline:.0f} s\n{_tail(log)}")


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-3000:] if log and log.exists() else ""


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def stack(demo_library: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str, str]]:
    """The demo state, a Dagster webserver on its own instance, and the review page: (settings, review, dagster)."""
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: 'make test' installs Debian's chromium (apt-get)"
    tmp = tmp_path_factory.mktemp("browser")
    settings = build_review_state(demo_library, tmp)
    home = tmp / "dagster_home"
    home.mkdir()
    # No daemon here: the default run coordinator launches a run as soon as the webserver receives it.
    (home / "dagster.yaml").write_text("run_coordinator:\n  module: dagster.core.run_coordinator\n"
                                       "  class: DefaultRunCoordinator\ntelemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions("movies", Store(settings.database_path).partition_keys())
    env = os.environ | {"DAGSTER_HOME": str(home), "METARR_CONFIG": str(settings.config_path),
                        "PYTHONPATH": str(ROOT), "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1"}
    env.pop("TMDB_API_KEY", None)
    env.pop("TMDB_READ_ACCESS_TOKEN", None)
    bin_dir = Path(sys.executable).parent
    dagster_port, review_port = _free_port(), _free_port()
    dagster_url, review_url = f"http://127.0.0.1:{dagster_port}", f"http://127.0.0.1:{review_port}"
    dagster_log, review_log = tmp / "dagster.log", tmp / "review.log"
    dagster = _start([str(bin_dir / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1",
                      "-p", str(dagster_port)], env, dagster_log)
    review = _start([sys.executable, "-m", "metarr_pipeline.cli", "review", "--port", str(review_port),
                     "--dagster-url", dagster_url], env, review_log)
    try:
        _wait_for("review page", lambda: httpx.get(review_url, timeout=5).status_code == 200, STARTUP_DEADLINE,
                  review, review_log)
        _wait_for("Dagster webserver with publish_job", DagsterClient(dagster_url).available, STARTUP_DEADLINE,
                  dagster, dagster_log)
        yield settings, review_url, dagster_url
    finally:
        _stop(review)
        _stop(dagster)


def test_review_pick_and_publish_in_a_real_browser(stack: tuple[Settings, str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings, review_url, dagster_url = stack
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(review_url)
            expect(page.locator("li.card")).to_have_count(13)
            expect(page.locator('li.card[data-key="kimi-no-na-wa-2016-tmdb372058"]')).to_have_count(1)
            _screenshot(page, SHOTS / "review-library.png")

            page.click('a.chip[data-state="needs_review"]')
            expect(page.locator("li.card")).to_have_count(3)
            expect(page.locator("a.chip.active")).to_contain_text("Needs review")
            _screenshot(page, SHOTS / "review-needs-review.png")

            page.click(f'li.card[data-key="{MOVIE}"] a.title')
            poster = page.locator('section[data-type="poster"]')
            winner = poster.locator('li.cand[data-selected="1"]')
            expect(winner).to_have_count(1)
            before = winner.get_attribute("data-candidate")
            _screenshot(page, SHOTS / "review-movie.png")

            other = poster.locator("li.cand:not(.chosen):not(.gated)").first
            picked = other.get_attribute("data-candidate")
            assert picked and picked != before
            other.locator("button.pick").click()
            expect(page.locator(".flash.ok")).to_contain_text("selection updated")
            expect(poster.locator('li.cand[data-selected="1"]')).to_have_attribute("data-candidate", picked)
            expect(poster.locator('li.cand[data-selected="1"] .file')).to_contain_text("-poster.jpg")
            expect(poster.locator("h2 .lock")).to_be_visible()
            page.locator(f'li.cand[data-candidate="{picked}"]').scroll_into_view_if_needed()
            _screenshot(page, SHOTS / "review-picked.png")

            page.click("#publish-movie")
            run_link = page.locator("#launched a.run")
            expect(run_link).to_have_count(1)
            run_id = run_link.get_attribute("data-run")
            _screenshot(page, SHOTS / "review-publish.png")
        finally:
            browser.close()

    client = DagsterClient(dagster_url)
    reported = client.latest_materialization("artwork_selection", MOVIE)  # the pick, visible in the Dagster UI
    assert reported and f"pick poster {picked}" in reported["description"] and not reported["runId"]
    run = _wait_for("publish run to finish", lambda: _finished(client, run_id), RUN_DEADLINE)
    assert run["status"] == "SUCCESS", run
    assert run["jobName"] == "publish_job"
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags[RANGE_START] == tags[RANGE_END] == MOVIE and tags[TRIGGER_TAG] == "review_page"

    store = Store(settings.database_path)
    movie = store.movie_by_partition(MOVIE)
    frame = store.artwork_candidates([movie.id])
    row = frame.filter((frame["type"] == "poster") & (frame["selected_rank"] == 1)).row(0, named=True)
    assert row["candidate_id"] == picked and row["blob_sha"], "publish fetched the picked original"
    published = Path(movie.folder) / "The Matrix (1999) {tmdb-603}-poster.jpg"
    blob = settings.cache_dir / "blobs" / row["blob_sha"][:2] / row["blob_sha"][2:4] / f"{row['blob_sha']}.jpg"
    assert published.read_bytes() == blob.read_bytes()


def _finished(client: DagsterClient, run_id: str) -> dict[str, Any] | None:
    run = client.run(run_id)
    return run if run and run["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None



def test_a_cli_pick_and_enrich_shows_in_dagster(stack: tuple[Settings, str, str]) -> None:
    """``metarr art pick`` + ``metarr enrich KEY`` with ``$METARR_DAGSTER_URL`` set: the Dagster UI learns of it."""
    settings, _, dagster_url = stack
    store = Store(settings.database_path)
    movie = store.movie_by_partition("heat-1995-tmdb949")
    frame = store.artwork_candidates([movie.id])
    other = frame.filter((frame["type"] == "fanart") & frame["selected_rank"].is_null()
                         & (frame["gate"] == ""))["candidate_id"][0]
    env = os.environ | {"METARR_CONFIG": str(settings.config_path), "PYTHONPATH": str(ROOT),
                        "METARR_DAGSTER_URL": dagster_url}
    env.pop("TMDB_API_KEY", None)
    env.pop("TMDB_READ_ACCESS_TOKEN", None)
    cli = [sys.executable, "-m", "metarr_pipeline.cli"]
    for args in (["art", "pick", movie.partition_key, "fanart", other], ["enrich", movie.partition_key]):
        done = subprocess.run([*cli, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert "Reported 1 changed selection(s) to Dagster" in done.stdout
    reported = DagsterClient(dagster_url).latest_materialization("artwork_selection", movie.partition_key)
    assert reported and reported["description"] == "metarr enrich: selection changed"
    before = DagsterClient(dagster_url).latest_materialization("published_library_files", movie.partition_key)
    published = subprocess.run([*cli, "publish", movie.partition_key], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=300)
    assert published.returncode == 0, published.stderr
    assert "Reported 1 published movie(s) to Dagster" in published.stdout
    after = DagsterClient(dagster_url).latest_materialization("published_library_files", movie.partition_key)
    assert after and after["description"] == "metarr publish" and after != before
