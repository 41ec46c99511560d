"""Calibration on a small hand-computed set: accuracy per verdict label, and the Brier score."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from evals.metrics.calibration import VerdictLabel, calibration


@dataclass(frozen=True)
class Case:
    label: VerdictLabel | None
    confidence: float | None
    correct_at_1: bool


CASES = [
    Case("CONFIRMED", 0.9, True),  # (0.9 - 1)² = 0.01
    Case("CONFIRMED", 0.8, True),  # 0.04
    Case("CONFIRMED", 0.85, False),  # 0.7225
    Case("LIKELY", 0.6, True),  # 0.16
    Case("LIKELY", 0.5, False),  # 0.25
    Case("LIKELY", 0.7, False),  # 0.49
    Case("HEALTHY", 0.75, True),  # 0.0625: "nothing is wrong" at 0.75, and nothing was
    Case("INCONCLUSIVE", None, False),  # no hypothesis: no forecast, counted in its label only
    Case("INCONCLUSIVE", 0.3, False),  # a weak top hypothesis, wrong: 0.09
]


def test_accuracy_per_label_and_the_brier_score_by_hand() -> None:
    result = calibration(CASES)
    assert result.n == 9
    assert result.count_by_label == {"CONFIRMED": 3, "LIKELY": 3, "INCONCLUSIVE": 2, "HEALTHY": 1}
    assert result.accuracy_by_label == {
        "CONFIRMED": pytest.approx(2 / 3, abs=1e-4),
        "LIKELY": pytest.approx(1 / 3, abs=1e-4),
        "INCONCLUSIVE": 0.0,
        "HEALTHY": 1.0,
    }
    assert result.brier_n == 8
    by_hand = (0.01 + 0.04 + 0.7225 + 0.16 + 0.25 + 0.49 + 0.0625 + 0.09) / 8  # = 0.228125
    assert result.brier == pytest.approx(by_hand, abs=1e-4)
    assert result.confirmed_beats_likely is True


def test_a_confirmed_verdict_no_better_than_a_likely_one_is_flagged() -> None:
    result = calibration([Case("CONFIRMED", 0.9, False), Case("LIKELY", 0.6, True)])
    assert result.accuracy_by_label == {"CONFIRMED": 0.0, "LIKELY": 1.0}
    assert result.confirmed_beats_likely is False
    assert result.brier == pytest.approx((0.81 + 0.16) / 2)


def test_a_perfect_forecaster_scores_zero_and_an_empty_set_has_no_score() -> None:
    assert calibration([Case("CONFIRMED", 1.0, True), Case("HEALTHY", 0.0, False)]).brier == 0.0
    empty = calibration([Case(None, None, False)])  # a failed triage has no label
    assert (empty.n, empty.brier, empty.brier_n, empty.confirmed_beats_likely) == (0, None, 0, None)
    assert empty.accuracy_by_label == {}
