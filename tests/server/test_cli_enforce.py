"""Enforce mode, as a user finds it: `medic policy init`, the decision said once, an approval nobody
could give recorded as such, and "verified" that says what was and was not checked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from policies.audit_store import SqliteAuditStore
from policies.loader import DEFAULT_POLICY_PATH, load_default_policy, load_policy
from tests.server.medic_process import medic

SCENARIO = "checkout-bad-deploy"


def test_policy_init_writes_the_shipped_policy_to_edit_and_never_overwrites(tmp_path: Path) -> None:
    made = medic("policy", "init", "team-policy.yaml", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "MEDIC_POLICY_FILE=" in made.stdout
    path = tmp_path / "team-policy.yaml"
    text = path.read_text()
    assert load_policy(path).rules == load_default_policy().rules
    assert load_policy(path).mode == "dry_run"
    assert "mode: enforce" in text.split("\nversion:")[0], "the comments say how to switch modes"

    path.write_text(text.replace("\nmode: dry_run", "\nmode: enforce"))
    assert load_policy(path).mode == "enforce", "one edit switches it"
    edited = path.read_text()
    refused = medic("policy", "init", "team-policy.yaml", cwd=tmp_path)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert path.read_text() == edited
    forced = medic("policy", "init", "team-policy.yaml", "--force", cwd=tmp_path)
    assert forced.returncode == 0 and path.read_text() == text


def _enforcing(tmp_path: Path) -> dict[str, str]:
    """The settings of a team that switched the shipped policy to enforce mode and approves as an SRE."""
    path = tmp_path / "p.yaml"
    path.write_text(DEFAULT_POLICY_PATH.read_text().replace("\nmode: dry_run", "\nmode: enforce"))
    return {"MEDIC_POLICY_FILE": str(path), "MEDIC_APPROVER_ROLES": '["sre"]'}


def _action_line(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith("action: "))


@pytest.mark.sandbox  # medic triage brings its own sandbox up
def test_no_terminal_is_no_approver_not_a_refusal(tmp_path: Path) -> None:
    out = tmp_path / "report"
    run = medic(
        "triage", "--scenario", SCENARIO, "--out", str(out), cwd=tmp_path, env=_enforcing(tmp_path)
    )  # --approve prompt (the default), and stdin is no terminal
    assert run.returncode == 0, run.stderr
    action = _action_line(run.stdout)
    assert "require_approval (enforce mode)" in action and action.count("mode") == 1, action
    assert "no approver available" in run.stdout

    store = SqliteAuditStore(out / "audit.db")
    records = store.records()
    store.close()
    answers = [r for r in records if r.kind in ("approval", "refusal")]
    assert [(r.kind, r.actor) for r in answers] == [("refusal", "medic")], "no person refused"
    assert str(answers[0].payload["why"]).startswith("no approver available: no terminal")
    guard = json.loads((out / "report.json").read_text())["guard"]
    assert guard["stage"] == "not_approved"
    assert guard["approval"].startswith("no approver available")


@pytest.mark.sandbox  # medic triage brings its own sandbox up
def test_verified_says_what_was_verified_and_that_recovery_was_not_checked(tmp_path: Path) -> None:
    run = medic(
        "triage", "--scenario", SCENARIO, "--approve", "yes", "--out", str(tmp_path / "r"),
        cwd=tmp_path, env=_enforcing(tmp_path),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert _action_line(run.stdout).startswith(
        "action: rollback boutique/deployment/checkoutservice — allow (enforce mode); executed"
    )
    verified = next(line.strip() for line in run.stdout.splitlines() if "verified" in line)
    assert verified.startswith("verified: deployment checkoutservice")
    assert verified.endswith("recovery not checked (no recovery window configured)")
    report = (tmp_path / "r" / "report.md").read_text()
    assert f"- Verification: {verified}" in report


@pytest.mark.sandbox  # medic triage brings its own sandbox up
def test_dry_run_decision_names_the_mode_once(tmp_path: Path) -> None:
    run = medic("triage", "--scenario", SCENARIO, "--approve", "no", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    action = _action_line(run.stdout)
    assert "dry_run_only (dry_run mode; in enforce mode: require_approval)" in action
    assert action.lower().replace("_", "-").count("dry-run") == 2, (
        f"the outcome and the mode, no more: {action}"
    )
    # the alerting symptom with its numbers, under the verdict
    assert re.search(r"^symptom: \S+ 5xx \d+ % \(was \d+ %", run.stdout, re.M), run.stdout
