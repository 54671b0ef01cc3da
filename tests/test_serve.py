"""`make serve`: the code server, the daemon and the webserver as three processes on the PostgreSQL instance.

The end-to-end test starts them the way a user does, lets the daemon's first tick of ``auto_publish_sensor``
launch a publish run through the run queue and the code server, and reads the outcome through the webserver's
GraphQL API and the PostgreSQL database. Every wait polls with a deadline.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import psycopg2
import pytest

from dagster_project.postgres_cluster import URL_ENV, Cluster, free_port
from dagster_project.run_tags import AUTO_PUBLISH, TRIGGER_TAG
from dagster_project.serve import PROCESSES, ServeOptions, commands, prepare_home
from dagster_project.serve import parse as serve_parse
from metarr_pipeline.simulator import Simulator, SimulatorConfig
from tests.test_orchestration import SMALL, enriched_seeded_library
from tests.test_providers import KEYS

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_S = 420
RUNS = """{ runsOrError(filter: {pipelineName: "publish_job"}) { __typename
  ... on Runs { results { runId status tags { key value } } } } }"""
MATERIALISED = """{ assetOrError(assetKey: {path: ["published_library_files"]}) { __typename
  ... on Asset { assetMaterializations(limit: 20) { partition runId } } } }"""


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(image_cache_dir=tmp_path / "simcache")) as s:
        yield s


@pytest.fixture
def database(pg_cluster: Cluster) -> Iterator[str]:
    name = f"test_serve_{uuid.uuid4().hex[:12]}"
    pg_cluster.create_database(name, exist_ok=False)
    try:
        yield name
    finally:
        pg_cluster.drop_database(name)


def graphql(port: int, query: str) -> dict:
    response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=30)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def wait_for_finished_run(port: int, serve: subprocess.Popen[bytes], log: Path) -> dict:
    """The first publish_job run once it has finished (the webserver may not be listening yet at first)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        assert serve.poll() is None, f"serve exited ({serve.returncode}):\n{log.read_text()[-4000:]}"
        try:
            runs = graphql(port, RUNS)["runsOrError"]["results"]
        except httpx.TransportError:
            runs = []
        done = [r for r in runs if r["status"] in ("SUCCESS", "FAILURE", "CANCELED")]
        if done:
            return done[0]
        time.sleep(1)
    pytest.fail(f"no publish run finished within {DEADLINE_S} s:\n{log.read_text()[-4000:]}")


def stop(serve: subprocess.Popen[bytes], log: Path) -> list[int]:
    """SIGTERM, as systemd or Ctrl-C would; returns the pids serve reported for its three processes."""
    if serve.poll() is None:
        serve.send_signal(signal.SIGTERM)
    try:
        serve.wait(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(serve.pid, signal.SIGKILL)
        serve.wait()
        pytest.fail(f"serve did not stop within 180 s of SIGTERM:\n{log.read_text()[-3000:]}")
    return [int(pid) for pid in re.findall(r"serve: started \S+ \(pid (\d+)\)", log.read_text())]


def test_serve_runs_a_sensor_launched_publish_through_the_daemon_on_postgres(
        tmp_path: Path, sim: Simulator, pg_cluster: Cluster, database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, store, keys = enriched_seeded_library(tmp_path, sim, [603, 949],
                                                    SMALL + "\n[publish]\nauto_publish = true\n")
    url = pg_cluster.url(database)
    home = prepare_home(tmp_path / "home")
    monkeypatch.setenv(URL_ENV, url)
    with dg.DagsterInstance.from_config(str(home)) as instance:  # what movie_partitions_sensor would add
        instance.add_dynamic_partitions("movies", keys)

    port, code_port = free_port(), free_port()
    env = {**os.environ, "METARR_CONFIG": str(settings.config_path), URL_ENV: url,
           "TMDB_API_KEY": KEYS.tmdb_api_key, "FANART_API_KEY": KEYS.fanart_api_key or ""}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "dagster_project.serve", "--home", str(home), "--port", str(port),
             "--code-server-port", str(code_port)], env=env, cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        run = wait_for_finished_run(port, serve, log)
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assert run["status"] == "SUCCESS", log.read_text()[-4000:]
        assert tags.get("dagster/sensor_name") == "auto_publish_sensor" and tags.get(TRIGGER_TAG) == AUTO_PUBLISH
        materialised = graphql(port, MATERIALISED)["assetOrError"]["assetMaterializations"]
        assert {m["partition"] for m in materialised if m["runId"] == run["runId"]} == set(keys)
    finally:
        pids = stop(serve, log)
    assert serve.returncode == 0, log.read_text()[-3000:]
    assert len(pids) == len(PROCESSES)
    for pid in pids:  # all three ended with serve
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    for movie in store.movies():  # the run wrote into the library
        assert any(name.endswith(".nfo") for name in os.listdir(movie.folder)), movie.folder
    conn = psycopg2.connect(pg_cluster.dsn(database))
    try:  # the run lives in PostgreSQL
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM runs WHERE run_id = %s", (run["runId"],))
            assert cur.fetchone() == (1,)
    finally:
        conn.close()
    assert pg_cluster.password not in log.read_text()


def test_the_three_commands_share_one_workspace_and_the_code_server_address() -> None:
    opts = ServeOptions(home=Path("/h"), port=3100, code_server_port=4300)
    cmds = commands(opts)
    assert list(cmds) == list(PROCESSES)
    assert cmds["code-server"][1:3] == ["code-server", "start"] and "4300" in cmds["code-server"]
    workspace = str(ROOT / "workspace.serve.yaml")
    assert workspace in cmds["daemon"] and workspace in cmds["webserver"] and "3100" in cmds["webserver"]


def test_the_deploy_units_run_exactly_the_serve_commands() -> None:
    """deploy/systemd: one unit per process, each `python -m dagster_project.serve --only <name>` (the command
    line `make serve` supervises), all reading the same environment file, ordered after PostgreSQL."""
    units = ROOT / "deploy" / "systemd"
    for name in PROCESSES:
        text = (units / f"metarr-{name}.service").read_text(encoding="utf-8")
        (exec_start,) = re.findall(r"^ExecStart=(.+)$", text, re.M)
        argv = exec_start.split()
        assert argv[0].endswith("/.venv/bin/python") and argv[1:5] == ["-m", "dagster_project.serve", "--only", name]
        opts, only = serve_parse(argv[3:])
        assert only == name and opts.host == "127.0.0.1"  # the UI has no login: loopback unless the user opts in
        assert "EnvironmentFile=/etc/metarr/metarr.env" in text and "Requires=metarr-postgres.service" in text
    postgres = (units / "metarr-postgres.service").read_text(encoding="utf-8")
    assert "-m dagster_project.postgres_cluster start" in postgres and "User=metarr" in postgres
    target = (units / "metarr.target").read_text(encoding="utf-8")
    assert all(f"metarr-{name}.service" in target for name in (*PROCESSES, "postgres"))
