"""Approve, kill the process after the real request went out, resume in a new process: the action is
executed exactly once (DESIGN §3.4 invariant 7), with the state in a SQLite checkpoint on disk."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from tests.evals.sandbox.kube_world import NS, small_world
from tests.policies.guard_fixtures import clock
from tests.policies.test_guard import ROLLBACK, approve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[str]:
    """The emulator as its own process, so the cluster outlives every guard process."""
    state, ready = tmp_path / "state.json", tmp_path / "ready.json"
    world = small_world()
    state.write_text(json.dumps(world if isinstance(world, dict) else world.model_dump(mode="json")))
    proc = subprocess.Popen(
        [sys.executable, "-m", "evals.sandbox.kube", "--state", str(state), "--ready-file", str(ready)],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert proc.poll() is None, "the emulator exited during start"
            assert time.monotonic() < deadline, "the emulator did not become ready"
            time.sleep(0.05)
        yield json.loads(ready.read_text())["url"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def child(*args: str, wait: bool = True) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.policies.guard_child", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        proc.wait(timeout=60)
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return proc


def test_killed_after_execution_resumes_without_executing_again(emulator: str, tmp_path: Path) -> None:
    checkpoint, audit_path = str(tmp_path / "checkpoints.db"), str(tmp_path / "audit.db")
    common = (emulator, checkpoint, audit_path, "incident-1")

    started = child("start", *common)
    assert json.loads(started.stdout.read())["interrupted"]  # type: ignore[union-attr]

    # A new process takes the approval; it dies while verifying, after the real request went out.
    crashing = child("resume", *common, json.dumps([approve(ROLLBACK)]), "--slow-verify", wait=False)
    audit = AuditLog(SqliteAuditStore(audit_path), clock)
    deadline = time.monotonic() + 30
    while not any(r.kind == "execution" and r.payload.get("phase") == "done" for r in audit.show()):
        assert crashing.poll() is None, crashing.stderr.read() if crashing.stderr else ""
        assert time.monotonic() < deadline, "the execution never happened"
        time.sleep(0.05)
    crashing.kill()
    crashing.wait(timeout=10)

    # A third process resumes the thread from the checkpoint: execute runs again, sends nothing.
    resumed = child("continue", *common)
    result = json.loads(resumed.stdout.read())  # type: ignore[union-attr]
    assert result["stage"] == "executed"
    assert "not sent again" in result["detail"]

    phases = [r.payload["phase"] for r in audit.show(action_id=ROLLBACK.action_id) if r.kind == "execution"]
    assert phases == ["sending", "done"]
    config = client.Configuration()
    config.host = emulator
    deployment = client.AppsV1Api(client.ApiClient(config)).read_namespaced_deployment("checkout", NS)
    assert deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "3", "rolled back once"
    assert deployment.spec.template.spec.containers[0].image == "shop/checkout:v1"
    assert audit.verify().ok
