"""The deterministic `rules` planner: investigates in rounds like an SRE, then classifies the evidence.

Round 1: golden signals of the alerted services, the dependency graph from traces, the anomaly
ranking of the namespace, the firing alerts. Round 2: for the top candidates (the ranking's best
unexplained entities and the deepest anomalous dependency), rollout history, pods, saturation,
events and nodes. Round 3: the logs of the top candidate's unhealthy pod. Then done. When the ranking
failed because Prometheus could not be read, or named no candidate, rounds 2 and 3 survey the
namespace instead (`agent.planners.degraded`: Kubernetes, traces and logs) and the diagnosis comes
from that survey (`agent.planners.look_further`: never "nothing is wrong" without looking).

Nothing here knows a service, namespace or scenario name; the same view always gives the same plan.
"""

from __future__ import annotations

from pydantic import JsonValue

from agent.diagnosis import Diagnosis, Hypothesis, label_for
from agent.planner import DiagnosisResult, Plan
from agent.planners.classify import STRONG, classify, deployed_at_onset
from agent.planners.degraded import diagnose_without_metrics, metrics_unavailable, plan_round
from agent.planners.findings import (
    RECENT_TRACE_MINUTES,
    Findings,
    add_kube_facts,
    candidates_from_rank,
    num,
    rank_data,
    rows,
    steps_of,
)
from agent.planners.look_further import diagnose_unranked
from agent.planners.memory_check import memory_call_args, weigh_memory
from agent.planners.ruled_out import ruled_out
from agent.state import PlannerView, ToolCall
from tools.metrics.units import fmt_sigmas

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


def log_target(view: PlannerView, f: Findings) -> tuple[str, bool] | None:
    """The pod whose log says most about `f`, and whether to read its previous container: one that
    restarted (the crash is in the previous container's log), else, when a rollout right before the
    onset is suspected, a pod of the newest revision (the new release's errors are in its own log)."""
    pods = [
        pod
        for step in steps_of(view, "kube_pods")
        if f.service is not None and step.call.args.get("workload") == f.service
        for pod in rows(step.data.get("pods"))
    ]
    for pod in pods:
        if any(num(c.get("restart_count")) > 0 for c in rows(pod.get("containers"))):
            return str(pod["name"]), True
    add_kube_facts(f, view)
    if not pods or not deployed_at_onset(f):
        return None
    newest = [
        str(r.get("replicaset") or "")
        for step in steps_of(view, "kube_workload")
        if step.call.args.get("name") == f.service
        for r in rows(step.data.get("revisions"))[-1:]
    ]
    fresh = [p for p in pods if newest and newest[-1] and str(p["name"]).startswith(f"{newest[-1]}-")]
    return str((fresh or pods)[0]["name"]), False


class RulesPlanner:
    """A fixed investigation and a rule-based diagnosis; no model, no randomness."""

    name = "rules"

    def __init__(self, *, recall: bool = False) -> None:
        # recall: a memory of past incidents is configured; ask it once there is a candidate
        self.recall = recall

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
            add("service_dependencies", lookback_minutes=RECENT_TRACE_MINUTES)
            if ns:
                add("rank_root_causes", namespace=ns)
            add("firing_alerts")
            return calls
        if not ns:
            return []
        candidates = top_candidates(view)
        # No metrics, or nothing the ranking can name: survey the namespace instead (look_further.py).
        if metrics_unavailable(view) or (rank_data(view) is not None and not candidates):
            return [
                _call(round_no, tool, args, n) for n, (tool, args) in enumerate(plan_round(view, round_no))
            ]
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
        # round 3: the logs of the top candidate's most telling pod
        target = log_target(view, candidates[0]) if candidates else None
        if target is not None:
            pod, previous = target
            add("pod_logs", namespace=ns, pod=pod, previous=previous, grep=LOG_GREP)
        memory_args = self._memory_args(view, candidates)
        if memory_args is not None:
            add("similar_incidents", **memory_args)
        return calls

    def _memory_args(self, view: PlannerView, candidates: list[Findings]) -> dict[str, JsonValue] | None:
        """Past incidents like this one, asked with the top candidate's fault kind as it stands now."""
        if not self.recall or not candidates:
            return None
        top = top_candidates(view)[0]  # a fresh copy: kube facts are added to it once
        add_kube_facts(top, view)
        return memory_call_args(view, classify(top).kind)

    def diagnose(self, view: PlannerView) -> DiagnosisResult:
        return DiagnosisResult(diagnosis=weigh_memory(diagnose(view), view))


def diagnose(view: PlannerView) -> Diagnosis:
    """Hypotheses for the candidates, best first, or healthy when nothing stands out. Each cites the
    facts that hold (a rollout at the onset, pod states, saturation, logs, a node condition) and the
    ranking; a secondary one that has nothing but the ranking is dropped (`checked_against`)."""
    data = rank_data(view)
    candidates = top_candidates(view)
    if data is None and metrics_unavailable(view):
        return diagnose_without_metrics(view)
    if data is None:
        return Diagnosis(healthy=False, summary="the anomaly ranking could not be computed; no diagnosis")
    if not candidates:
        return diagnose_unranked(view, _healthy_summary(view, data), _largest_change(view))
    hypotheses = []
    for rank, f in enumerate(candidates):
        add_kube_facts(f, view)
        verdict = classify(f)

        def observed(fact: str, f: Findings = f) -> list[str]:
            return [i for i in f.evidence.get(fact, []) if i in view.evidence]

        # only facts that hold are cited: a second hypothesis left with the ranking alone is dropped
        own = [i for fact in verdict.own_facts for i in observed(fact)]
        confidence = verdict.confidence if rank == 0 else round(verdict.confidence * 0.6, 2)
        hypotheses.append(
            Hypothesis(
                entity=f.entity,
                entity_kind=f.entity_kind,
                service=f.service,
                fault_kind=verdict.kind,
                confidence=confidence,
                label=label_for(confidence),
                summary=f"{f.entity}: {(verdict.kind or 'application error').replace('_', ' ')}: "
                + "; ".join(verdict.because),
                evidence=list(dict.fromkeys(own + observed("rank"))),
                ruled_out=ruled_out(view, f),
            )
        )
    hypotheses.sort(key=lambda h: -h.confidence)
    top = hypotheses[0]
    return Diagnosis(
        healthy=False,
        summary=f"most likely {top.fault_kind or 'an application error'} at {top.entity} ({top.label.lower()})",
        hypotheses=hypotheses,
    ).checked_against(set(view.evidence))


def _largest_change(view: PlannerView) -> str:
    """How far the ranking's largest change went, in units, so a reader can judge; "" when none moved."""
    ranked = candidates_from_rank(view)
    largest = next((c for c in ranked if c.changes), None)
    if largest is None:
        return ""
    return f"largest change: {largest.entity} {next(iter(largest.changes.values()))}, score {fmt_sigmas(largest.score)}"


def _healthy_summary(view: PlannerView, data: dict[str, JsonValue]) -> str:
    """Nothing stood out: say so with the largest change, in units. Only a question gets this verdict
    (with an alert firing, `diagnose_unranked` escalates instead), so it blames no alert."""
    largest = _largest_change(view)
    detail = f" ({largest})" if largest else ""
    return (
        f"no entity of {view.incident.namespace} moved beyond "
        f"{fmt_sigmas(num(data.get('threshold')))} since the onset{detail}"
    )
