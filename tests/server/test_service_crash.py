"""Durable runs: a server killed with SIGKILL while an approval is pending loses nothing, and the
approval given to its successor executes the action exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from evals.sandbox.sandbox import SandboxInfo
from evals.scenario import Scenario
from policies.audit import AuditLog
from policies.audit_store import open_audit_store
from tests.policies.guard_fixtures import clock
from tests.server.serve_process import alert_body, service_env, start_serve, wait_state
from tests.server.service_fixture import auth


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_kill_9_while_an_approval_is_pending(
    own_sandbox: tuple[Scenario, SandboxInfo], tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    scenario, info = own_sandbox
    dsn = request.getfixturevalue("fresh_postgres_dsn") if store == "postgres" else None
    env = service_env(info, tmp_path / "run", dsn)
    first = start_serve(env, tmp_path / "serve-1.log")
    try:
        opened = httpx.post(f"{first.url}/v1/incidents", json=alert_body(scenario), headers=auth("responder"))
        assert opened.status_code == 202, opened.text
        incident_id = opened.json()["id"]
        pending = wait_state(first.url, incident_id, {"awaiting_approval"})["incident"]["pending"]
    finally:
        first.kill9()

    second = start_serve(env, tmp_path / "serve-2.log")
    try:
        url = f"{second.url}/v1/incidents/{incident_id}/actions/{pending['action_id']}/approval"
        answer = httpx.post(url, json={"verdict": "approve"}, headers=auth("approver"), timeout=10)
        assert answer.status_code == 202, answer.text
        done = wait_state(second.url, incident_id, {"finished", "failed"})
        assert done["incident"]["state"] == "finished", done["timeline"][-5:]
        assert done["incident"]["report"]["guard"]["stage"] == "executed"
    finally:
        second.stop()
    log = AuditLog(open_audit_store(env["MEDIC_AUDIT_URL"]), clock)
    records = log.show()
    assert len([r for r in records if r.kind == "execution" and r.payload.get("phase") == "sending"]) == 1
    assert [r.actor for r in records if r.kind == "approval"] == ["carol"]
    assert log.verify().ok
