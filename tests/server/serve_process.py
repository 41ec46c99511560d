"""`medic serve` as a real process on 127.0.0.1, against a sandbox: start, wait until healthy,
kill -9 by pid. The environment is the sandbox's env file plus the service's settings."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from evals.sandbox.sandbox import SandboxConfig, SandboxInfo, down, up
from evals.scenario import Scenario, load_scenario
from server.auth import TokenGrant
from tests.server.service_fixture import ENFORCE, auth, grants

MEDIC = str(Path(sys.executable).parent / "medic")
ROOT = Path(__file__).resolve().parents[2]  # this checkout's packages, whatever the venv was installed from


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_file_values(info: SandboxInfo) -> dict[str, str]:
    values = {}
    for line in Path(info.env_file).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip().removeprefix("export ")] = value.strip().strip("'\"")
    return values


def service_env(
    info: SandboxInfo, run_dir: Path, database_url: str | None = None, **extra: str
) -> dict[str, str]:
    run_dir.mkdir(parents=True, exist_ok=True)
    policy = run_dir / "policy.yaml"
    policy.write_text(ENFORCE)
    tokens: list[TokenGrant] = grants()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(run_dir),
        "PYTHONPATH": str(ROOT),
        **env_file_values(info),
        "MEDIC_POLICY_FILE": str(policy),
        "MEDIC_STATE_DIR": str(run_dir),
        "MEDIC_AUDIT_URL": database_url or str(run_dir / "audit.db"),
        "MEDIC_RECOVERY_WITHIN_S": "0",
        "MEDIC_API_TOKENS": json.dumps([t.model_dump() for t in tokens]),
        "MEDIC_LEASE_S": "4",
        **extra,
    }
    if database_url:
        env["MEDIC_DATABASE_URL"] = database_url
    return env


@dataclass
class ServeProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.kill9()


def start_serve(env: dict[str, str], log: Path, timeout_s: float = 120) -> ServeProcess:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [MEDIC, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=env["MEDIC_STATE_DIR"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"medic serve exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return ServeProcess(url, process, log)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"medic serve did not answer /healthz in {timeout_s}s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def own_sandbox(tmp_path: Path, tsdb_cache: Path) -> Iterator[tuple[Scenario, SandboxInfo]]:
    """A sandbox of the test's own (the service executes actions on it), backfilled once a session."""
    scenario = load_scenario("checkout-bad-deploy")
    config = SandboxConfig(state_dir=tmp_path / "sandbox", start_timeout_s=90, tsdb_cache_dir=tsdb_cache)
    info = up(scenario, config)
    try:
        yield scenario, info
    finally:
        down(scenario.id, config)


def alert_body(scenario: Scenario, fingerprint: str = "fp-1") -> dict:
    alert = scenario.alert
    assert alert is not None
    return {
        "alert": {
            "labels": alert.labels,
            "annotations": alert.annotations,
            "startsAt": scenario.at(alert.starts_at).isoformat(),
            "fingerprint": fingerprint,
        },
        "as_of": scenario.end_utc.isoformat(),
    }


def wait_state(url: str, incident_id: str, states: set[str], timeout_s: float = 90) -> dict:
    deadline = time.monotonic() + timeout_s
    body: dict = {}
    while time.monotonic() < deadline:
        body = httpx.get(f"{url}/v1/incidents/{incident_id}", headers=auth("viewer"), timeout=10).json()
        if body["incident"]["state"] in states:
            return body
        time.sleep(0.25)
    raise AssertionError(f"{incident_id} stayed {body.get('incident', {}).get('state')}, wanted {states}")
