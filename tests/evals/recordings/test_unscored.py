"""A recording without `expect` is run and reported, not scored: it counts in `n` and in the timings,
never in the accuracies (it is neither right nor wrong)."""

from __future__ import annotations

from evals.scoring import ScenarioScore, summarise


def _case(id: str, *, right: bool, scored: bool = True) -> ScenarioScore:
    return ScenarioScore(
        id=id,
        predicted=[],
        correct_at_1=right,
        correct_at_3=right,
        kind_correct=right,
        remediation_correct=right,
        tool_calls=4,
        llm_tokens=0,
        wall_s=2.0,
        scored=scored,
    )


def test_unscored_cases_stay_out_of_the_accuracies() -> None:
    summary = summarise(
        [_case("a", right=True), _case("b", right=False), _case("c", right=False, scored=False)]
    )
    assert (summary.n, summary.unscored, summary.failed) == (3, 1, 0)
    assert (summary.ac_at_1, summary.remediation_accuracy) == (0.5, 0.5)
    assert summary.mean_tool_calls == 4.0


def test_a_suite_of_unscored_cases_has_no_accuracy_to_report() -> None:
    summary = summarise([_case("c", right=False, scored=False)])
    assert (summary.n, summary.unscored, summary.ac_at_1) == (1, 1, 0.0)
