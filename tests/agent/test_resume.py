"""An investigation paused at approval survives its process: a new process resumes it from the SQLite
checkpoint or from PostgreSQL, and the approved action runs exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from policies.approver import Approver
from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from tests.evals.sandbox.kube_world import NS
from tests.policies.guard_fixtures import World, clock

ROOT = Path(__file__).resolve().parents[2]


def child(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.agent.resume_child", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_resume_in_a_new_process(
    world: World, tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    checkpoint = (
        request.getfixturevalue("fresh_postgres_dsn") if store == "postgres" else str(tmp_path / "cp.db")
    )
    audit = str(tmp_path / "audit.db")
    paused = child("start", world.url, checkpoint, audit)
    assert paused["next"] == ["guard_approve"]
    assert paused["stage"] == "awaiting_approval"

    now = clock()
    approval = Approver(identity="alice", roles=["sre"], channel="api").answer(paused, approve=True, now=now)
    answer = json.dumps([approval.model_dump(mode="json")])
    resumed = child("resume", world.url, checkpoint, audit, answer)
    assert (resumed["next"], resumed["stage"], resumed["executed"]) == ([], "executed", True)
    image = world.apps.read_namespaced_deployment("checkout", NS).spec.template.spec.containers[0].image
    assert image == "shop/checkout:v1"

    # Another process replays the execute step from its checkpoint (as one that died inside it would):
    # the action id was claimed and done, so nothing is sent again.
    replayed = child("replay", world.url, checkpoint, audit)
    assert replayed["executed"] and replayed["stage"] == "executed"
    log = AuditLog(SqliteAuditStore(audit), clock)
    done = [r for r in log.show() if r.kind == "execution" and r.payload.get("phase") == "done"]
    assert len(done) == 1
