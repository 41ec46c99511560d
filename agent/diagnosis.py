"""The diagnosis: ranked hypotheses about the root cause, each citing the evidence that supports it.

A hypothesis that cites an evidence id the investigation never observed is dropped by
`checked_against`, whoever produced it (a planner, a model): a diagnosis can only stand on what the
tools actually saw. "Nothing is wrong" is a legitimate diagnosis (`healthy=True`). A source the tools
could not read (Prometheus down, no trace backend) is listed in `missing` by `made_without`, which
marks the diagnosis degraded and caps every confidence below CONFIRMED.
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
RANKING_EVIDENCE = "anomaly:rank:"  # the ids the root-cause ranking gives its candidates
EntityKind = Literal["service", "pod", "node"]
# Without one of its sources a diagnosis is never CONFIRMED (label_for: below 0.8): the evidence that
# would have confirmed it, or pointed elsewhere, was not read.
DEGRADED_CONFIDENCE_CAP = 0.7


class MissingEvidence(BaseModel):
    """A source of evidence the investigation could not read, in the backend's own words."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="metrics, kubernetes, traces or logs")
    why: str = Field(max_length=1000, description="the first failure, naming the setting to check")
    failed_calls: int = Field(1, ge=1)
    calls: int = Field(1, ge=1, description="calls to this source in the whole investigation")

    def line(self) -> str:
        """e.g. `metrics: Prometheus at http://… is unreachable …: check MEDIC_PROMETHEUS_URL (5 of 5 calls failed)`"""
        return f"{self.source}: {self.why} ({self.failed_calls} of {self.calls} calls failed)"


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

    @property
    def kind_text(self) -> str:
        """The fault kind for a reader; an open kind (no known remedy) is said so, never "None"."""
        return self.fault_kind or "unknown fault"


class Diagnosis(BaseModel):
    """Ranked hypotheses (best first), or a healthy verdict."""

    model_config = ConfigDict(frozen=True)

    healthy: bool = Field(False, description="nothing is wrong: no hypothesis above the bar")
    summary: str = ""
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list, description="hypotheses removed, and why")
    missing: list[MissingEvidence] = Field(
        default_factory=list, description="sources that could not be read; the diagnosis stands without them"
    )
    degraded: bool = Field(False, description="made with evidence missing: no confidence above the cap")
    checked: list[str] = Field(
        default_factory=list,
        description="what the investigation looked at and found normal, for whoever takes it over",
    )
    recalled: list[str] = Field(
        default_factory=list,
        description="similar past incidents weighed against today's evidence, corrections first",
    )

    @property
    def top(self) -> Hypothesis | None:
        return self.hypotheses[0] if self.hypotheses and not self.healthy else None

    def checked_against(self, known_evidence: Collection[str]) -> Diagnosis:
        """Drop hypotheses that cite evidence never observed (or cite none at all), and any hypothesis
        after the first that cites nothing but the anomaly ranking: the ranking put it on the list, so
        the ranking alone cannot keep it there (a filler "bad deploy" with no rollout, say)."""
        kept: list[Hypothesis] = []
        dropped = list(self.dropped)
        for hypothesis in self.hypotheses:
            unknown = [e for e in hypothesis.evidence if e not in known_evidence]
            if unknown or not hypothesis.evidence:
                reason = f"cites unknown evidence {', '.join(unknown)}" if unknown else "cites no evidence"
                dropped.append(f"{hypothesis.entity} ({hypothesis.kind_text}): {reason}")
                continue
            if kept and all(e.startswith(RANKING_EVIDENCE) for e in hypothesis.evidence):
                dropped.append(
                    f"{hypothesis.entity} ({hypothesis.kind_text}): nothing beyond the anomaly ranking supports it"
                )
                continue
            kept.append(hypothesis)
        # Dropping unsupported hypotheses leaves an inconclusive diagnosis, never a healthy verdict:
        # "nothing is wrong" must be said by whoever diagnosed, not inferred from missing support.
        summary = self.summary
        if not kept and self.hypotheses and not self.healthy:
            summary = "INCONCLUSIVE: no hypothesis is supported by observed evidence"
        return self.model_copy(update={"summary": summary, "hypotheses": kept, "dropped": dropped})

    def made_without(self, missing: list[MissingEvidence]) -> Diagnosis:
        """This diagnosis, knowing that `missing` could not be read: degraded, every confidence capped
        at DEGRADED_CONFIDENCE_CAP and nothing CONFIRMED. A healthy verdict stands, marked degraded."""
        if not missing:
            return self
        capped = [
            h.model_copy(
                update={
                    "confidence": min(h.confidence, DEGRADED_CONFIDENCE_CAP),
                    "label": "LIKELY" if h.label == "CONFIRMED" else h.label,
                }
            )
            for h in self.hypotheses
        ]
        return self.model_copy(update={"hypotheses": capped, "missing": list(missing), "degraded": True})


def label_for(confidence: float) -> Label:
    """The label an on-call engineer reads first, from the confidence."""
    if confidence >= 0.8:
        return "CONFIRMED"
    if confidence >= 0.5:
        return "LIKELY"
    return "INCONCLUSIVE"
