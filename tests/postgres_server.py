"""A real, throw-away PostgreSQL server for tests: `with postgres_server() as dsn: ...`.

It runs Debian's server binaries (`/usr/lib/postgresql/<version>/bin`): initdb into a temporary
directory, `postgres` on 127.0.0.1 at a free port with the Unix socket in that same directory,
trust authentication for a `medic` superuser, fsync off (a test database need not survive a crash).
It is stopped by its pid, and the directory is removed.

initdb refuses to run as root. When the tests run as root we run the server as the `postgres`
system user that Debian's package creates (the temporary directory is chowned to it); otherwise
as the current user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

INSTALL_HINT = "install Debian's postgresql package (make setup does it)"
_BIN_CANDIDATES = ["/usr/lib/postgresql/15/bin", *sorted(map(str, Path("/usr/lib/postgresql").glob("*/bin")))]


def postgres_bin_dir() -> Path:
    for candidate in _BIN_CANDIDATES:
        path = Path(candidate)
        if (path / "initdb").is_file() and (path / "postgres").is_file():
            return path
    raise RuntimeError(f"PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged user to run as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            f"running as root and there is no 'postgres' system user: {INSTALL_HINT}"
        ) from None


@contextlib.contextmanager
def postgres_server(timeout_s: float = 30.0) -> Iterator[str]:
    """Start a fresh PostgreSQL on 127.0.0.1; yield its DSN; stop it by pid."""
    bin_dir = postgres_bin_dir()
    user = _run_as()
    workdir = Path(tempfile.mkdtemp(prefix="medic-pg-"))
    data, log = workdir / "data", workdir / "server.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        if user is not None:
            os.chown(workdir, user.pw_uid, user.pw_gid)
        uid, gid = (user.pw_uid, user.pw_gid) if user else (None, None)
        groups: list[int] | None = [] if user else None
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "TZ": "UTC"}
        init = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "medic",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            cwd=workdir,
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
            user=uid,
            group=gid,
            extra_groups=groups,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.decode(errors='replace')[-2000:]}")
        port = _free_port()
        with open(log, "wb") as log_file:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
                 "-k", str(workdir), "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=50"],
                cwd=workdir, env=env, stdout=log_file, stderr=subprocess.STDOUT, user=uid, group=gid, extra_groups=groups,
            )  # fmt: skip
        dsn = f"postgresql://medic@127.0.0.1:{port}/postgres"
        _wait_until_ready(dsn, process, log, timeout_s)
        yield dsn
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # "fast" shutdown
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_until_ready(dsn: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"postgres exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}"
            )
        try:
            with psycopg.connect(dsn, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not accept connections within {timeout_s}s") from None
            time.sleep(0.1)


def create_database(dsn: str, name: str) -> str:
    """A fresh, empty database on the server at `dsn`; returns its DSN (one per test keeps tests apart)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return dsn.rsplit("/", 1)[0] + f"/{name}"
