"""Dagster's production shape on one box: a code server, the daemon and the webserver on the PostgreSQL instance.

``make serve`` (``python -m dagster_project.serve``) starts the three as separate processes and supervises them:

- ``dagster code-server start`` (gRPC on ``METARR_CODE_SERVER_PORT``, 127.0.0.1:4266 by default) loads the
  definitions once; sensors, schedules and runs are evaluated and launched through it, so a code change is
  picked up by restarting (or *Reload* in the UI) one process, never the daemon or the webserver;
- ``dagster-daemon run``: sensors, schedules, the run queue (at most 4 runs at once, the publish step in the pool
  ``metarr_library_writes`` of 1 and the provider steps in ``metarr_providers`` of 1, ``pools.py``:
  ``dagster.yaml``'s limits, which ``dagster.postgres.yaml`` repeats) and run monitoring;
- ``dagster-webserver`` (the UI and GraphQL, 127.0.0.1:3000 by default).

Daemon and webserver find the code server through ``workspace.serve.yaml`` (host and port from the environment).
The instance is ``dagster.postgres.yaml``, copied into the serve home (``data/runtime/dagster-serve``); its
database is the checkout's private cluster (``postgres_cluster``), started when needed, unless
``METARR_DAGSTER_PG_URL`` already names a server (a NAS's own PostgreSQL, a compose service).
``--only code-server|daemon|webserver`` runs one of the three in the foreground instead, with the same command
and environment: what each systemd unit or compose service of ``deploy/`` runs. Stopping ``serve`` (Ctrl-C,
SIGTERM) stops all three; if one of them dies, the others are stopped too and the exit status says which.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dagster_project.postgres_cluster import URL_ENV, PostgresError, ensure_running

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOME = ROOT / "data" / "runtime" / "dagster-serve"
LOCATION = "metarr"
PROCESSES = ("code-server", "daemon", "webserver")
READY_TIMEOUT_S = 300
STOP_TIMEOUT_S = 60


@dataclass(frozen=True)
class ServeOptions:
    home: Path = DEFAULT_HOME
    host: str = "127.0.0.1"
    port: int = 3000
    code_server_host: str = "127.0.0.1"
    code_server_port: int = 4266


def commands(opts: ServeOptions) -> dict[str, list[str]]:
    """The three command lines (``deploy/`` runs exactly these, one per unit or service)."""
    bin_dir = Path(sys.executable).parent
    workspace = str(ROOT / "workspace.serve.yaml")
    return {
        "code-server": [str(bin_dir / "dagster"), "code-server", "start", "-m", "dagster_project.definitions",
                        "-h", opts.code_server_host, "-p", str(opts.code_server_port), "--location-name", LOCATION],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", workspace],
        "webserver": [str(bin_dir / "dagster-webserver"), "-w", workspace, "-h", opts.host, "-p", str(opts.port)],
    }


def prepare_home(home: Path) -> Path:
    """The serve home with the PostgreSQL instance's settings (refreshed from the checkout on every start)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dagster.postgres.yaml", home / "dagster.yaml")
    return home


def environment(opts: ServeOptions) -> dict[str, str]:
    """What the three processes (and the runs the code server launches) share. The URL carries a password:
    it goes into the environment only, never onto a command line (visible to every user in ``ps``)."""
    env = dict(os.environ)
    if not env.get(URL_ENV):
        cluster, _ = ensure_running()
        env[URL_ENV] = cluster.url()
    env.update({
        "DAGSTER_HOME": str(prepare_home(opts.home)),
        "METARR_CODE_SERVER_HOST": opts.code_server_host,
        "METARR_CODE_SERVER_PORT": str(opts.code_server_port),
        "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1",
    })
    env.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")
    pythonpath = [str(ROOT), *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(pythonpath))
    return env


def wait_for_code_server(opts: ServeOptions, proc: subprocess.Popen[bytes] | None,
                         stop_requested: Callable[[], bool] = lambda: False) -> None:
    """Daemon and webserver load the workspace once at start: they begin after the definitions answer (``proc``:
    the code server when we started it, so that its early death is reported at once)."""
    from dagster._grpc.client import DagsterGrpcClient

    client = DagsterGrpcClient(port=opts.code_server_port, host=opts.code_server_host)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline and not stop_requested():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the code server exited with status {proc.returncode} before it was ready")
        try:
            socket.create_connection((opts.code_server_host, opts.code_server_port), timeout=2).close()
        except OSError:  # not listening yet (asked quietly: the gRPC client prints every refused call)
            time.sleep(0.5)
            continue
        try:
            if client.health_check_query() == "SERVING":
                client.list_repositories()  # the definitions loaded, not only the server up
                return
        except Exception:  # not listening yet, or still loading the definitions
            pass
        time.sleep(0.5)
    if stop_requested():
        return
    raise RuntimeError(f"the code server did not answer on {opts.code_server_host}:{opts.code_server_port} "
                       f"within {READY_TIMEOUT_S} s")


def signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)  # each process leads its own group: the code server's gRPC child and runs too


def stop_all(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each process group in reverse start order, then SIGKILL for what has not ended in time."""
    for proc in reversed(list(procs.values())):
        signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            signal_group(proc, signal.SIGKILL)
            proc.wait()


def supervise(opts: ServeOptions, env: dict[str, str]) -> int:
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = {"signal": 0}

    def on_signal(signum: int, _frame: object) -> None:
        stopping["signal"] = signum

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        for name, cmd in commands(opts).items():
            procs[name] = subprocess.Popen(cmd, env=env, cwd=str(ROOT), start_new_session=True)
            print(f"serve: started {name} (pid {procs[name].pid})", file=sys.stderr, flush=True)
            if name == "code-server":
                wait_for_code_server(opts, procs[name], lambda: bool(stopping["signal"]))
        print(f"serve: Dagster UI on http://{opts.host}:{opts.port} (instance {opts.home})", file=sys.stderr,
              flush=True)
        while not stopping["signal"]:
            dead = [(n, p.returncode) for n, p in procs.items() if p.poll() is not None]
            if dead:
                print(f"serve: {dead[0][0]} exited with status {dead[0][1]}; stopping the others", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    except RuntimeError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_all(procs)


def parse(argv: list[str] | None) -> tuple[ServeOptions, str | None]:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.serve", description=__doc__.split("\n")[0])
    defaults = ServeOptions()
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("METARR_SERVE_HOME") or defaults.home),
                        help="DAGSTER_HOME of the PostgreSQL instance (default: data/runtime/dagster-serve)")
    parser.add_argument("--host", default=defaults.host, help="webserver address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=defaults.port, help="webserver port (default 3000)")
    parser.add_argument("--code-server-host", default=os.environ.get("METARR_CODE_SERVER_HOST")
                        or defaults.code_server_host)
    parser.add_argument("--code-server-port", type=int,
                        default=int(os.environ.get("METARR_CODE_SERVER_PORT") or defaults.code_server_port))
    parser.add_argument("--only", choices=PROCESSES, help="run one of the three in the foreground (deploy/)")
    args = parser.parse_args(argv)
    return ServeOptions(home=args.home.resolve(), host=args.host, port=args.port,
                        code_server_host=args.code_server_host, code_server_port=args.code_server_port), args.only


def main(argv: list[str] | None = None) -> int:
    opts, only = parse(argv)
    try:
        env = environment(opts)
    except PostgresError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 1
    if only:
        cmd = commands(opts)[only]
        if only != "code-server":  # its own unit or service, started beside this one
            try:
                wait_for_code_server(opts, None)
            except RuntimeError as exc:
                print(f"serve: {exc}", file=sys.stderr)
                return 1
        os.chdir(ROOT)
        os.execvpe(cmd[0], cmd, env)
    return supervise(opts, env)


if __name__ == "__main__":
    sys.exit(main())
