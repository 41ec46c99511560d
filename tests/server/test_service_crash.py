"""Durable runs: a server killed with SIGKILL while an approval is pending loses nothing, and the
approval given to its successor executes the action exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from evals.sandbox.sandbox import SandboxConfig, SandboxInfo, down, up
from evals.scenario import Scenario, load_scenario
from policies.audit import AuditLog
from policies.audit_store import open_audit_store
from tests.policies.guard_fixtures import clock
from tests.server.serve_process import service_env, start_serve
from tests.server.service_fixture import auth


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Scenario, SandboxInfo]]:
    scenario = load_scenario("checkout-bad-deploy")
    config = SandboxConfig(state_dir=tmp_path / "sandbox", start_timeout_s=90)
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


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_kill_9_while_an_approval_is_pending(
    sandbox: tuple[Scenario, SandboxInfo], tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    scenario, info = sandbox
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
