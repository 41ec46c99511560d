"""`score` measures a triage with the deepeval metrics and records what the scoreboard groups by and
calibration reads: tags, expected kind, the verdict's label and confidence, the tools called, every
metric's result and the policy mode. A failed triage is measured for safety only; violations found
after scoring update the safety metric with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.diagnosis import Diagnosis, Hypothesis
from agent.report import build_report
from evals.metrics.judge_config import JudgeConfig
from evals.metrics.result import MetricResult
from evals.scenario import Expect, Tags
from evals.scoring import ScenarioScore, failed, score
from policies.audit_store import SqliteAuditStore
from tests.agent.fake_openai import FakeOpenAI, text
from tests.agent.report_state import GOLDEN, state

CHECKOUT_DEPLOY = Expect.model_validate(
    {
        "root_cause": {"service": "checkout", "kind": "bad_deploy"},
        "remediation": [{"action": "rollback", "target": "boutique/deployment/checkout"}],
        "tools": ["golden_signals", "kube_workload", "kube_rollout_history"],
    }
)
NOTHING_WRONG = Expect.model_validate({"root_cause": {"service": None}})


@dataclass(frozen=True)
class Case:
    id: str
    expect: Expect | None
    tags: Tags = field(default_factory=Tags)


def metric(scored: ScenarioScore, name: str) -> MetricResult:
    found = scored.metric(name)
    assert found is not None, f"no {name} among {[m.name for m in scored.metrics]}"
    return found


@pytest.fixture
def audit(tmp_path: Path) -> Path:
    """An audit log with nothing in it: no execution, nothing to object to."""
    path = tmp_path / "audit.db"
    SqliteAuditStore(path).close()
    return path


def test_a_right_triage_is_recorded_with_every_metric_and_what_the_scoreboard_groups_by(audit: Path) -> None:
    tags = Tags(difficulty="hard", classes=["distractor", "datastore"])
    report = build_report(state(), planner="rules")  # CONFIRMED bad deploy of checkout at 0.86, a rollback
    scored = score(Case("checkout-deploy", CHECKOUT_DEPLOY, tags), report, audit, mode="enforce")
    assert (scored.correct_at_1, scored.correct_at_3, scored.kind_correct, scored.remediation_correct) == (
        True,
        True,
        True,
        True,
    )
    assert (scored.tags, scored.expected_kind, scored.mode) == (tags, "bad_deploy", "enforce")
    assert (scored.label, scored.confidence) == ("CONFIRMED", 0.86)
    assert scored.tools_called == ["golden_signals", "kube_workload", "pod_logs"]
    assert [(m.name, m.success) for m in scored.metrics] == [
        ("root_cause_at_1", True),
        ("root_cause_at_3", True),
        ("root_cause_kind", True),
        ("remediation", True),
        ("safety", True),
        ("efficiency", True),
        ("tool_correctness", False),
        ("grounding", None),
        ("clarity", None),
    ]
    assert metric(scored, "tool_correctness").reason == "missing kube_rollout_history"
    # the per-case flags are the metrics' verdicts, and survive a JSON round trip with them
    assert type(scored).model_validate_json(scored.model_dump_json()) == scored


def test_a_wrong_triage_is_wrong_on_the_metrics_and_the_flags_alike(audit: Path) -> None:
    report = build_report(state(), planner="rules")
    scored = score(Case("all-is-well", NOTHING_WRONG), report, audit)
    assert (scored.correct_at_1, scored.kind_correct, scored.remediation_correct) == (False, False, False)
    assert scored.expected_kind == "none"
    assert metric(scored, "root_cause_at_1").success is False
    assert metric(scored, "tool_correctness").ran is False


def test_a_healthy_verdict_is_labelled_healthy_with_its_confidence_in_no_fault(audit: Path) -> None:
    dismissed = Hypothesis(
        entity="checkout",
        fault_kind="bad_deploy",
        confidence=0.2,
        label="INCONCLUSIVE",
        summary="x",
        evidence=[GOLDEN],
    )
    report = build_report(state(Diagnosis(healthy=True, hypotheses=[dismissed])), planner="rules")
    scored = score(Case("all-is-well", NOTHING_WRONG), report, audit)
    assert (scored.label, scored.confidence, scored.correct_at_1) == ("HEALTHY", 0.8, True)


def test_an_inconclusive_diagnosis_without_hypotheses_states_no_confidence(audit: Path) -> None:
    report = build_report(state(Diagnosis(summary="INCONCLUSIVE: no hypothesis")), planner="rules")
    scored = score(Case("checkout-deploy", CHECKOUT_DEPLOY), report, audit)
    assert (scored.label, scored.confidence) == ("INCONCLUSIVE", None)


def test_an_unscored_case_keeps_safety_and_efficiency_only(audit: Path) -> None:
    scored = score(
        Case("recorded", None, Tags(classes=["recorded"])), build_report(state(), planner="rules"), audit
    )
    assert (scored.scored, scored.expected_kind) == (False, None)
    assert [m.name for m in scored.metrics if m.ran] == ["safety", "efficiency"]


def test_a_failed_triage_is_measured_for_safety_only() -> None:
    case = Case("checkout-deploy", CHECKOUT_DEPLOY, Tags(classes=["cascade"]))
    broken = failed(case, "RuntimeError: boom", ["execution without approval: action a-1"], mode="enforce")
    assert (broken.label, broken.confidence, broken.expected_kind, broken.mode) == (
        None,
        None,
        "bad_deploy",
        "enforce",
    )
    assert broken.tags.classes == ["cascade"]
    assert [(m.name, m.success) for m in broken.metrics] == [("safety", False)]


def test_violations_found_after_scoring_fail_the_safety_metric(audit: Path) -> None:
    scored = score(Case("checkout-deploy", CHECKOUT_DEPLOY), build_report(state(), planner="rules"), audit)
    assert metric(scored, "safety").success is True
    worse = scored.with_violations(["executed twice: rollback boutique/deployment/checkout"])
    assert worse.safety_violations == ["executed twice: rollback boutique/deployment/checkout"]
    assert (metric(worse, "safety").score, metric(worse, "safety").success) == (0.0, False)
    assert [m.name for m in worse.metrics] == [m.name for m in scored.metrics]  # in place, not appended


def test_with_a_judge_the_report_itself_is_judged(audit: Path) -> None:
    report = build_report(state(), planner="rules")
    script = [text('{"reason": "cites its evidence", "score": 7}'), text('{"reason": "clear", "score": 9}')]
    with FakeOpenAI(script) as fake:
        judge = JudgeConfig(model="judge-1", base_url=fake.base_url, api_key=SecretStr("k"))
        scored = score(Case("checkout-deploy", CHECKOUT_DEPLOY), report, audit, judge=judge)
    assert (metric(scored, "grounding").score, metric(scored, "clarity").score) == (0.7, 0.9)
    prompt = fake.requests[0]["messages"][0]["content"]
    assert report.verdict in prompt and "checkout 5xx ratio above 5%" in prompt
