"""Fault-kind classification of one candidate from its findings: the SRE's checklist, as rules.

Order matters and follows how specific a symptom is: a node condition or one failing pod names the
fault outright; pod states (OOMKilled, then CrashLoopBackOff) come next; then saturation with or without
more traffic; then a rollout at the onset; last the faults that show only in what callers see.
Thresholds are general (robust sigmas, ratios), never per service or scenario.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.diagnosis import FaultKind
from agent.planners.findings import NEAR_ONSET_S, Findings

STRONG = 10.0  # robust sigmas: the ranking's own "anomalous" bar
SURGE_RATIO = 1.3  # incoming traffic this much above its pre-onset level is a surge


class Verdict(BaseModel):
    kind: FaultKind
    confidence: float = Field(ge=0, le=1)
    because: list[str] = Field(description="the facts the rule stood on, in words")
    facts: list[str] = Field(description="keys of Findings.evidence that support it")


def _deployed_at_onset(f: Findings) -> bool:
    age = f.revision_age_s
    return age is not None and -NEAR_ONSET_S <= age <= NEAR_ONSET_S / 3


def _score(base: float, corroborating: int) -> float:
    return round(min(0.95, base + 0.1 * corroborating), 2)


def classify(f: Findings) -> Verdict:
    """The most specific fault kind the findings support (see the module docstring for the order)."""
    own_errors = f.signal("error_ratio") >= STRONG
    own_latency = f.signal("latency_p99") >= STRONG
    callers_errors = f.signal("callers_error_ratio") >= STRONG
    callers_latency = f.signal("callers_latency_p99") >= STRONG
    deployed = _deployed_at_onset(f)
    resource = f.cpu_at_limit or f.throttled or f.signal("cpu_throttling") >= STRONG
    cpu_per_request_up = f.signal("cpu_per_request") >= STRONG

    if f.entity_kind == "node" or f.node_conditions:
        pressure = [c for c in f.node_conditions if c.endswith("Pressure") or c == "Ready"]
        return Verdict(
            kind="node_pressure",
            confidence=_score(0.5, bool(pressure) + (f.evicted_pods > 0) + (f.signal("failed_pods") > 0)),
            because=[f"node condition {', '.join(pressure) or 'changed'}", f"{f.evicted_pods} evicted pods"],
            facts=["rank", "node", "pods"],
        )
    if f.entity_kind == "pod":
        return Verdict(
            kind="pod_failure",
            confidence=_score(0.6, (f.signal("pod_error_ratio") >= STRONG) + 1),
            because=["one pod fails its requests while its siblings are healthy"],
            facts=["rank"],
        )
    if f.oom_killed or (f.memory_at_limit and f.restarts > 0):
        return Verdict(
            kind="memory_leak",
            confidence=_score(0.5, f.oom_killed + f.memory_at_limit + (f.restarts > 0)),
            because=["containers OOMKilled", "memory climbing to the limit"],
            facts=["pods", "saturation", "rank"],
        )
    if f.crashlooping or (f.restarts > 0 and f.error_terminations and not f.oom_killed):
        return Verdict(
            kind="crashloop",
            confidence=_score(0.5, deployed + f.config_error_logs + f.crashlooping),
            because=["pods in CrashLoopBackOff / restarting with errors"]
            + (["a new revision right before the onset"] if deployed else [])
            + (["configuration errors in the logs"] if f.config_error_logs else []),
            facts=["pods", "rollout", "logs", "rank"],
        )
    if resource and (f.traffic_ratio or 1.0) >= SURGE_RATIO and not cpu_per_request_up:
        return Verdict(
            kind="traffic_surge",
            confidence=_score(0.5, f.throttled + f.cpu_at_limit + 1),
            because=[
                f"incoming traffic ×{f.traffic_ratio:.1f} and CPU pinned at its limit (utilisation > 1)"
            ],
            facts=["saturation", "rank"],
        )
    if resource or cpu_per_request_up:
        return Verdict(
            kind="cpu_hog",
            confidence=_score(0.5, f.throttled + f.cpu_at_limit + cpu_per_request_up),
            because=["CPU at its limit and throttled without more traffic"],
            facts=["saturation", "rank"],
        )
    if deployed and (own_errors or own_latency or callers_errors):
        return Verdict(
            kind="bad_deploy",
            confidence=_score(0.55, own_errors + own_latency + callers_errors),
            because=["a new revision right before the onset", "its own error ratio / latency went up"],
            facts=["rollout", "rank"],
        )
    if callers_errors and not own_errors:
        return Verdict(
            kind="packet_loss",
            confidence=_score(0.5, 1 + callers_latency),
            because=["callers see errors towards it while its own server metrics are normal"],
            facts=["rank"],
        )
    if callers_latency and not own_errors:
        return Verdict(
            kind="dependency_latency",
            confidence=_score(0.5, 1 + (f.has_workload is False) + (not resource)),
            because=["callers wait longer on it", "no resource signal on it"],
            facts=["rank", "rollout"],
        )
    if own_errors:
        return Verdict(
            kind="bad_deploy",
            confidence=_score(0.3, deployed),
            because=["its own error ratio went up"],
            facts=["rank", "rollout"],
        )
    return Verdict(
        kind="dependency_latency",
        confidence=0.3,
        because=["its latency went up without an error or a resource signal"],
        facts=["rank"],
    )
