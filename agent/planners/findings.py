"""Facts about each candidate entity, read from the structured `data` of the steps a planner saw.

The rules planner decides from these, never from summaries (text is for people and models). Every
fact keeps the evidence ids that show it, so a hypothesis cites only what the tools observed.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field, JsonValue

from agent.diagnosis import EntityKind
from agent.state import PlannerView, Step

CONFIG_ERROR = re.compile(
    r"config|invalid|missing|parse|unknown (key|option|field)|not set|environment", re.I
)
NEAR_ONSET_S = 15 * 60.0  # a rollout this close before (or soon after) the onset counts as its trigger


class Findings(BaseModel):
    """What the investigation established about one candidate."""

    entity: str
    entity_kind: EntityKind = "service"
    service: str | None = None
    score: float = 0.0
    explained_by: str | None = None
    sigmas: dict[str, float] = Field(default_factory=dict, description="ranked signal -> signed sigmas")
    traffic_ratio: float | None = None
    has_workload: bool | None = None
    revision_age_s: float | None = Field(None, description="newest revision's creation minus the onset")
    older_revision_age_s: float | None = None
    restarts: int = 0
    crashlooping: bool = False
    oom_killed: bool = False
    error_terminations: bool = False
    evicted_pods: int = 0
    config_error_logs: bool = False
    memory_at_limit: bool = False
    cpu_at_limit: bool = False
    throttled: bool = False
    node_conditions: list[str] = Field(default_factory=list)
    evidence: dict[str, list[str]] = Field(default_factory=dict, description="fact -> evidence ids")

    def cite(self, fact: str, ids: list[str]) -> None:
        self.evidence.setdefault(fact, []).extend(i for i in ids if i not in self.evidence[fact])

    def signal(self, name: str) -> float:
        return self.sigmas.get(name, 0.0)


def num(value: object, default: float = 0.0) -> float:
    """A JSON number (or numeric string), or `default`."""
    try:
        return float(str(value)) if value is not None else default
    except ValueError:
        return default


def rows(value: object) -> list[dict[str, JsonValue]]:
    """The objects of a JSON list (anything else: none)."""
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def steps_of(view: PlannerView, tool: str) -> list[Step]:
    return [s for s in view.steps if s.call.tool == tool and s.status in ("ok", "no_data")]


def rank_data(view: PlannerView) -> dict[str, JsonValue] | None:
    steps = [s for s in steps_of(view, "rank_root_causes") if s.status == "ok"]
    return steps[-1].data if steps else None


def parse_time(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _rank_evidence(step: Step, entity: str) -> list[str]:
    return [e for e in step.evidence if f":rank:{entity}:" in e] or step.evidence[:1]


def _entity_kind(value: object) -> EntityKind:
    return "pod" if value == "pod" else "node" if value == "node" else "service"


def candidates_from_rank(view: PlannerView) -> list[Findings]:
    """Every ranked entity with its signals, best first."""
    steps = [s for s in steps_of(view, "rank_root_causes") if s.status == "ok"]
    if not steps:
        return []
    step = steps[-1]
    out = []
    for row in rows(step.data.get("candidates")):
        f = Findings(
            entity=str(row["entity"]),
            entity_kind=_entity_kind(row.get("entity_kind")),
            service=str(row["service"]) if row.get("service") else None,
            score=num(row.get("score")),
            explained_by=str(row["explained_by"]) if row.get("explained_by") else None,
            traffic_ratio=num(row.get("traffic_ratio"), 1.0),
        )
        for sig in rows(row.get("signals")):
            if num(sig.get("score")) > 0:
                f.sigmas[str(sig["signal"])] = num(sig.get("sigmas"))
        f.cite("rank", _rank_evidence(step, f.entity))
        out.append(f)
    return out


def onset_of(view: PlannerView) -> datetime | None:
    data = rank_data(view)
    return parse_time(data.get("onset")) if data else None


def add_kube_facts(f: Findings, view: PlannerView) -> None:
    """Rollouts, pod states, saturation, logs and node conditions that concern `f`'s service or node."""
    onset = onset_of(view)
    service = f.service
    for step in steps_of(view, "kube_workload"):
        if step.call.args.get("name") != service:
            continue
        f.has_workload = step.status == "ok"
        revisions = rows(step.data.get("revisions"))
        created = [parse_time(r.get("created")) for r in revisions]
        stamps = sorted(c for c in created if c is not None)
        if stamps and onset is not None:
            f.revision_age_s = (stamps[-1] - onset).total_seconds()
            if len(stamps) > 1:
                f.older_revision_age_s = (stamps[-2] - onset).total_seconds()
        f.cite("rollout", step.evidence[-1:])
    for step in steps_of(view, "kube_pods"):
        if step.call.args.get("workload") != service and not (
            f.entity_kind == "node" and step.call.args.get("node") == f.entity.removeprefix("node/")
        ):
            continue
        for pod in rows(step.data.get("pods")):
            if pod.get("phase") == "Failed" or pod.get("reason") == "Evicted":
                f.evicted_pods += 1
            for c in rows(pod.get("containers")):
                f.restarts += int(num(c.get("restart_count")))
                f.crashlooping |= "CrashLoopBackOff" in str(c.get("state"))
                reason = str(c.get("last_termination_reason") or "")
                f.oom_killed |= reason == "OOMKilled"
                f.error_terminations |= reason not in ("", "OOMKilled", "Completed")
        f.cite("pods", step.evidence[1:4] or step.evidence[:1])
    for step in steps_of(view, "workload_saturation"):
        if step.call.args.get("workload") != service:
            continue
        for pod in rows(step.data.get("pods")):
            flags = str(pod.get("flags"))
            f.memory_at_limit |= "memory at its limit" in flags
            f.cpu_at_limit |= "CPU at its limit" in flags
            f.throttled |= "CPU throttled" in flags
            f.oom_killed |= bool(pod.get("oom_killed"))
        f.cite("saturation", step.evidence[:2])
    for step in steps_of(view, "pod_logs"):
        pod_name = str(step.call.args.get("pod") or "")
        if service and pod_name.startswith(f"{service}-") and step.status == "ok":
            raw = step.data.get("lines")
            lines = [str(x) for x in raw] if isinstance(raw, list) else []
            if any(CONFIG_ERROR.search(x) for x in lines):
                f.config_error_logs = True
                f.cite("logs", step.evidence)
    for step in steps_of(view, "kube_nodes"):
        for node in rows(step.data.get("nodes")):
            if f"node/{node.get('name')}" != f.entity:
                continue
            for cond in rows(node.get("conditions")):
                healthy = "True" if cond.get("type") == "Ready" else "False"
                if cond.get("status") != healthy:
                    f.node_conditions.append(str(cond.get("type")))
            f.cite("node", [e for e in step.evidence if f":node:{node.get('name')}:" in e])
