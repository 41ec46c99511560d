"""The diagnosis: ranked hypotheses about the root cause, each citing the evidence that supports it.

A hypothesis that cites an evidence id the investigation never observed is dropped by
`checked_against`, whoever produced it (a planner, a model): a diagnosis can only stand on what the
tools actually saw. "Nothing is wrong" is a legitimate diagnosis (`healthy=True`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal[
    "bad_deploy",
    "crashloop",
    "memory_leak",
    "cpu_hog",
    "traffic_surge",
    "dependency_latency",
    "packet_loss",
    "pod_failure",
    "node_pressure",
]
Label = Literal["CONFIRMED", "LIKELY", "INCONCLUSIVE"]
EntityKind = Literal["service", "pod", "node"]


class Hypothesis(BaseModel):
    """One candidate root cause."""

    model_config = ConfigDict(frozen=True)

    entity: str = Field(description="a service name, `pod/<name>` or `node/<name>`")
    entity_kind: EntityKind = "service"
    service: str | None = Field(None, description="the service the entity belongs to (None for a node)")
    fault_kind: FaultKind | None = None
    confidence: float = Field(ge=0, le=1)
    label: Label
    summary: str = Field(max_length=2000, description="one or two sentences for the on-call engineer")
    evidence: list[str] = Field(default_factory=list, description="ids of the evidence that supports it")
    ruled_out: list[str] = Field(
        default_factory=list, description="what was checked and does not explain it, e.g. a harmless deploy"
    )


class Diagnosis(BaseModel):
    """Ranked hypotheses (best first), or a healthy verdict."""

    model_config = ConfigDict(frozen=True)

    healthy: bool = Field(False, description="nothing is wrong: no hypothesis above the bar")
    summary: str = ""
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list, description="hypotheses removed, and why")

    @property
    def top(self) -> Hypothesis | None:
        return self.hypotheses[0] if self.hypotheses and not self.healthy else None

    def checked_against(self, known_evidence: Collection[str]) -> Diagnosis:
        """Drop hypotheses that cite evidence never observed (or cite none at all)."""
        kept: list[Hypothesis] = []
        dropped = list(self.dropped)
        for hypothesis in self.hypotheses:
            unknown = [e for e in hypothesis.evidence if e not in known_evidence]
            if unknown or not hypothesis.evidence:
                reason = f"cites unknown evidence {', '.join(unknown)}" if unknown else "cites no evidence"
                dropped.append(f"{hypothesis.entity} ({hypothesis.fault_kind}): {reason}")
                continue
            kept.append(hypothesis)
        # Dropping unsupported hypotheses leaves an inconclusive diagnosis, never a healthy verdict:
        # "nothing is wrong" must be said by whoever diagnosed, not inferred from missing support.
        summary = self.summary
        if not kept and not self.healthy:
            summary = "INCONCLUSIVE: no hypothesis is supported by observed evidence"
        return Diagnosis(healthy=self.healthy, summary=summary, hypotheses=kept, dropped=dropped)


def label_for(confidence: float) -> Label:
    """The label an on-call engineer reads first, from the confidence."""
    if confidence >= 0.8:
        return "CONFIRMED"
    if confidence >= 0.5:
        return "LIKELY"
    return "INCONCLUSIVE"
