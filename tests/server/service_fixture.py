"""The service against a sandbox of its own: an app with its worker, tokens for each role, a policy
in enforce mode, and helpers to wait for an incident to reach a state."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.assemble import AgentConfig
from evals.sandbox.sandbox import SandboxConfig, SandboxInfo, down, up
from evals.scenario import Scenario, load_scenario
from evals.triage import sandbox_agent_config
from server.app import create_app
from server.auth import TokenGrant, token_hash
from server.service_config import ServiceConfig, WorkerConfig
from server.slack.config import SlackConfig

ENFORCE = """
version: 1
mode: enforce
rules:
  - name: workload-changes
    kinds: [scale, rollout_restart, rollback, delete_pod]
    effect: require_approval
    approval: {roles: [sre], min_approvers: 1, max_age: 30m}
limits:
  per_target: {max_actions: 100, window: 1h}
"""

TOKENS = {
    "viewer": ("vera", ["viewer"], ["api"]),
    "responder": ("rick", ["responder"], ["api"]),
    "approver": ("carol", ["approver", "sre"], ["api"]),
    "approver-no-team": ("dave", ["approver"], ["api"]),
    "admin": ("ada", ["admin", "sre"], ["api"]),
    "alertmanager": ("alertmanager", ["viewer"], ["alerts"]),
}


def grants() -> list[TokenGrant]:
    return [
        TokenGrant(subject=subject, sha256=token_hash(f"token-{name}"), roles=roles, scopes=scopes)  # type: ignore[arg-type]
        for name, (subject, roles, scopes) in TOKENS.items()
    ]


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer token-{name}"}


@dataclass
class Service:
    client: TestClient
    scenario: Scenario
    info: SandboxInfo
    agent: AgentConfig

    def wait_for(self, incident_id: str, states: set[str], timeout_s: float = 90) -> dict:
        deadline = time.monotonic() + timeout_s
        body: dict = {}
        while time.monotonic() < deadline:
            body = self.client.get(f"/v1/incidents/{incident_id}", headers=auth("viewer")).json()
            if body["incident"]["state"] in states:
                return body
            time.sleep(0.2)
        raise AssertionError(f"{incident_id} never reached {states}: {body.get('incident', {}).get('state')}")


@contextlib.contextmanager
def running_service(
    tmp_path: Path,
    tsdb_cache: Path,
    slack: SlackConfig | None = None,
    scenario: Scenario | None = None,
) -> Iterator[Service]:
    """`medic serve` (enforce policy, two workers) on a sandbox of the test's own (checkout-bad-deploy
    unless told), since the service executes actions on it (its TSDB is copied from the session's first
    backfill), optionally with Slack."""
    scenario = scenario or load_scenario("checkout-bad-deploy")
    sandbox = SandboxConfig(state_dir=tmp_path / "sandbox", start_timeout_s=90, tsdb_cache_dir=tsdb_cache)
    info = up(scenario, sandbox)
    try:
        policy = tmp_path / "policy.yaml"
        policy.write_text(ENFORCE)
        agent = sandbox_agent_config(AgentConfig(policy_file=policy), info, tmp_path / "run")
        config = ServiceConfig(
            api_tokens=grants(),
            state_dir=tmp_path / "run",
            worker=WorkerConfig(concurrency=2, poll_s=0.1, reports_dir=tmp_path / "reports"),
            slack=slack,
        )
        with TestClient(create_app(config, agent)) as client:
            yield Service(client, scenario, info, agent)
    finally:
        down(scenario.id, sandbox)


@pytest.fixture
def service(tmp_path: Path, tsdb_cache: Path) -> Iterator[Service]:
    with running_service(tmp_path, tsdb_cache) as running:
        yield running
