"""A private PostgreSQL cluster for the Dagster instance: Debian's server, under ``data/runtime/postgres/``.

Dagster's production instance is PostgreSQL (``dagster.postgres.yaml``): with ``DAGSTER_EVENT_BATCH_SIZE`` set,
``dagster-postgres`` writes a run's materialisation events in a few INSERTs instead of one transaction each.
This module gives every checkout its own server without touching the system's clusters, the same way for
``make postgres``, ``make serve`` and the test session:

- the binaries of Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``), installed with
  apt-get when missing and run as root, otherwise a clear error saying what to install;
- one cluster directory: ``pgdata/`` (the data directory), ``run/`` (its unix socket, mode 0700), ``server.log``,
  ``port`` (the loopback TCP port chosen at first start) and ``password`` (0600, the ``metarr`` role's);
- run as root, the server runs as the unprivileged ``postgres`` user (created by Debian's package; a system
  user ``metarr-postgres`` is created when it is missing), since PostgreSQL refuses to run as root;
- TCP on 127.0.0.1 only, password (SCRAM) required there; the socket is reachable by the cluster's owner only.

The connection URL carries the password: it is handed to processes in ``METARR_DAGSTER_PG_URL`` and never
written to a log or an error here. Usage: ``python -m dagster_project.postgres_cluster install|start|stop|status|url``.
"""

from __future__ import annotations

import argparse
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from filelock import FileLock

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "data" / "runtime" / "postgres"
ROLE = "metarr"
DATABASE = "dagster"
URL_ENV = "METARR_DAGSTER_PG_URL"
START_TIMEOUT_S = 120


class PostgresError(RuntimeError):
    """PostgreSQL cannot be installed, initialised or started; the message says what and where."""


def server_bin_dir() -> Path | None:
    """The newest installed server's bin directory (Debian keeps initdb and pg_ctl out of $PATH)."""
    found = [d for d in Path("/usr/lib/postgresql").glob("*/bin")
             if (d / "initdb").exists() and (d / "pg_ctl").exists()]
    if found:
        return max(found, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def ensure_installed() -> Path:
    """The server's bin directory, installing Debian's ``postgresql`` package first when it is missing."""
    found = server_bin_dir()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise PostgresError("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql "
                            "package (sudo apt-get install postgresql)")
    print("installing Debian's postgresql package with apt-get", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "postgresql"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PostgresError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    found = server_bin_dir()
    if not found:
        raise PostgresError("apt-get installed postgresql but no initdb/pg_ctl under /usr/lib/postgresql/*/bin")
    return found


def server_user() -> str | None:
    """The unprivileged user the server runs as when we are root (None: as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "metarr-postgres"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    done = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin",
                           "metarr-postgres"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PostgresError(f"cannot create the system user metarr-postgres for PostgreSQL: {done.stderr.strip()}")
    return "metarr-postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class Cluster:
    """One private cluster directory (see the module docstring for its layout)."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def port(self) -> int:
        return int((self.root / "port").read_text(encoding="utf-8").strip())

    @property
    def password(self) -> str:
        return (self.root / "password").read_text(encoding="utf-8").strip()

    def url(self, database: str = DATABASE) -> str:
        """SQLAlchemy URL with the psycopg2 driver named: under SQLAlchemy 2.1 a bare ``postgresql://`` (or a
        ``postgres_db:`` block) picks psycopg 3, whose parameter style Dagster's SQL does not speak."""
        return f"postgresql+psycopg2://{ROLE}:{quote(self.password, safe='')}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """libpq connection string for psycopg2 (administration: creating and dropping databases)."""
        return f"host=127.0.0.1 port={self.port} user={ROLE} password={self.password} dbname={database}"

    def _as_owner(self, cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        user = server_user()
        full = ["runuser", "-u", user, "--", *cmd] if user else cmd
        return subprocess.run(full, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]

    def _check_reachable(self, user: str) -> None:
        """PostgreSQL, running as ``user``, must be able to walk down to its directory."""
        for parent in reversed(self.root.parents):
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                raise PostgresError(f"the PostgreSQL cluster directory {self.root} is not reachable by the user "
                                    f"{user} ({parent} is not searchable by others): choose another directory")

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists() and (self.root / "password").exists()

    def initialise(self, bin_dir: Path) -> None:
        user = server_user()
        self.root.mkdir(parents=True, exist_ok=True)
        if user:
            self._check_reachable(user)
            entry = pwd.getpwnam(user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        if self.data.exists():  # a half-made cluster from an interrupted initdb
            shutil.rmtree(self.data)
        password = secrets.token_urlsafe(24)
        pwfile = self.root / "initdb-password"
        pwfile.write_text(password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        if user:
            os.chown(pwfile, pwd.getpwnam(user).pw_uid, -1)
        try:
            done = self._as_owner([str(bin_dir / "initdb"), "-D", str(self.data), "-U", ROLE, f"--pwfile={pwfile}",
                                   "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                                   "--locale=C.UTF-8"])
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            raise PostgresError(f"initdb failed for {self.data}: {done.stderr.strip()[-800:]}")
        secret = self.root / "password"
        secret.write_text(password + "\n", encoding="utf-8")
        secret.chmod(0o600)
        (self.root / "port").write_text(f"{free_port()}\n", encoding="utf-8")

    def running(self, bin_dir: Path) -> bool:
        return self.data.exists() and self._as_owner([str(bin_dir / "pg_ctl"), "status", "-D", str(self.data)]
                                                     ).returncode == 0

    def start(self, bin_dir: Path) -> bool:
        """Start the server; False when it was already running."""
        if self.running(bin_dir):
            return False
        if not port_is_free(self.port):  # taken by something else since the last start
            (self.root / "port").write_text(f"{free_port()}\n", encoding="utf-8")
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        user = server_user()
        if user:
            entry = pwd.getpwnam(user)
            os.chown(self.socket_dir, entry.pw_uid, entry.pw_gid)
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
                   "-c unix_socket_permissions=0700")
        done = self._as_owner([str(bin_dir / "pg_ctl"), "start", "-D", str(self.data), "-l", str(self.log), "-w",
                               "-t", str(START_TIMEOUT_S), "-o", options])
        if done.returncode != 0:
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-1500:] if self.log.exists() else ""
            raise PostgresError(f"PostgreSQL did not start from {self.data} on 127.0.0.1:{self.port}: "
                                f"{done.stderr.strip()[-500:]}\n{tail}")
        return True

    def stop(self, bin_dir: Path) -> bool:
        if not self.running(bin_dir):
            return False
        done = self._as_owner([str(bin_dir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w",
                               "-t", str(START_TIMEOUT_S)])
        if done.returncode != 0:
            raise PostgresError(f"pg_ctl stop failed for {self.data}: {done.stderr.strip()[-500:]}")
        return True

    def create_database(self, name: str, *, exist_ok: bool = True) -> None:
        import psycopg2

        conn = psycopg2.connect(self.dsn())
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone() and exist_ok:
                    return
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()

    def drop_database(self, name: str) -> None:
        import psycopg2

        conn = psycopg2.connect(self.dsn())
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            conn.close()


def cluster_dir() -> Path:
    return Path(os.environ.get("METARR_PG_DIR") or DEFAULT_DIR).resolve()


def ensure_running(root: Path | None = None) -> tuple[Cluster, bool]:
    """Install, initialise and start the cluster as needed (safe to call from several processes at once);
    returns the cluster and whether this call started it. The ``dagster`` database exists afterwards."""
    cluster = Cluster(root or cluster_dir())
    bin_dir = ensure_installed()
    cluster.root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cluster.root.parent / f".{cluster.root.name}.lock"), timeout=START_TIMEOUT_S * 2):
        if not cluster.initialised():
            cluster.initialise(bin_dir)
        started = cluster.start(bin_dir)
        cluster.create_database(DATABASE)
    return cluster, started


def stop(root: Path | None = None) -> bool:
    cluster = Cluster(root or cluster_dir())
    bin_dir = server_bin_dir()
    return bool(bin_dir and cluster.initialised() and cluster.stop(bin_dir))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.postgres_cluster", description=__doc__.split(
        "\n")[0])
    parser.add_argument("action", choices=("install", "start", "stop", "status", "url"),
                        help="install (Debian's package, when missing), start (installing and initialising when "
                             "needed), stop, status, or print the URL (it contains the password: for "
                             "`export METARR_DAGSTER_PG_URL=$(...)`)")
    args = parser.parse_args(argv)
    try:
        if args.action == "install":
            print(f"PostgreSQL server binaries: {ensure_installed()}", file=sys.stderr)
            return 0
        if args.action == "stop":
            print("stopped" if stop() else "not running", file=sys.stderr)
            return 0
        if args.action == "status":
            cluster = Cluster(cluster_dir())
            bin_dir = server_bin_dir()
            up = bool(bin_dir and cluster.initialised() and cluster.running(bin_dir))
            print(f"running on 127.0.0.1:{cluster.port} ({cluster.root})" if up else f"not running ({cluster.root})")
            return 0 if up else 3
        cluster, started = ensure_running()
    except PostgresError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.action == "url":
        print(cluster.url())
    else:
        print(f"PostgreSQL {'started' if started else 'already running'} on 127.0.0.1:{cluster.port} "
              f"(cluster {cluster.root}); the Dagster instance's database is {DATABASE!r}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
