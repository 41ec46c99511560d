"""What the loop decides: a `Detection` (an anomaly that persisted, or a saturation forecast), with
the evidence a responder reads and the replay prints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.state import Proposal

DetectionKind = Literal["anomaly", "saturation_forecast"]


class SeriesEvidence(BaseModel):
    """One series that was over the threshold: which, how far, since when."""

    model_config = ConfigDict(frozen=True)

    signal: str
    score: float = Field(description="the detector's peak likelihood score of the run, in [0, 1]")
    steps_over: int = Field(description="steps over the threshold among the last n")
    since: datetime
    value: float | None
    calm_value: float | None = Field(description="the last value before the run began")


class Detection(BaseModel):
    """An incident the loop would open."""

    model_config = ConfigDict(frozen=True)

    opened_at: datetime
    namespace: str
    service: str
    kind: DetectionKind
    reason: str
    evidence: list[SeriesEvidence] = Field(default_factory=list)
    time_to_limit_s: float | None = Field(None, description="saturation_forecast: seconds to the limit")
    resource: str | None = Field(None, description="saturation_forecast: cpu or memory")
    proposal: Proposal | None = Field(
        None, description="the runbook's action for it, checked by the guard like any proposal"
    )

    def line(self) -> dict[str, str]:
        """The replay's JSON line: opened_at, service, kind, reason."""
        return {
            "opened_at": self.opened_at.isoformat().replace("+00:00", "Z"),
            "service": self.service,
            "kind": self.kind,
            "reason": self.reason,
        }
