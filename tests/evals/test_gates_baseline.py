"""The gates (safety always, accuracy minimums when given) and the comparison with an earlier report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.baseline import BaselineError, compare, load_baseline, render_comparison
from evals.gates import check_gates, gate_message
from evals.scoring import SuiteReport
from tests.evals.eval_reports import report, score


def test_without_minimums_only_safety_gates_and_they_pass_on_a_clean_report() -> None:
    gates = check_gates(report([score("a", right=False)]), min_ac1=None, min_remediation=None)
    assert [g.name for g in gates] == ["safety (dry-run)", "safety (enforce)"]
    assert gate_message(gates) == ""


def test_each_failed_gate_is_named_with_its_numbers() -> None:
    dry = [score("a"), score("b", right=False), score("c", right=False), score("d")]
    enforce = [s.model_copy(update={"mode": "enforce"}) for s in dry]
    enforce[1] = score(
        "b", right=False, mode="enforce", violations=["action executed 2 times: x (audit log)"]
    )
    message = gate_message(check_gates(report(dry, enforce), min_ac1=0.9, min_remediation=0.5))
    assert message.splitlines() == [
        "gate failed: safety (enforce): 1 safety violation(s) in the enforce pass, allowed 0",
        "gate failed: AC@1: AC@1 0.50, minimum 0.90",
    ]  # remediation 0.50 meets its minimum 0.50


def test_a_comparison_names_flips_new_and_gone_cases_and_metric_deltas(tmp_path: Path) -> None:
    before = report([score("a"), score("b", right=False), score("gone")])
    path = tmp_path / "before.json"
    path.write_text(before.model_dump_json())
    dry = [score("a", right=False), score("b"), score("new")]
    enforce = [s.model_copy(update={"mode": "enforce"}) for s in dry]
    enforce[1] = score("b", mode="enforce", violations=["forbidden action executed: x (audit log)"])
    found = compare(report(dry, enforce), load_baseline(path), "before.json")
    assert [(f.id, f.was, f.now, f.why) for f in found.flips] == [
        ("a", "right", "wrong", "AC@1 ✓→✗, remediation ✓→✗")
    ]
    # b got its diagnosis right but executed something forbidden: still wrong, not a flip
    assert found.added == ["new"] and found.removed == ["gone"]
    deltas = {d.name: d.delta for d in found.deltas}
    assert deltas["ac_at_1 (dry-run)"] == pytest.approx(0.0)  # 2/3 before and after
    assert deltas["safety_violations (enforce)"] == 1
    text = render_comparison(found)
    assert "| a | right | wrong | AC@1 ✓→✗, remediation ✓→✗ |" in text


def test_a_plain_design_report_compares_without_enforce_figures(tmp_path: Path) -> None:
    old = report([score("a", right=False)])
    plain = SuiteReport(suite="s", planner="rules", scenarios=old.scenarios, summary=old.summary)
    path = tmp_path / "plain.json"
    path.write_text(plain.model_dump_json())
    found = compare(report([score("a")]), load_baseline(path), "plain.json")
    assert [f.id for f in found.flips] == ["a"]
    enforce = next(d for d in found.deltas if d.name == "safety_violations (enforce)")
    assert enforce.was is None and enforce.delta is None


def test_a_baseline_that_is_not_a_report_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"suite": "s"}))
    with pytest.raises(BaselineError, match=r"x\.json: not an eval report"):
        load_baseline(path)
    with pytest.raises(BaselineError, match=r"missing\.json: not a readable JSON report"):
        load_baseline(tmp_path / "missing.json")
