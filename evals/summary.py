"""A suite's scores summed up (DESIGN §3.8): accuracies, safety, calibration, efficiency and each
metric's tally, overall (`summarise`) and per class, fault kind and difficulty (`breakdown`)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypedDict

from pydantic import BaseModel, Field

from evals.metrics.calibration import Calibration, calibration

if TYPE_CHECKING:
    from evals.scoring import ScenarioScore


class Efficiency(BaseModel):
    """Cost of the completed cases, beside the summary's mean tool calls and wall-time percentiles."""

    within_limits: float | None = Field(
        None,
        description="share of the completed cases measured for efficiency that stayed within every limit "
        "(evals.metrics.efficiency); None: none was measured",
    )
    mean_llm_tokens: float = 0.0
    p95_tool_calls: int = 0
    p95_llm_tokens: int = 0


class MetricTally(BaseModel):
    """One metric over the suite, counted over the cases where it ran."""

    ran: int = 0
    not_run: int = Field(0, description="cases where it did not run (no judge, no expected tools, …)")
    passed: int = 0
    mean_score: float | None = Field(None, description="None: it never ran")


class Summary(BaseModel):
    n: int
    failed: int = Field(0, description="scenarios whose triage failed (counted wrong, left out of timings)")
    unscored: int = Field(0, description="cases without `expect`: run and reported, left out of accuracies")
    ac_at_1: float
    ac_at_3: float
    kind_accuracy: float
    remediation_accuracy: float
    safety_violations: int
    mean_tool_calls: float = Field(description="over completed scenarios")
    p50_wall_s: float = Field(description="over completed scenarios")
    p95_wall_s: float = Field(description="over completed scenarios")
    calibration: Calibration = Field(
        default_factory=Calibration,
        description="accuracy per verdict label and the Brier score, over scored completed cases",
    )
    efficiency: Efficiency = Field(default_factory=Efficiency, description="over completed scenarios")
    metrics: dict[str, MetricTally] = Field(
        default_factory=dict, description="per metric name (evals.metrics), in the order first seen"
    )


class Breakdown(TypedDict):
    """The suite's summary overall and per group; a case is in the group of each of its classes."""

    overall: Summary
    by_class: dict[str, Summary]
    by_kind: dict[str, Summary]  # by expected fault kind ("none": nothing wrong); unscored cases in no group
    by_difficulty: dict[str, Summary]


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(scores: list[ScenarioScore]) -> Summary:
    """Accuracies over every scored scenario (a failure counts wrong); timings and tool calls over
    completed ones only, since a failed triage's zeros would make the suite look faster and cheaper."""
    n = len(scores)
    completed = [s for s in scores if s.error is None]
    walls = [s.wall_s for s in completed]
    scored = [s for s in scores if s.scored]

    def share(flag: str) -> float:
        return round(sum(1 for s in scored if getattr(s, flag)) / len(scored), 4) if scored else 0.0

    return Summary(
        n=n,
        failed=n - len(completed),
        unscored=n - len(scored),
        ac_at_1=share("correct_at_1"),
        ac_at_3=share("correct_at_3"),
        kind_accuracy=share("kind_correct"),
        remediation_accuracy=share("remediation_correct"),
        safety_violations=sum(len(s.safety_violations) for s in scores),
        mean_tool_calls=round(statistics.fmean(s.tool_calls for s in completed), 2) if completed else 0.0,
        p50_wall_s=round(statistics.median(walls or [0.0]), 3),
        p95_wall_s=round(_p(walls, 0.95), 3),
        calibration=calibration([s for s in completed if s.scored]),
        efficiency=_efficiency(completed),
        metrics=_tallies(scores),
    )


def _efficiency(completed: list[ScenarioScore]) -> Efficiency:
    if not completed:
        return Efficiency()
    judged = [m for s in completed if (m := s.metric("efficiency")) is not None and m.ran]
    within = [m for m in judged if m.success]
    return Efficiency(
        within_limits=round(len(within) / len(judged), 4) if judged else None,
        mean_llm_tokens=round(statistics.fmean(s.llm_tokens for s in completed), 1),
        p95_tool_calls=int(_p([float(s.tool_calls) for s in completed], 0.95)),
        p95_llm_tokens=int(_p([float(s.llm_tokens) for s in completed], 0.95)),
    )


def _tallies(scores: list[ScenarioScore]) -> dict[str, MetricTally]:
    names = list(dict.fromkeys(m.name for s in scores for m in s.metrics))
    tallies = {}
    for name in names:
        found = [m for s in scores if (m := s.metric(name)) is not None]
        ran = [m.score for m in found if m.score is not None]
        tallies[name] = MetricTally(
            ran=len(ran),
            not_run=len(found) - len(ran),
            passed=sum(1 for m in found if m.success),
            mean_score=round(statistics.fmean(ran), 4) if ran else None,
        )
    return tallies


def breakdown(scores: list[ScenarioScore]) -> Breakdown:
    """`summarise` overall, per class, per expected fault kind and per difficulty (groups sorted by
    name). A case without `expect` has no expected kind: it is in no kind's group."""

    def by(key: Callable[[ScenarioScore], Iterable[str]]) -> dict[str, Summary]:
        groups: dict[str, list[ScenarioScore]] = {}
        for s in scores:
            for name in key(s):
                groups.setdefault(name, []).append(s)
        return {name: summarise(groups[name]) for name in sorted(groups)}

    return Breakdown(
        overall=summarise(scores),
        by_class=by(lambda s: dict.fromkeys(s.tags.classes)),
        by_kind=by(lambda s: [s.expected_kind] if s.expected_kind else []),
        by_difficulty=by(lambda s: [s.tags.difficulty]),
    )
