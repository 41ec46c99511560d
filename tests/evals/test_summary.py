"""A suite's summary gains calibration, efficiency and each metric's tally; `breakdown` gives the same
summary per class, per expected fault kind and per difficulty, beside the overall one."""

from __future__ import annotations

import pytest

from evals.metrics.calibration import VerdictLabel
from evals.metrics.result import MetricResult
from evals.scenario import Tags
from evals.scoring import ScenarioScore, breakdown, summarise


def case(
    id: str,
    *,
    right: bool,
    label: VerdictLabel | None = "CONFIRMED",
    confidence: float | None = 0.9,
    classes: list[str] | None = None,
    kind: str | None = "bad_deploy",
    calls: int = 5,
    tokens: int = 0,
    efficient: bool = True,
    judged: float | None = None,
    error: str | None = None,
) -> ScenarioScore:
    metrics = [
        MetricResult(name="root_cause_at_1", score=float(right), success=right, threshold=1.0),
        MetricResult(name="efficiency", score=1.0 if efficient else 0.6667, success=efficient, threshold=1.0),
        MetricResult(name="grounding", score=judged, success=None if judged is None else judged >= 0.5),
    ]
    return ScenarioScore.model_validate(
        {
            "id": id,
            "predicted": [],
            "correct_at_1": right,
            "correct_at_3": right,
            "kind_correct": right,
            "remediation_correct": right,
            "tool_calls": calls,
            "llm_tokens": tokens,
            "wall_s": 2.0,
            "error": error,
            "scored": kind is not None,
            "tags": Tags.model_validate(
                {"classes": classes or ["standard"], "difficulty": "easy" if right else "hard"}
            ),
            "expected_kind": kind,
            "label": label,
            "confidence": confidence,
            "metrics": [] if error else metrics,
        }
    )


SUITE = [
    case("a", right=True, classes=["standard"], calls=4, tokens=1000),
    case(
        "b", right=False, classes=["distractor", "datastore"], kind="memory_leak", calls=30, efficient=False
    ),
    case("c", right=True, label="LIKELY", confidence=0.6, classes=["healthy-alert"], kind="none", judged=0.8),
    case("d", right=False, label="LIKELY", confidence=0.6, classes=["distractor"], judged=0.4),
    case("e", right=False, label=None, confidence=None, error="RuntimeError: boom", classes=["cascade"]),
    case("f", right=False, label="HEALTHY", confidence=0.7, classes=["recorded"], kind=None),  # not scored
]


def test_the_summary_carries_calibration_efficiency_and_metric_tallies() -> None:
    summary = summarise(SUITE)
    cal = summary.calibration
    # scored and completed: a, b (CONFIRMED, 0.9) and c, d (LIKELY, 0.6); e failed, f is not scored
    assert cal.count_by_label == {"CONFIRMED": 2, "LIKELY": 2}
    assert cal.accuracy_by_label == {"CONFIRMED": 0.5, "LIKELY": 0.5}
    assert cal.brier == pytest.approx((0.01 + 0.81 + 0.16 + 0.36) / 4)
    assert cal.confirmed_beats_likely is False
    eff = summary.efficiency
    assert eff.within_limits == pytest.approx(4 / 5)  # b is over; e failed and is left out
    assert eff.mean_llm_tokens == pytest.approx(200.0)
    assert eff.p95_tool_calls == 30
    assert summary.metrics["grounding"].model_dump() == {
        "ran": 2,
        "not_run": 3,
        "passed": 1,
        "mean_score": 0.6,
    }
    assert summary.metrics["root_cause_at_1"].passed == 2
    assert list(summary.metrics) == ["root_cause_at_1", "efficiency", "grounding"]


def test_breakdown_summarises_each_class_kind_and_difficulty_beside_the_overall() -> None:
    groups = breakdown(SUITE)
    assert groups["overall"] == summarise(SUITE)
    assert list(groups["by_class"]) == [
        "cascade",
        "datastore",
        "distractor",
        "healthy-alert",
        "recorded",
        "standard",
    ]
    distractor = groups["by_class"]["distractor"]  # b and d: a case is in each of its classes
    assert (distractor.n, distractor.ac_at_1) == (2, 0.0)
    assert groups["by_class"]["datastore"].n == 1
    assert groups["by_class"]["cascade"].failed == 1
    assert {k: (s.n, s.ac_at_1) for k, s in groups["by_kind"].items()} == {
        "bad_deploy": (3, pytest.approx(1 / 3, abs=1e-4)),  # a, d, e
        "memory_leak": (1, 0.0),
        "none": (1, 1.0),
    }  # f has no `expect`: no expected kind, no group
    assert {k: s.n for k, s in groups["by_difficulty"].items()} == {"easy": 2, "hard": 4}


def test_scores_without_metrics_summarise_as_before() -> None:
    bare = ScenarioScore(
        id="x",
        predicted=[],
        correct_at_1=True,
        correct_at_3=True,
        kind_correct=True,
        remediation_correct=True,
        tool_calls=3,
        llm_tokens=0,
        wall_s=1.0,
    )
    summary = summarise([bare])
    assert (summary.ac_at_1, summary.efficiency.within_limits, summary.metrics) == (1.0, None, {})
    assert summary.calibration.n == 0  # no label recorded: nothing to calibrate
