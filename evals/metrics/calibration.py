"""Calibration: does the agent's confidence mean what it says?

Two views over the scored, completed cases. Accuracy by label: a CONFIRMED verdict should be right
(top-1) more often than a LIKELY one, and a LIKELY more often than an INCONCLUSIVE one. The Brier
score: the mean of (confidence − right)² over the cases that state a confidence, 0 for a perfect
forecaster, 0.25 for one that always says 0.5.

Whose confidence: the top hypothesis's, against whether it is the root cause (top-1). A "nothing is
wrong" verdict (label HEALTHY) counts too: its confidence is the one the report gives for "no fault"
(1 − the best dismissed hypothesis), against whether nothing was wrong. A diagnosis with no hypothesis
and no healthy verdict (label INCONCLUSIVE, confidence None) states no forecast: it is counted in the
accuracy of its label, not in the Brier score (`brier_n` says how many cases the score covers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, Field

VerdictLabel = Literal["CONFIRMED", "LIKELY", "INCONCLUSIVE", "HEALTHY"]
LABELS: tuple[VerdictLabel, ...] = ("CONFIRMED", "LIKELY", "INCONCLUSIVE", "HEALTHY")


class Forecast(Protocol):
    """What calibration reads of a scored case (evals.scoring.ScenarioScore)."""

    @property
    def label(self) -> VerdictLabel | None: ...

    @property
    def confidence(self) -> float | None: ...

    @property
    def correct_at_1(self) -> bool: ...


class Calibration(BaseModel):
    n: int = Field(0, description="cases with a verdict label (scored and completed)")
    count_by_label: dict[str, int] = Field(default_factory=dict, description="cases per verdict label")
    accuracy_by_label: dict[str, float] = Field(
        default_factory=dict, description="share right at 1 per label; labels with no case left out"
    )
    brier: float | None = Field(None, description="mean (confidence − right at 1)²; None: no forecast")
    brier_n: int = Field(0, description="cases with a confidence, the ones the Brier score covers")
    confirmed_beats_likely: bool | None = Field(
        None, description="CONFIRMED right more often than LIKELY; None: one of them has no case"
    )


def calibration(cases: Sequence[Forecast]) -> Calibration:
    """Over `cases` that have a label (the caller leaves out unscored and failed ones)."""
    labelled = [c for c in cases if c.label is not None]
    count = {label: sum(1 for c in labelled if c.label == label) for label in LABELS}
    accuracy = {
        label: round(sum(1 for c in labelled if c.label == label and c.correct_at_1) / n, 4)
        for label, n in count.items()
        if n
    }
    forecasts = [(c.confidence, c.correct_at_1) for c in labelled if c.confidence is not None]
    brier = (
        round(sum((p - float(right)) ** 2 for p, right in forecasts) / len(forecasts), 4)
        if forecasts
        else None
    )
    beats = None
    if "CONFIRMED" in accuracy and "LIKELY" in accuracy:
        beats = accuracy["CONFIRMED"] > accuracy["LIKELY"]
    return Calibration(
        n=len(labelled),
        count_by_label={label: n for label, n in count.items() if n},
        accuracy_by_label=accuracy,
        brier=brier,
        brier_n=len(forecasts),
        confirmed_beats_likely=beats,
    )
