"""`medic bench service`: the service's intake and read paths under load, and its memory.

Starts `medic serve` as its own process on 127.0.0.1 (SQLite in a temporary folder, or the
PostgreSQL of --database-url), drives it with locust in another process (so locust's gevent stays
out of the server), and reads the server's resident memory from /proc. The numbers are this
machine's; nothing here asserts a target.
"""

from __future__ import annotations

import csv
import json
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
from pydantic import BaseModel

from server.auth import TokenGrant, token_hash

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


class LoadResult(BaseModel):
    name: str
    users: int
    rate_per_user: float = 0.0
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p99_ms: float


class ServiceBench(BaseModel):
    database: str
    loads: list[LoadResult]
    rss_idle_mb: float
    rss_after_load_mb: float


class MemoryInFlight(BaseModel):
    incidents: int
    rss_idle_mb: float
    rss_peak_mb: float
    seconds_to_rest: float


CODE_ROOT = Path(__file__).resolve().parents[2]  # the checkout these modules come from


def _process_env() -> dict[str, str]:
    """A child's environment: this checkout's code first, and nothing of ours (no MEDIC_ setting
    of the caller's shell leaks into the measured server)."""
    return {"PYTHONPATH": str(CODE_ROOT)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_server(env: dict[str, str], workdir: Path, worker: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    # `-c` rather than `-m server.cli`: run as __main__, the CLI module would be imported twice.
    serve = ["serve", "--port", str(port), "--worker" if worker else "--no-worker"]
    args = [sys.executable, "-c", "from server.cli import main; main()", *serve]
    log = (workdir / "serve.log").open("ab")
    process = subprocess.Popen(args, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"medic serve exited {process.returncode}; see {workdir / 'serve.log'}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("medic serve did not become healthy in 120 s")


def run_locust(
    url: str,
    mode: str,
    users: int,
    seconds: int,
    *,
    token: str,
    incident: str,
    workdir: Path,
    rate: float = 0.0,
) -> LoadResult:
    """One load: `users` senders, each flat out (rate 0) or paced to `rate` requests/s."""
    prefix = workdir / f"locust-{mode}-{rate:g}"
    options = ["--headless", "--host", url, "-u", str(users), "-r", str(users), "-t", f"{seconds}s"]
    options += ["--csv", str(prefix), "--only-summary", "--loglevel", "ERROR"]
    options += ["--bench-mode", mode, "--bench-token", token, "--bench-incident", incident]
    options += ["--bench-rate", str(rate)]
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *options],
        env={**_process_env(), "HOME": str(workdir)},
        check=False,
        capture_output=True,
        timeout=seconds + 60,
    )
    with open(f"{prefix}_stats.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["Name"] == "Aggregated"]
    row = rows[0]
    return LoadResult(
        name=mode,
        users=users,
        rate_per_user=rate,
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        rps=round(float(row["Requests/s"]), 1),
        p50_ms=float(row["50%"]),
        p99_ms=float(row["99%"]),
    )


def bench(database_url: str | None, users: int, seconds: int) -> ServiceBench:
    workdir = Path(tempfile.mkdtemp(prefix="medic-bench-service-"))
    token = secrets.token_urlsafe(24)
    grants = [
        TokenGrant(subject="bench", sha256=token_hash(token), roles=["responder"], scopes=["api", "alerts"])
    ]
    env = {
        **_process_env(),
        "HOME": str(workdir),
        "MEDIC_STATE_DIR": str(workdir),
        "MEDIC_API_TOKENS": json.dumps([g.model_dump() for g in grants]),
    }
    if database_url:
        env["MEDIC_DATABASE_URL"] = database_url
    process, url = start_server(env, workdir, worker=False)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        opened = httpx.post(f"{url}/v1/incidents", json={"question": "is bench ok?"}, headers=headers)
        incident = str(opened.json()["id"])
        time.sleep(1)
        idle = rss_mb(process.pid)
        # Throughput flat out, then latency at a steady 1 request/s per sender (Alertmanager's pace
        # is per group interval, so 50 senders at 1/s is already a storm).
        loads = [
            run_locust(url, mode, users, seconds, token=token, incident=incident, workdir=workdir, rate=rate)
            for mode, rate in (("alerts", 0.0), ("alerts", 1.0), ("get", 0.0), ("get", 1.0))
        ]
        after = rss_mb(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        shutil.rmtree(workdir, ignore_errors=True)
    return ServiceBench(
        database="postgresql" if database_url else "sqlite",
        loads=loads,
        rss_idle_mb=round(idle, 1),
        rss_after_load_mb=round(after, 1),
    )


def memory_in_flight(backends: dict[str, str], alert: Mapping[str, object], incidents: int) -> MemoryInFlight:
    """Resident memory of one server investigating `incidents` alerts at once against `backends`
    (the MEDIC_ variables of a sandbox or a real cluster): idle, then the peak while they run."""
    workdir = Path(tempfile.mkdtemp(prefix="medic-bench-memory-"))
    token = secrets.token_urlsafe(24)
    grant = TokenGrant(
        subject="bench", sha256=token_hash(token), roles=["responder"], scopes=["api", "alerts"]
    )
    env = {
        **_process_env(),
        "HOME": str(workdir),
        **backends,
        "MEDIC_STATE_DIR": str(workdir),
        "MEDIC_AUDIT_URL": str(workdir / "audit.db"),
        "MEDIC_RECOVERY_WITHIN_S": "0",
        "MEDIC_WORKER_CONCURRENCY": str(incidents),
        "MEDIC_API_TOKENS": json.dumps([grant.model_dump()]),
    }
    process, url = start_server(env, workdir, worker=True)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        time.sleep(2)
        idle = peak = rss_mb(process.pid)
        started = time.monotonic()
        labels = alert.get("labels")
        for i in range(incidents):
            one = {**alert, "labels": {**(labels if isinstance(labels, dict) else {}), "bench": str(i)}}
            httpx.post(f"{url}/v1/incidents", json={"alert": one}, headers=headers, timeout=30)
        while time.monotonic() - started < 600:
            peak = max(peak, rss_mb(process.pid))
            listed = httpx.get(f"{url}/v1/incidents?limit=200", headers=headers, timeout=30).json()
            states = [i["state"] for i in listed["incidents"]]
            if len(states) == incidents and all(s not in ("queued", "investigating") for s in states):
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        shutil.rmtree(workdir, ignore_errors=True)
    return MemoryInFlight(
        incidents=incidents,
        rss_idle_mb=round(idle, 1),
        rss_peak_mb=round(peak, 1),
        seconds_to_rest=round(elapsed, 1),
    )
