"""The deterministic `rules` planner: investigates in rounds like an SRE, then classifies the evidence.

Round 1: golden signals of the alerted services, the dependency graph from traces, the anomaly
ranking of the namespace, the firing alerts. Round 2: for the top candidates (the ranking's best
unexplained entities and the deepest anomalous dependency), rollout history, pods, saturation,
events and nodes. Round 3: the logs of the top candidate's unhealthy pod. Then done.

Nothing here knows a service, namespace or scenario name; the same view always gives the same plan.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import JsonValue

from agent.diagnosis import Diagnosis, Hypothesis, label_for
from agent.planner import DiagnosisResult, Plan
from agent.planners.classify import STRONG, classify
from agent.planners.findings import (
    Findings,
    add_kube_facts,
    candidates_from_rank,
    num,
    parse_time,
    rank_data,
    rows,
    steps_of,
)
from agent.state import PlannerView, ToolCall

MAX_CALLS = 15
MAX_CANDIDATES = 2
LOG_GREP = "error|exception|fail|invalid|fatal|panic|refused|timeout"


def _call(round_no: int, tool: str, args: dict[str, JsonValue], n: int) -> ToolCall:
    return ToolCall(id=f"r{round_no}-{n}-{tool}", tool=tool, args=args)


def _round_of(view: PlannerView) -> int:
    done = {s.call.id.split("-", 1)[0] for s in view.steps}
    return sum(1 for r in ("r1", "r2", "r3") if r in done)


def _deepest_anomalous(view: PlannerView, start: list[str]) -> str | None:
    """Follow trace edges from the alerted services along failing or slow calls to the deepest one."""
    edges: list[dict[str, JsonValue]] = []
    for step in steps_of(view, "service_dependencies"):
        edges += rows(step.data.get("edges"))
    anomalous = {c.entity for c in candidates_from_rank(view) if c.score >= STRONG}
    seen: set[str] = set()
    node = start[0] if start else None
    while node is not None and node not in seen:
        seen.add(node)
        nxt = sorted(
            (e for e in edges if e.get("caller") == node and str(e.get("callee")) in anomalous),
            key=lambda e: (
                -num(e.get("error_ratio")),
                -num(e.get("p99_ms")),
                str(e["callee"]),
            ),
        )
        if not nxt:
            break
        node = str(nxt[0]["callee"])
    return node if node is not None and node not in start else None


def top_candidates(view: PlannerView) -> list[Findings]:
    """The ranking's best unexplained anomalous entities, then the deepest anomalous dependency."""
    ranked = candidates_from_rank(view)
    data = rank_data(view) or {}
    if not data.get("anomalous"):
        return []
    chosen = [c for c in ranked if c.score >= STRONG and c.explained_by is None][:MAX_CANDIDATES]
    deepest = _deepest_anomalous(view, list(view.incident.services))
    if deepest and deepest not in {c.entity for c in chosen}:
        chosen += [c for c in ranked if c.entity == deepest][:1]
    return chosen


class RulesPlanner:
    """A fixed investigation and a rule-based diagnosis; no model, no randomness."""

    name = "rules"

    def plan(self, view: PlannerView) -> Plan:
        round_no = _round_of(view)
        budget = min(MAX_CALLS, view.budget.max_tool_calls) - view.usage.tool_calls
        calls = self._round(view, round_no + 1) if round_no < 3 else []
        calls = calls[: max(budget, 0)]
        if not calls:
            return Plan(done=True, note="enough evidence to diagnose")
        return Plan(calls=calls, note=f"round {round_no + 1}: {', '.join(sorted({c.tool for c in calls}))}")

    def _round(self, view: PlannerView, round_no: int) -> list[ToolCall]:
        incident = view.incident
        ns = incident.namespace
        calls: list[ToolCall] = []

        def add(tool: str, **args: JsonValue) -> None:
            calls.append(_call(round_no, tool, dict(args), len(calls)))

        if round_no == 1:
            for service in incident.services[:2]:
                add("golden_signals", service=service, namespace=ns)
            add("service_dependencies", lookback_minutes=15)
            if ns:
                add("rank_root_causes", namespace=ns)
            add("firing_alerts")
            return calls
        if not ns:
            return []
        candidates = top_candidates(view)
        if round_no == 2:
            if any(c.entity_kind != "node" for c in candidates):
                add("kube_events", namespace=ns, lookback="2h")
            seen: set[str] = set()
            for c in candidates:
                if c.entity_kind == "node":
                    add("kube_nodes", name=c.entity.removeprefix("node/"))
                    add("kube_pods", namespace=ns, node=c.entity.removeprefix("node/"))
                    continue
                if c.service is None or c.service in seen:
                    continue
                seen.add(c.service)
                add("kube_workload", namespace=ns, name=c.service)
                add("kube_pods", namespace=ns, workload=c.service)
                add("workload_saturation", workload=c.service, namespace=ns)
            return calls
        # round 3: the logs of the most suspicious pod of the top candidate
        for step in steps_of(view, "kube_pods"):
            if not candidates or step.call.args.get("workload") != candidates[0].service:
                continue
            for pod in rows(step.data.get("pods")):
                restarted = any(num(c.get("restart_count")) > 0 for c in rows(pod.get("containers")))
                if restarted:
                    add("pod_logs", namespace=ns, pod=pod["name"], previous=True, grep=LOG_GREP)
                    return calls
        return calls

    def diagnose(self, view: PlannerView) -> DiagnosisResult:
        return DiagnosisResult(diagnosis=diagnose(view))


def diagnose(view: PlannerView) -> Diagnosis:
    """Hypotheses for the candidates, best first, or healthy when nothing stands out."""
    data = rank_data(view)
    candidates = top_candidates(view)
    if data is None:
        return Diagnosis(healthy=False, summary="the anomaly ranking could not be computed; no diagnosis")
    if not candidates:
        return Diagnosis(
            healthy=True,
            summary=f"nothing is wrong: no entity of {view.incident.namespace} moved beyond "
            f"{data.get('threshold')} robust sigmas since the onset; alert noise or a healthy peak",
        )
    hypotheses = []
    for rank, f in enumerate(candidates):
        add_kube_facts(f, view)
        verdict = classify(f)
        confidence = verdict.confidence if rank == 0 else round(verdict.confidence * 0.6, 2)
        evidence = [i for fact in verdict.facts for i in f.evidence.get(fact, [])]
        evidence = [i for i in dict.fromkeys(evidence) if i in view.evidence] or [
            i for i in f.evidence.get("rank", []) if i in view.evidence
        ]
        hypotheses.append(
            Hypothesis(
                entity=f.entity,
                entity_kind=f.entity_kind,
                service=f.service,
                fault_kind=verdict.kind,
                confidence=confidence,
                label=label_for(confidence),
                summary=f"{f.entity}: {verdict.kind.replace('_', ' ')} ({'; '.join(verdict.because)})",
                evidence=evidence,
                ruled_out=ruled_out(view, f),
            )
        )
    hypotheses.sort(key=lambda h: -h.confidence)
    top = hypotheses[0]
    return Diagnosis(
        healthy=False,
        summary=f"most likely {top.fault_kind} at {top.entity} ({top.label.lower()})",
        hypotheses=hypotheses,
    ).checked_against(set(view.evidence))


def ruled_out(view: PlannerView, f: Findings) -> list[str]:
    """What was checked and does not explain the incident: explained callers, harmless rollouts."""
    ranked = candidates_from_rank(view)
    explained = {c.service: c.explained_by for c in ranked if c.explained_by in (f.entity, f.service)}
    notes = [
        f"{c.entity} is anomalous too, but only through its dependency {c.explained_by}"
        for c in ranked
        if c.explained_by in (f.entity, f.service)
    ]
    for other in ranked:
        if other.entity == f.entity or other.service is None:
            continue
        add_kube_facts(other, view)
        age = other.revision_age_s
        if age is not None and age < -30 * 60 and other.score < STRONG:
            notes.append(
                f"{other.service} was deployed {-age / 60:.0f} min before the onset, but its signals are flat"
            )
    # Rollouts the namespace's events show, on workloads the ranking found quiet or explained by the
    # cause: the change an on-call engineer suspects first, checked and set aside.
    scores = {c.service: c.score for c in ranked if c.service}
    for deployment, when in recent_rollouts(view).items():
        score = scores.get(deployment, 0.0)
        if deployment == f.service or (score >= STRONG and deployment not in explained):
            continue
        if any(note.startswith(f"{deployment} was") for note in notes):
            continue
        minutes = (view.incident.as_of - when).total_seconds() / 60
        why = (
            f"its anomaly comes from its dependency {explained[deployment]}"
            if deployment in explained
            else f"its signals are flat ({score:.1f} robust sigmas)"
        )
        notes.append(f"{deployment} was rolled out {minutes:.0f} min before the investigation, but {why}")
    return notes[:6]


def recent_rollouts(view: PlannerView) -> dict[str, datetime]:
    """Deployments whose ReplicaSets were scaled (a rollout) in the events the investigation read."""
    found: dict[str, datetime] = {}
    for step in steps_of(view, "kube_events"):
        for event in rows(step.data.get("events")):
            if event.get("reason") != "ScalingReplicaSet" or event.get("object_kind") != "Deployment":
                continue
            when = parse_time(event.get("first_seen") or event.get("last_seen"))
            name = str(event.get("object_name") or "")
            if not name or when is None:
                continue
            found[name] = max(found.get(name, when), when)
    return found
