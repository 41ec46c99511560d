"""What the memory of past incidents holds, and the one protocol every memory store implements.

A past incident is remembered by its signature (what it looked like when it was diagnosed), the
verdict medic gave, and the feedback responders gave afterwards. The service fills the memory from
its incident store (`server.store.memory`); a triage outside the service (the CLI, evals) fills a
local folder (`tools.memory.local`). The `similar_incidents` tool reads either through
`IncidentMemory`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Direction = Literal["up", "down"]
FeedbackVerdict = Literal["right", "wrong"]


class IncidentSignature(BaseModel):
    """What an incident looked like at diagnosis time, as sets of comparable features.

    `services` are the affected services (alerted ones and the ranking's candidates), `symptoms` the
    golden signals that moved and which way (`service:kind:up|down`, kind as the anomaly ranking names
    it: errors, latency, traffic, resource, …), `fault_kind` the diagnosis's top fault kind and
    `changes` the recent changes seen (`rollout:<service>`). Services are compared within a namespace.
    """

    model_config = ConfigDict(frozen=True)

    namespace: str | None = Field(None, max_length=253)
    services: list[str] = Field(default_factory=list, max_length=20)
    symptoms: list[str] = Field(default_factory=list, max_length=60)
    fault_kind: str | None = Field(None, max_length=64)
    changes: list[str] = Field(default_factory=list, max_length=20)

    def qualified_services(self) -> set[str]:
        """Services as `namespace/service`: the same name in another namespace is another service."""
        return {f"{self.namespace or ''}/{s}" for s in self.services}

    def features(self) -> dict[str, set[str]]:
        """The feature sets `tools.memory.similarity` compares, by group."""
        ns = f"{self.namespace or ''}/"
        return {
            "services": self.qualified_services(),
            "symptoms": {ns + s for s in self.symptoms},
            "fault_kind": {self.fault_kind} if self.fault_kind else set(),
            "changes": {ns + c for c in self.changes},
        }


class Cause(BaseModel):
    """A root cause: the service (or `node/<name>`) and the fault kind, when known."""

    model_config = ConfigDict(frozen=True)

    service: str = Field(min_length=1, max_length=253)
    kind: str | None = Field(None, max_length=64)

    def text(self) -> str:
        return f"{(self.kind or 'an unknown fault').replace('_', ' ')} on {self.service}"


class PastFeedback(BaseModel):
    """What a responder said about a verdict: right or wrong, the true cause, what fixed it, notes."""

    model_config = ConfigDict(frozen=True)

    verdict: FeedbackVerdict
    cause: Cause | None = None
    fixed_by: str = Field("", max_length=1000)
    notes: str = Field("", max_length=4000)
    by: str = Field("", max_length=200)
    at: AwareDatetime


class PastIncident(BaseModel):
    """One remembered incident."""

    incident_id: str = Field(min_length=1, max_length=128)
    title: str = Field("", max_length=500)
    at: AwareDatetime = Field(description="the instant it was investigated as of")
    signature: IncidentSignature
    verdict: str = Field("", max_length=1000, description="the verdict line medic gave")
    cause: Cause | None = Field(None, description="the diagnosis's top hypothesis; None: healthy or none")
    feedback: list[PastFeedback] = Field(default_factory=list)

    def correction(self) -> PastFeedback | None:
        """The newest feedback that said the verdict was wrong, if any."""
        wrong = [f for f in self.feedback if f.verdict == "wrong"]
        return max(wrong, key=lambda f: f.at) if wrong else None

    def true_cause(self) -> Cause | None:
        """What responders say the cause was: a correction's cause, else the verdict's unless it was
        called wrong without naming another."""
        corrected = self.correction()
        if corrected is not None:
            return corrected.cause
        return self.cause


class IncidentMemory(Protocol):
    """Where `similar_incidents` reads past incidents from."""

    def past_incidents(self, *, until: datetime, limit: int) -> list[PastIncident]:
        """Incidents investigated at or before `until`, newest first, at most `limit`."""
        ...
