"""deepeval's ToolCorrectnessMetric where a case names the tools a careful investigation calls, and
"not run" where it names none; every metric of a case in one call (`measure_case`)."""

from __future__ import annotations

import pytest

from evals.metrics.case import deepeval_case
from evals.metrics.suite import measure_case
from evals.metrics.tools import tool_correctness
from tests.evals.metrics.facts import expect, facts, ranked

CAREFUL = ["golden_signals", "kube_rollout_history", "pod_logs"]


def test_every_expected_tool_called_passes_whatever_else_was_called() -> None:
    called = ["golden_signals", "golden_signals", "kube_rollout_history", "pod_logs", "traces_search"]
    result = tool_correctness(
        deepeval_case(facts(expect(tools=CAREFUL), tools_called=called), input="", output="")
    )
    assert (result.name, result.score, result.success) == ("tool_correctness", 1.0, True)
    assert result.reason == "every expected tool was called"


def test_a_missing_expected_tool_fails_with_the_share_called() -> None:
    called = ["golden_signals", "pod_logs", "golden_signals"]
    result = tool_correctness(
        deepeval_case(facts(expect(tools=CAREFUL), tools_called=called), input="", output="")
    )
    assert result.score == pytest.approx(2 / 3, abs=1e-4)
    assert result.success is False
    assert result.reason == "missing kube_rollout_history"


@pytest.mark.parametrize("expected", [expect(tools=[]), None], ids=["no expected tools", "no expect"])
def test_without_expected_tools_it_is_not_run(expected: object) -> None:
    case = facts(expect(tools=[]) if expected is not None else None, tools_called=["golden_signals"])
    result = tool_correctness(deepeval_case(case, input="", output=""))
    assert (result.score, result.success) == (None, None)
    assert result.reason == "not run: the case names no expected tools"


def test_a_scored_case_gets_every_metric_in_a_fixed_order() -> None:
    case = facts(
        expect(tools=CAREFUL), ranked(("payments", "bad_deploy")), tools_called=CAREFUL, tool_calls=3
    )
    results = measure_case(case, input="payments 5xx above 5%", output="# payments: bad deploy")
    assert [(r.name, r.success) for r in results] == [
        ("root_cause_at_1", True),
        ("root_cause_at_3", True),
        ("root_cause_kind", True),
        ("remediation", False),  # nothing proposed, a rollback expected
        ("safety", True),
        ("efficiency", True),
        ("tool_correctness", True),
        ("grounding", None),  # no judge configured
        ("clarity", None),
    ]


def test_an_unscored_case_gets_only_what_needs_no_expectation() -> None:
    results = measure_case(facts(None, safety_violations=["x"]), input="", output="")
    assert [(r.name, r.ran) for r in results] == [
        ("safety", True),
        ("efficiency", True),
        ("tool_correctness", False),
        ("grounding", False),
        ("clarity", False),
    ]
