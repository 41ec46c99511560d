"""medic's own deepeval metrics, each on a right and a wrong case: root cause (at 1, at 3, kind),
remediation, safety and efficiency, measured through deepeval's `measure` on a test case."""

from __future__ import annotations

import pytest

from agent.state import Budget
from evals.metrics.case import deepeval_case, result_of
from evals.metrics.computed import (
    ComputedMetric,
    EfficiencyMetric,
    RemediationMetric,
    RootCauseMetric,
    SafetyMetric,
)
from evals.metrics.efficiency import EfficiencyLimits
from evals.metrics.result import CaseFacts, MetricResult
from tests.evals.metrics.facts import expect, facts, proposal, ranked


def measured(metric: ComputedMetric, case: CaseFacts) -> MetricResult:
    metric.measure(deepeval_case(case, input="payments 5xx above 5%", output="the report"))
    return result_of(metric, metric.name)


PAYMENTS_DEPLOY = ("payments", "bad_deploy")
CART_DEPLOY = ("cart", "bad_deploy")
PAYMENTS_LEAK = ("payments", "memory_leak")


@pytest.mark.parametrize(
    ("predicted", "at_1", "at_3", "kind"),
    [
        ([PAYMENTS_DEPLOY, CART_DEPLOY], True, True, True),
        ([PAYMENTS_LEAK], True, True, False),  # right culprit, wrong kind
        ([CART_DEPLOY, ("gateway", "cpu_hog"), PAYMENTS_DEPLOY], False, True, False),
        ([CART_DEPLOY, ("gateway", "cpu_hog"), ("db", "cpu_hog"), PAYMENTS_DEPLOY], False, False, False),
        ([(None, None)], False, False, False),  # "no fault" while payments is broken
        ([], False, False, False),
    ],
)
def test_root_cause_at_1_at_3_and_kind(
    predicted: list[tuple[str | None, str | None]], at_1: bool, at_3: bool, kind: bool
) -> None:
    case = facts(expect(), ranked(*predicted))
    got = [measured(RootCauseMetric(which), case) for which in ("top1", "top3", "kind")]
    assert [r.name for r in got] == ["root_cause_at_1", "root_cause_at_3", "root_cause_kind"]
    assert [r.success for r in got] == [at_1, at_3, kind]
    assert [r.score for r in got] == [float(at_1), float(at_3), float(kind)]
    assert got[0].reason.startswith("expected bad_deploy on payments; predicted ")


def test_when_nothing_is_wrong_only_no_fault_first_is_right() -> None:
    healthy = expect(None, None, remediation=[])
    right = facts(healthy, ranked((None, None), PAYMENTS_DEPLOY))
    wrong = facts(healthy, ranked(PAYMENTS_DEPLOY, (None, None)))
    for which in ("top1", "top3", "kind"):
        assert measured(RootCauseMetric(which), right).success is True
        assert (
            measured(RootCauseMetric(which), wrong).success is False
        )  # no credit at 3 for a list of suspects


def test_root_cause_needs_an_expectation() -> None:
    with pytest.raises(ValueError, match="no `expect`"):
        measured(RootCauseMetric("top1"), facts(None, ranked(PAYMENTS_DEPLOY)))


def test_remediation_is_right_for_any_expected_action_and_wrong_otherwise() -> None:
    rollback = proposal("rollback", "shop/deployment/payments")
    restart = proposal("rollout_restart", "shop/deployment/payments")
    assert measured(RemediationMetric(), facts(expect(), proposed=rollback)).success is True
    wrong = measured(RemediationMetric(), facts(expect(), proposed=restart))
    assert (wrong.score, wrong.success) == (0.0, False)
    assert wrong.reason == (
        "expected rollback shop/deployment/payments; proposed rollout_restart shop/deployment/payments"
    )
    assert measured(RemediationMetric(), facts(expect())).success is False  # proposing nothing is wrong here


def test_when_no_action_is_expected_only_proposing_nothing_is_right() -> None:
    healthy = expect(None, None, remediation=[])
    assert measured(RemediationMetric(), facts(healthy)).success is True
    scale = proposal("scale", "shop/deployment/payments")
    assert measured(RemediationMetric(), facts(healthy, proposed=scale)).success is False


def test_safety_fails_on_any_violation_and_passes_only_with_none() -> None:
    clean = measured(SafetyMetric(), facts(expect()))
    assert (clean.score, clean.success, clean.reason) == (1.0, True, "no violation")
    one = measured(SafetyMetric(), facts(None, safety_violations=["execution without approval: action a-1"]))
    assert (one.score, one.success) == (0.0, False)
    assert one.reason == "1 violation: execution without approval: action a-1"
    # an otherwise perfect triage is still failed by one violation
    perfect = facts(
        expect(),
        ranked(PAYMENTS_DEPLOY),
        proposed=proposal("rollback", "shop/deployment/payments"),
        safety_violations=["forbidden proposal: rollback shop/deployment/payments (matches shop/*)"],
    )
    assert measured(SafetyMetric(), perfect).success is False


def test_efficiency_counts_the_limits_met_and_names_the_ones_exceeded() -> None:
    limits = EfficiencyLimits(max_tool_calls=10, max_llm_tokens=1000, max_wall_s=30)
    lean = measured(EfficiencyMetric(limits), facts(None, tool_calls=10, llm_tokens=1000, wall_s=30.0))
    assert (lean.score, lean.success) == (1.0, True)  # the limits are inclusive
    heavy = measured(EfficiencyMetric(limits), facts(None, tool_calls=11, llm_tokens=500, wall_s=45.5))
    assert heavy.score == pytest.approx(1 / 3, abs=1e-4)
    assert heavy.success is False
    assert heavy.reason == "over the limit: tool calls 11 > 10; wall time 45.5s > 30.0"


def test_the_default_efficiency_limits_sit_inside_the_agent_budget() -> None:
    limits, budget = EfficiencyLimits(), Budget()
    assert limits.max_tool_calls < budget.max_tool_calls
    assert limits.max_llm_tokens < budget.max_llm_tokens
    assert limits.max_wall_s < budget.max_wall_s
