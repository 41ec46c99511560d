"""The `medic` command line as a user runs it: a real process, real sandbox, real exit codes."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from evals.scenario import SCENARIO_DIR
from tests.server.medic_process import medic


@pytest.mark.sandbox
def test_sandbox_up_json_and_down(tmp_path: Path) -> None:
    up = medic("sandbox", "up", "checkout-bad-deploy", "--json", cwd=tmp_path)
    try:
        assert up.returncode == 0, up.stderr
        info = json.loads(up.stdout)
        assert set(info) == {"prometheus_url", "kubernetes_url", "kubeconfig", "traces_dir", "env_file"}
        assert "MEDIC_PROMETHEUS_URL=" in Path(info["env_file"]).read_text()
    finally:
        down = medic("sandbox", "down", "--all", cwd=tmp_path)
    assert down.returncode == 0 and "checkout-bad-deploy" in down.stdout


def test_a_bad_scenario_file_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (SCENARIO_DIR / "checkout-bad-deploy.yaml")
        .read_text()
        .replace("kind: bad_deploy", "kind: bad_deplyo", 1)
    )
    result = medic("triage", "--scenario", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "faults[0].kind: unknown value 'bad_deplyo'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.sandbox
def test_triage_json_end_to_end(tmp_path: Path) -> None:
    result = medic(
        "triage",
        "--scenario",
        "sock-shop-memory-leak",
        "--approve",
        "no",
        "--json",
        "--out",
        str(tmp_path / "report"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    top = report["diagnosis"]["hypotheses"][0]
    assert (top["service"], top["fault_kind"]) == ("carts", "memory_leak")
    assert report["proposal"]["action"]["kind"] == "rollout_restart"
    assert report["guard"]["decision"].startswith("dry_run_only"), "the shipped policy only dry-runs"
    for name in ("report.md", "report.json", "signals.png"):
        assert (tmp_path / "report" / name).stat().st_size > 0
    assert not list((tmp_path / ".medic" / "sandbox").glob("*/state.json")), "triage brings its sandbox down"


@pytest.mark.sandbox
def test_eval_writes_the_design_report_and_gates(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    for name in ("boutique-seasonal-peak", "payments-dependency-latency"):
        shutil.copy(SCENARIO_DIR / f"{name}.yaml", suite)
    out = tmp_path / "eval" / "report.json"
    result = medic("eval", "--scenarios", str(suite), "--out", str(out), "--min-ac1", "1.0", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.read_text())
    assert set(report) >= {"suite", "planner", "scenarios", "summary"}  # DESIGN §3.8, plus the enforce pass
    assert report["enforce"]["summary"]["safety_violations"] == 0
    assert set(report["summary"]) >= {
        "n",
        "ac_at_1",
        "ac_at_3",
        "kind_accuracy",
        "remediation_accuracy",
        "safety_violations",
        "mean_tool_calls",
        "p50_wall_s",
        "p95_wall_s",
    }
    case = report["scenarios"][0]
    assert set(case) >= {
        "id",
        "predicted",
        "correct_at_1",
        "correct_at_3",
        "kind_correct",
        "remediation_correct",
        "safety_violations",
        "tool_calls",
        "llm_tokens",
        "wall_s",
    }
    assert report["summary"]["n"] == 2 and report["summary"]["safety_violations"] == 0
    assert out.with_suffix(".md").read_text().startswith("# medic eval")

    # the enforce pass judges the dry-run pass's investigation: its report cites that chart, drawn once
    (charted,) = (c for c in report["cases"] if c["id"] == "payments-dependency-latency")
    run_dir = out.parent / charted["run_dir"]
    dry, enforce = (json.loads((run_dir / m / "report.json").read_text()) for m in ("dry-run", "enforce"))
    assert dry["chart"]["path"] == str(run_dir / "dry-run" / "signals.png") and dry["chart"]["panels"]
    assert enforce["chart"] == dry["chart"] and not (run_dir / "enforce" / "signals.png").exists()
    assert "](../dry-run/signals.png)" in (run_dir / "enforce" / "report.md").read_text()


@pytest.mark.parametrize("tamper", ["edit", "none"])
def test_audit_verify_detects_an_edited_record(tmp_path: Path, tamper: str) -> None:
    from datetime import UTC, datetime

    from policies.audit import AuditLog
    from policies.audit_store import SqliteAuditStore

    path = tmp_path / "audit.db"
    log = AuditLog(SqliteAuditStore(path), lambda: datetime(2026, 3, 2, tzinfo=UTC))
    for i in range(3):
        log.append("proposal", action_id=f"act-{i}", actor="agent:rules", channel="agent", payload={"n": i})
    if tamper == "edit":
        db = sqlite3.connect(path)
        # a tamperer with file access first drops the append-only triggers
        triggers = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        for trigger in triggers:
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("UPDATE audit_log SET payload = ? WHERE seq = 2", (json.dumps({"n": 99}),))
        db.commit()
        db.close()
    result = medic("audit", "verify", cwd=tmp_path, env={"MEDIC_AUDIT_URL": str(path)})
    if tamper == "edit":
        assert result.returncode == 1
        assert "seq 2" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert "3 records" in result.stdout
    shown = medic("audit", "show", "--json", cwd=tmp_path, env={"MEDIC_AUDIT_URL": str(path)})
    assert [r["seq"] for r in json.loads(shown.stdout)] == [1, 2, 3]
