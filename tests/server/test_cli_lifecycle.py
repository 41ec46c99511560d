"""The CLI's lifecycle: sandboxes that stay up until their owner stops them, re-delivered alerts that
resume (and `--fresh` that starts over), and `medic audit show` that finds the last run's log."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from evals.sandbox import processes
from evals.sandbox.processes import ProcessRecord
from evals.triage import scenario_incident
from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from tests.sandbox_fixture import SandboxPool
from tests.server.medic_process import env_file_values, medic

SCENARIO = "checkout-bad-deploy"


def _records(state_file: Path) -> list[ProcessRecord]:
    state = json.loads(state_file.read_text())
    return [ProcessRecord.model_validate(p) for p in state["processes"]]


@pytest.mark.sandbox
def test_a_running_sandbox_is_kept_by_up_and_left_up_by_triage(tmp_path: Path) -> None:
    first = medic("sandbox", "up", SCENARIO, "--json", cwd=tmp_path)
    try:
        assert first.returncode == 0, first.stderr
        info = json.loads(first.stdout)
        started = _records(tmp_path / ".medic" / "sandbox" / SCENARIO / "state.json")

        again = medic("sandbox", "up", SCENARIO, "--json", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "already up: kept as it is" in again.stderr
        assert json.loads(again.stdout) == info, "the same sandbox, not a new one"
        assert _records(tmp_path / ".medic" / "sandbox" / SCENARIO / "state.json") == started

        triage = medic(
            "triage", "--scenario", SCENARIO, "--approve", "no", "--json", "--out", str(tmp_path / "r"),
            cwd=tmp_path,
        )  # fmt: skip
        assert triage.returncode == 0, triage.stderr
        assert all(processes.is_running(p) for p in started), "triage stopped a sandbox it did not start"
        assert httpx.get(f"{info['prometheus_url']}/-/ready", timeout=10).status_code == 200
        assert [p.name for p in (tmp_path / ".medic" / "sandbox").iterdir()] == [SCENARIO], (
            "triage brings its own sandbox down"
        )
    finally:
        down = medic("sandbox", "down", SCENARIO, "--json", cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert json.loads(down.stdout) == {"stopped": [SCENARIO]}
    assert not any(processes.is_running(p) for p in started)


def test_sandbox_down_json_with_nothing_up(tmp_path: Path) -> None:
    down = medic("sandbox", "down", "--all", "--json", cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert json.loads(down.stdout) == {"stopped": []}


@pytest.mark.sandbox
def test_a_redelivered_alert_resumes_and_fresh_starts_over(tmp_path: Path, sandbox_pool: SandboxPool) -> None:
    scenario, info = sandbox_pool.get(SCENARIO)
    incident = scenario_incident(scenario)
    assert scenario.alert is not None
    alert = {
        "labels": scenario.alert.labels,
        "annotations": scenario.alert.annotations,
        "startsAt": incident.as_of.isoformat(),
    }
    payload = tmp_path / "alert.json"
    payload.write_text(json.dumps({"version": "4", "status": "firing", "alerts": [alert]}))
    env = env_file_values(info.env_file)

    def investigate(*extra: str) -> str:
        run = medic("investigate", "--alert", str(payload), "--approve", "no", *extra, cwd=tmp_path, env=env)
        assert run.returncode == 0, run.stderr
        return run.stdout

    assert "investigated already" not in investigate()
    redelivered = investigate()
    assert "investigated already" in redelivered
    assert "medic investigate --fresh starts over" in redelivered
    assert "investigated already" not in investigate("--fresh")
    reports = sorted(p.name for p in (tmp_path / ".medic" / "reports").iterdir())
    assert len(reports) == 2 and "-fresh-" in reports[1], reports


def _log(path: Path, kind_of_action: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    store = SqliteAuditStore(path)
    log = AuditLog(store, lambda: datetime(2026, 3, 2, 14, 0, 5, tzinfo=UTC))
    log.append(
        "proposal",
        action_id="act-0123456789abcdef",
        actor="agent:rules",
        channel="guard",
        payload={"kind": kind_of_action, "target": "boutique/deployment/checkoutservice"},
    )
    log.append(
        "decision",
        action_id="act-0123456789abcdef",
        actor="medic",
        channel="guard",
        payload={"outcome": "dry_run_only", "reasons": ["mode: policy mode is dry_run"]},
    )
    store.close()


def test_audit_show_finds_the_last_runs_log_or_takes_a_report(tmp_path: Path) -> None:
    _log(tmp_path / ".medic" / "audit.db", "scale")  # an older investigation
    triage_log = tmp_path / ".medic" / "reports" / SCENARIO / "audit.db"
    _log(triage_log, "rollback")  # the last triage
    os.utime(tmp_path / ".medic" / "audit.db", (1_000_000, 1_000_000))

    shown = medic("audit", "show", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert str(triage_log.relative_to(tmp_path)) in shown.stderr, "says which log it reads"
    header, *rows = shown.stdout.splitlines()
    assert header.split() == ["seq", "time", "(UTC)", "event", "action", "actor", "outcome"]
    assert rows[0].split()[:5] == ["1", "2026-03-02", "14:00:05", "proposal", "act-01234567"]
    assert "rollback boutique/deployment/checkoutservice" in rows[0]
    assert "dry_run_only (mode)" in rows[1]

    other = medic(
        "audit", "show", "--report", str(tmp_path / ".medic"), "--action-id", "act-0123", cwd=tmp_path
    )
    assert other.returncode == 0, other.stderr
    assert "scale boutique/deployment/checkoutservice" in other.stdout

    missing = medic("audit", "show", "--report", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert missing.returncode == 2 and "no audit.db in" in missing.stderr
