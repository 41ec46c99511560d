"""`medic investigate` runs against real backends, where an approval must come from a verified identity:
it never approves from the terminal, and says where approvals are made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.triage import scenario_incident
from tests.sandbox_fixture import SandboxPool
from tests.server.medic_process import env_file_values, medic
from tests.server.service_fixture import ENFORCE


@pytest.mark.parametrize("mode", ["yes", "prompt"])
def test_investigate_refuses_to_approve_from_the_terminal(tmp_path: Path, mode: str) -> None:
    payload = tmp_path / "alert.json"
    payload.write_text(json.dumps({"version": "4", "alerts": []}))
    run = medic("investigate", "--alert", str(payload), "--approve", mode, cwd=tmp_path, timeout=60)
    assert run.returncode == 2
    assert f"--approve {mode} is for the sandbox only" in run.stderr
    assert "POST /v1/incidents/<id>/actions/<action_id>/approval" in " ".join(run.stderr.split())
    assert "Traceback" not in run.stderr


@pytest.mark.sandbox
def test_an_investigation_leaves_its_action_for_a_verified_approver(
    tmp_path: Path, sandbox_pool: SandboxPool
) -> None:
    scenario, info = sandbox_pool.get("checkout-bad-deploy")
    assert scenario.alert is not None
    incident = scenario_incident(scenario)
    alert = {"labels": scenario.alert.labels, "startsAt": incident.as_of.isoformat()}
    payload = tmp_path / "alert.json"
    payload.write_text(json.dumps({"version": "4", "status": "firing", "alerts": [alert]}))
    policy = tmp_path / "policy.yaml"
    policy.write_text(ENFORCE)
    env = {
        **env_file_values(info.env_file),
        "MEDIC_POLICY_FILE": str(policy),
        "MEDIC_APPROVER_ROLES": '["sre"]',  # roles from this environment must approve nothing
    }
    run = medic("investigate", "--alert", str(payload), "--json", cwd=tmp_path, env=env)
    assert run.returncode in (0, 3), run.stderr
    report = json.loads(run.stdout)
    guard = report["guard"]
    assert guard["stage"] == "not_approved", guard
    assert "no approver available" in guard["approval"] and "medic serve" in guard["approval"]
