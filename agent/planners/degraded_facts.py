"""Suspects without metrics: what Kubernetes and the traces say about who is failing, read from steps.

Used by `agent.planners.degraded` when Prometheus cannot be read. Four kinds of fact, most specific
first: a node with a bad condition, a workload whose pods crash, restart or are not ready, a service
where failing calls originate (its callers' calls to it fail more now than over the baseline window,
its own calls do not), and a service where slow calls originate (the same, for the median latency).
The baseline is the same trace graph over a longer window (`BASELINE_MINUTES`), which mostly precedes
an incident younger than an hour. Thresholds are general ratios, never per service or scenario.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field, JsonValue

from agent.diagnosis import EntityKind
from agent.planners.findings import RECENT_TRACE_MINUTES, num, parse_time, rows, steps_of
from agent.state import PlannerView, Step
from tools.metrics.saturation import CPU_AT_LIMIT, CPU_THROTTLED, MEMORY_AT_LIMIT

BASELINE_MINUTES = 120
FAILING_RATIO = 0.05  # an edge failing at least this often now ...
FAILING_GROWTH = 1.5  # ... and this many times more than over the baseline window
SLOW_GROWTH = 1.5  # an edge whose median latency grew this much ...
SLOW_MIN_MS = 20.0  # ... and by at least this many milliseconds
ROLLOUT_WINDOW = timedelta(hours=1)  # a rollout this recent is a suspect's likely trigger
MAX_SATURATION_CHECKS = 4  # the alerted service and its first callees
SATURATION_FLAGS = (CPU_AT_LIMIT, CPU_THROTTLED, MEMORY_AT_LIMIT)


class Suspect(BaseModel):
    """One entity worth a hypothesis, with what was seen and the evidence ids that show it."""

    entity: str
    entity_kind: EntityKind = "service"
    service: str | None = None
    weight: float = Field(0.0, description="orders suspects only: kube-evident first, then traces")
    because: list[str] = Field(default_factory=list, description="what Kubernetes shows, in words")
    seen_in_traces: list[str] = Field(default_factory=list, description="what the traces show, in words")
    evidence: list[str] = Field(default_factory=list)
    failing_calls: bool = False
    slow_calls: bool = False

    def add(self, weight: float, because: str, evidence: list[str], *, traces: bool = False) -> None:
        self.weight += weight
        (self.seen_in_traces if traces else self.because).append(because)
        self.evidence += [e for e in evidence if e not in self.evidence]

    def merge(self, other: Suspect) -> None:
        self.weight += other.weight
        self.because += other.because
        self.seen_in_traces += other.seen_in_traces
        self.evidence += [e for e in other.evidence if e not in self.evidence]
        self.failing_calls |= other.failing_calls
        self.slow_calls |= other.slow_calls


def deployment_of(pod: dict[str, JsonValue]) -> str | None:
    """The Deployment a pod belongs to: its name before `-<pod-template-hash>-` (ReplicaSet pods only)."""
    labels = pod.get("labels")
    template_hash = labels.get("pod-template-hash") if isinstance(labels, dict) else None
    name = str(pod.get("name") or "")
    if not template_hash or f"-{template_hash}-" not in name:
        return None
    return name.split(f"-{template_hash}-", 1)[0]


def pod_problem(pod: dict[str, JsonValue]) -> str | None:
    """What is wrong with a pod, in words, or None when it runs ready without restarts."""
    if pod.get("reason") == "Evicted" or pod.get("phase") == "Failed":
        return f"{pod.get('reason') or 'Failed'}"
    containers = rows(pod.get("containers"))
    states = [str(c.get("state")) for c in containers]
    restarts = sum(int(num(c.get("restart_count"))) for c in containers)
    reasons = {str(c.get("last_termination_reason")) for c in containers if c.get("last_termination_reason")}
    if any("CrashLoopBackOff" in s for s in states):
        return f"CrashLoopBackOff, {restarts} restarts" + (
            f" ({', '.join(sorted(reasons))})" if reasons else ""
        )
    if restarts:
        return f"{restarts} restarts" + (f" ({', '.join(sorted(reasons))})" if reasons else "")
    if pod.get("phase") != "Running" or not all(c.get("ready") for c in containers):
        return f"not ready ({pod.get('phase')})"
    return None


def namespace_pods(view: PlannerView) -> list[tuple[Step, dict[str, JsonValue]]]:
    """Pods from listings of the whole namespace (not those filtered to a workload or a node)."""
    return [
        (step, pod)
        for step in steps_of(view, "kube_pods")
        if not step.call.args.get("workload") and not step.call.args.get("node")
        for pod in rows(step.data.get("pods"))
    ]


class TraceGraph(BaseModel):
    """The first round's trace graph beside the baseline one: which calls fail or slowed down now."""

    recent: dict[str, dict[str, JsonValue]] = Field(
        default_factory=dict, description="`caller->callee` -> edge"
    )
    baseline: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)
    evidence: dict[str, list[str]] = Field(default_factory=dict, description="`caller->callee` -> ids")
    failing: set[str] = Field(default_factory=set)
    slow: set[str] = Field(default_factory=set)

    def callers(self, edges: set[str], service: str) -> list[str]:
        return sorted(k.split("->")[0] for k in edges if k.split("->")[1] == service)

    def callees(self, edges: set[str], service: str) -> list[str]:
        return sorted(k.split("->")[1] for k in edges if k.split("->")[0] == service)


def _edges(view: PlannerView, minutes: int) -> tuple[Step | None, dict[str, dict[str, JsonValue]]]:
    found = [
        s
        for s in steps_of(view, "service_dependencies")
        if s.status == "ok"
        and s.call.args.get("lookback_minutes") == minutes
        and not s.call.args.get("service")
    ]
    if not found:
        return None, {}
    step = found[-1]
    return step, {f"{e.get('caller')}->{e.get('callee')}": e for e in rows(step.data.get("edges"))}


def trace_graph(view: PlannerView) -> TraceGraph:
    """Edges failing (FAILING_RATIO, FAILING_GROWTH) or slower (SLOW_GROWTH, SLOW_MIN_MS) than over
    the baseline window; empty when the traces were not read."""
    step, recent = _edges(view, RECENT_TRACE_MINUTES)
    _, baseline = _edges(view, BASELINE_MINUTES)
    graph = TraceGraph(recent=recent, baseline=baseline)
    for key, edge in recent.items():
        before = baseline.get(key, {})
        ratio, ratio_before = num(edge.get("error_ratio")), num(before.get("error_ratio"))
        if ratio >= FAILING_RATIO and ratio >= FAILING_GROWTH * ratio_before:
            graph.failing.add(key)
        p50 = num(edge.get("p50_ms"))
        p50_before = num(before.get("p50_ms"), p50)
        if p50 >= SLOW_GROWTH * p50_before and p50 - p50_before >= SLOW_MIN_MS:
            graph.slow.add(key)
        # only failing edges have evidence of their own (service_dependencies cites those)
        graph.evidence[key] = [e for e in (step.evidence if step else []) if f":{key}:" in e]
    return graph


def trace_suspects(view: PlannerView, graph: TraceGraph) -> list[Suspect]:
    """Services where failing or slow calls originate: their callers' calls to them fail or slowed
    down, their own calls did not (else they only pass on what a dependency does)."""
    out: dict[str, Suspect] = {}
    for edges, failing in ((graph.failing, True), (graph.slow, False)):
        for callee in sorted({k.split("->")[1] for k in edges}):
            if graph.callees(edges, callee):
                continue
            suspect = out.setdefault(callee, Suspect(entity=callee, service=callee))
            for caller in graph.callers(edges, callee):
                key = f"{caller}->{callee}"
                edge, before = graph.recent[key], graph.baseline.get(key, {})
                if failing:
                    suspect.failing_calls = True
                    ratio = num(edge.get("error_ratio"))
                    suspect.add(
                        40 + 100 * ratio,
                        f"{caller} → {callee} fails {ratio:.0%} of calls "
                        f"(traces; {num(before.get('error_ratio')):.0%} over {BASELINE_MINUTES} min)",
                        graph.evidence.get(key, []),
                        traces=True,
                    )
                else:
                    suspect.slow_calls = True
                    suspect.add(
                        20,
                        f"{caller} → {callee} median {num(edge.get('p50_ms')):.0f} ms "
                        f"(traces; {num(before.get('p50_ms')):.0f} ms over {BASELINE_MINUTES} min)",
                        [],
                        traces=True,
                    )
    _add_critical_path(view, graph, out)
    return list(out.values())


def _add_critical_path(view: PlannerView, graph: TraceGraph, found: dict[str, Suspect]) -> None:
    """Slow-call suspects on the critical path of the slowest alerted trace cite it: the time is
    spent in the suspect's spans, or in a slow caller's span waiting on it."""
    for step in steps_of(view, "trace_critical_path"):
        bottleneck = step.data.get("bottleneck")
        if step.status != "ok" or not isinstance(bottleneck, dict):
            continue
        service, share = str(bottleneck.get("service")), num(bottleneck.get("share"))
        for suspect in found.values():
            waiting = service in graph.callers(graph.slow, suspect.entity)
            if suspect.slow_calls and (service == suspect.entity or waiting) and share >= 0.3:
                suspect.add(
                    10,
                    f"the slowest traced request spends {num(bottleneck.get('critical_ms')):.0f} ms "
                    f"({share:.0%}) in {service} {bottleneck.get('name')}",
                    step.evidence,
                    traces=True,
                )


def kube_suspects(view: PlannerView) -> list[Suspect]:
    """Nodes with a bad condition and workloads with unhealthy pods, from the namespace survey."""
    out: dict[str, Suspect] = {}
    for step in steps_of(view, "kube_nodes"):
        for node in rows(step.data.get("nodes")):
            bad = [
                str(c.get("type"))
                for c in rows(node.get("conditions"))
                if c.get("status") != ("True" if c.get("type") == "Ready" else "False")
            ]
            if bad:
                entity = f"node/{node.get('name')}"
                suspect = out.setdefault(entity, Suspect(entity=entity, entity_kind="node"))
                ids = [e for e in step.evidence if f":node:{node.get('name')}:" in e]
                suspect.add(100, f"node condition {', '.join(bad)}", ids)
    for step, pod in namespace_pods(view):
        problem, workload = pod_problem(pod), deployment_of(pod)
        if problem is None or workload is None or f"node/{pod.get('node')}" in out:
            continue  # a pod on a node with a bad condition is the node's doing
        suspect = out.setdefault(workload, Suspect(entity=workload, service=workload))
        ids = [e for e in step.evidence if f":pod:{pod.get('name')}:" in e] or step.evidence[:1]
        suspect.add(60 if not suspect.because else 5, f"pod {pod.get('name')}: {problem}", ids)
    return list(out.values())


def recent_rollouts(view: PlannerView) -> dict[str, tuple[datetime, list[str]]]:
    """Deployments rolled out within ROLLOUT_WINDOW before as_of (events and rollout histories)."""
    since = view.incident.as_of - ROLLOUT_WINDOW
    found: dict[str, tuple[datetime, list[str]]] = {}

    def seen(name: str, when: datetime | None, evidence: list[str]) -> None:
        recent = when is not None and since <= when <= view.incident.as_of
        if name and when is not None and recent and (name not in found or when > found[name][0]):
            found[name] = (when, evidence)

    for step in steps_of(view, "kube_events"):
        for event in rows(step.data.get("events")):
            if event.get("reason") == "ScalingReplicaSet" and event.get("object_kind") == "Deployment":
                when = parse_time(event.get("first_seen") or event.get("last_seen"))
                seen(str(event.get("object_name") or ""), when, step.evidence[:1])
    for step in steps_of(view, "kube_workload"):
        revisions = rows(step.data.get("revisions"))
        stamps = [t for t in (parse_time(r.get("created")) for r in revisions[1:]) if t is not None]
        seen(str(step.call.args.get("name") or ""), max(stamps, default=None), step.evidence[-1:])
    return found


def alerted_and_callees(view: PlannerView) -> list[str]:
    """The alerted services and the services they call (recent traces), at most MAX_SATURATION_CHECKS:
    where a slow creep the ranking's window cannot see would first saturate."""
    alerted = list(view.incident.services)
    graph = trace_graph(view)
    callees = [c for s in alerted for c in graph.callees(set(graph.recent), s)]
    return list(dict.fromkeys(alerted + callees))[:MAX_SATURATION_CHECKS]


def saturation_suspects(view: PlannerView) -> list[Suspect]:
    """Workloads whose pods run at a CPU or memory limit or are throttled (`workload_saturation`)."""
    out: dict[str, Suspect] = {}
    for step in steps_of(view, "workload_saturation"):
        workload = str(step.call.args.get("workload") or "")
        for pod in rows(step.data.get("pods")):
            flags = [f for f in SATURATION_FLAGS if f in str(pod.get("flags"))]
            if workload and flags:
                suspect = out.setdefault(workload, Suspect(entity=workload, service=workload))
                suspect.add(
                    40 if not suspect.because else 2,
                    f"pod {pod.get('pod')}: {', '.join(flags)}",
                    step.evidence[:2],
                )
    return list(out.values())


def suspects(view: PlannerView) -> list[Suspect]:
    """Every suspect, facts about the same entity merged, the strongest first (ties by name)."""
    merged: dict[str, Suspect] = {}
    for suspect in kube_suspects(view) + saturation_suspects(view) + trace_suspects(view, trace_graph(view)):
        if suspect.entity not in merged:
            merged[suspect.entity] = suspect
            continue
        merged[suspect.entity].merge(suspect)
    return sorted(merged.values(), key=lambda s: (-s.weight, s.entity))
