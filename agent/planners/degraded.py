"""The rules planner without metrics: when Prometheus cannot be read, carry on with what can be.

The first round is the usual one; if its anomaly ranking failed because the metrics backend is down
(or not configured), the rules planner hands the next rounds and the diagnosis to this module instead
of stopping with nothing:

- round 2 surveys the namespace: every pod, the events of the last two hours (rollouts, BackOff,
  evictions), the nodes' conditions, the trace graph over a baseline window to compare the first
  round's recent one with, and the slowest recent traces of the alerted service;
- round 3 reads, for the strongest suspects (`degraded_facts`), their rollout history and pods, the
  logs of their most troubled pod, and, when calls slowed down, the critical path of the slowest
  trace (where the time goes);
- the diagnosis classifies what Kubernetes shows (node conditions, OOMKilled, CrashLoopBackOff) as
  usual, calls failing calls right after a rollout a bad deploy, and leaves a suspect seen only in
  traces without a fault kind: the metrics that would tell a bad release from a network fault or a
  saturated service are the ones missing. No confidence exceeds DEGRADED_CONFIDENCE_CAP, and the
  graph lists the missing source in the diagnosis (`agent.missing_evidence`).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import JsonValue

from agent.diagnosis import DEGRADED_CONFIDENCE_CAP, Diagnosis, FaultKind, Hypothesis, label_for
from agent.missing_evidence import backend_failed
from agent.planners.classify import classify
from agent.planners.degraded_facts import (
    BASELINE_MINUTES,
    Suspect,
    TraceGraph,
    alerted_and_callees,
    deployment_of,
    namespace_pods,
    pod_problem,
    recent_rollouts,
    suspects,
    trace_graph,
)
from agent.planners.findings import RECENT_TRACE_MINUTES, Findings, add_kube_facts, num, rows, steps_of
from agent.planners.forecast import HORIZON, LOOKBACK
from agent.state import PlannerView

MAX_SUSPECTS = 2
FAILURE_WORDS = "error|exception|fail|invalid|fatal|panic|refused|timeout|oom|killed"
# Kinds Kubernetes shows by itself; any other verdict of `classify` stands on metrics it did not have.
KUBE_EVIDENT: set[FaultKind] = {"node_pressure", "memory_leak", "crashloop", "pod_failure"}
# Confidence of the verdicts this module makes itself (kube-evident ones keep classify's).
BAD_DEPLOY_CONFIDENCE = 0.6  # failing calls originate where a rollout happened within the hour
TRACES_ONLY_CONFIDENCE = {True: 0.45, False: 0.35}  # failing calls / only slower calls: kind unknown

Call = tuple[str, dict[str, JsonValue]]
LONG_LOOKBACK = "6h"  # the second ranking's window: a ramp of hours starts inside it
FORECAST_WINDOW: dict[str, JsonValue] = {"lookback": LOOKBACK, "horizon": HORIZON}
Rollouts = dict[str, tuple[datetime, list[str]]]


def metrics_unavailable(view: PlannerView) -> bool:
    """The anomaly ranking failed because its backend could not be read (not because of a bad call)."""
    ranking = steps_of(view, "rank_root_causes")  # ok and no_data only
    failed = [s for s in view.steps if s.call.tool == "rank_root_causes" and backend_failed(s)]
    return bool(failed) and not ranking


def plan_round(view: PlannerView, round_no: int) -> list[Call]:
    """The tool calls of round 2 (the survey) or round 3 (the suspects, most telling first); none after."""
    ns = view.incident.namespace
    if not ns or round_no not in (2, 3):
        return []
    traces_read = bool(steps_of(view, "service_dependencies"))  # the traces answered in round 1
    if round_no == 2:
        calls: list[Call] = [
            ("kube_pods", {"namespace": ns}),
            ("kube_events", {"namespace": ns, "lookback": "2h"}),
            ("kube_nodes", {}),
        ]
        if traces_read:
            calls.append(("service_dependencies", {"lookback_minutes": BASELINE_MINUTES}))
            calls += [
                ("find_traces", {"service": s, "lookback_minutes": RECENT_TRACE_MINUTES})
                for s in view.incident.services[:1]
            ]
        if not metrics_unavailable(view):  # the ranking ran and named nothing: are they saturated?
            # a slow ramp older than the ranking's window is in its baseline: rank again over a longer one
            calls.append(("rank_root_causes", {"namespace": ns, "lookback": LONG_LOOKBACK}))
            calls += [
                ("workload_saturation", {"workload": w, "namespace": ns}) for w in alerted_and_callees(view)
            ]
            calls += [  # and will they be soon? (`agent.planners.forecast`)
                ("forecast_saturation", {"workload": s, "namespace": ns, "resource": r, **FORECAST_WINDOW})
                for s in view.incident.services[:1]
                for r in ("memory", "cpu")
            ]
        return calls
    found = suspects(view)
    with_pods = {deployment_of(pod) for _, pod in namespace_pods(view)}
    services = [s.service for s in found if s.service and s.service in with_pods][:MAX_SUSPECTS]
    calls = []
    for service in services:
        calls += [
            ("kube_workload", {"namespace": ns, "name": service}),
            ("kube_pods", {"namespace": ns, "workload": service}),
        ]
        log = _most_troubled_pod(view, service) if len(calls) == 2 else None
        if log is not None:
            pod, previous = log
            calls.append(
                ("pod_logs", {"namespace": ns, "pod": pod, "previous": previous, "grep": FAILURE_WORDS})
            )
    slowest = [
        str(t.get("trace_id")) for s in steps_of(view, "find_traces") for t in rows(s.data.get("traces"))[:1]
    ]
    if slowest and any(s.slow_calls for s in found):
        calls.insert(min(len(calls), 3), ("trace_critical_path", {"trace_id": slowest[0]}))
    return calls


def _most_troubled_pod(view: PlannerView, service: str) -> tuple[str, bool] | None:
    """(pod, previous container?) of a restarting or unready pod of `service` (an evicted one has no
    log left to read); None if all are fine. A restarted container's last words are in its previous log."""
    for _, pod in namespace_pods(view):
        evicted = pod.get("reason") == "Evicted" or pod.get("phase") == "Failed"
        if deployment_of(pod) != service or evicted or pod_problem(pod) is None:
            continue
        restarted = any(num(c.get("restart_count")) > 0 for c in rows(pod.get("containers")))
        return str(pod.get("name")), restarted
    return None


def diagnose_without_metrics(view: PlannerView) -> Diagnosis:
    """Hypotheses from Kubernetes and traces only, best first, none above DEGRADED_CONFIDENCE_CAP."""
    found = diagnose_from_survey(view, "without metrics")
    if found is not None:
        return found
    return Diagnosis(
        healthy=False,
        summary="without metrics, nothing in Kubernetes or the traces stands out; "
        "no diagnosis (it needs the missing evidence)",
    )


def diagnose_from_survey(view: PlannerView, context: str) -> Diagnosis | None:
    """Hypotheses from the namespace survey (Kubernetes and traces), best first, none above
    DEGRADED_CONFIDENCE_CAP; None when nothing in it stands out. `context` says why the survey
    was needed ("without metrics", "the ranking found nothing")."""
    every = suspects(view)
    found = every[: MAX_SUSPECTS + 1]
    rollouts = recent_rollouts(view)
    ruled_out = _ruled_out(view, {s.service for s in every if s.service}, rollouts, trace_graph(view))
    hypotheses = [_hypothesis(view, s, rollouts, rank, ruled_out) for rank, s in enumerate(found)]
    hypotheses.sort(key=lambda h: -h.confidence)
    if not hypotheses:
        return None
    top = hypotheses[0]
    what = top.fault_kind or "a fault of unknown kind"
    return Diagnosis(
        healthy=False,
        summary=f"{context}: most likely {what} at {top.entity} ({top.label.lower()})",
        hypotheses=hypotheses,
    ).checked_against(set(view.evidence))


def _hypothesis(
    view: PlannerView, suspect: Suspect, rollouts: Rollouts, rank: int, ruled_out: list[str]
) -> Hypothesis:
    f = Findings(entity=suspect.entity, entity_kind=suspect.entity_kind, service=suspect.service)
    add_kube_facts(f, view)
    verdict = classify(f)
    evidence = list(suspect.evidence)
    because = suspect.because + suspect.seen_in_traces
    rollout = rollouts.get(suspect.service or "")
    kind: FaultKind | None
    if (verdict.kind in KUBE_EVIDENT and (f.entity_kind != "service" or _kube_shows(f))) or (
        verdict.kind == "cpu_hog" and (f.cpu_at_limit or f.throttled)  # the pods' own saturation
    ):
        kind, confidence = verdict.kind, verdict.confidence
        because = verdict.because + suspect.seen_in_traces
        evidence += [i for fact in verdict.facts for i in f.evidence.get(fact, []) if i not in evidence]
    elif rollout is not None and (suspect.failing_calls or suspect.slow_calls):
        kind, confidence = "bad_deploy", BAD_DEPLOY_CONFIDENCE - 0.1 * (not suspect.failing_calls)
        because.append(f"rolled out at {rollout[0]:%H:%M}, within the hour before")
        evidence += [i for i in rollout[1] + f.evidence.get("rollout", []) if i not in evidence]
    else:
        kind, confidence = None, TRACES_ONLY_CONFIDENCE[suspect.failing_calls]
        because.append("without metrics the kind of fault cannot be told")
    confidence = round(min(confidence, DEGRADED_CONFIDENCE_CAP) * (1.0 if rank == 0 else 0.8), 2)
    evidence = [i for i in dict.fromkeys(evidence) if i in view.evidence]
    return Hypothesis(
        entity=suspect.entity,
        entity_kind=suspect.entity_kind,
        service=suspect.service,
        fault_kind=kind,
        confidence=confidence,
        label=label_for(confidence),
        summary=f"{suspect.entity}: {(kind or 'unknown fault').replace('_', ' ')} ({'; '.join(because)})",
        evidence=evidence,
        ruled_out=ruled_out,
    )


def _kube_shows(f: Findings) -> bool:
    """The pods of a service show the fault themselves (not only a metric that is missing)."""
    return f.oom_killed or f.crashlooping or f.restarts > 0 or f.evicted_pods > 0


def _ruled_out(view: PlannerView, suspected: set[str], rollouts: Rollouts, graph: TraceGraph) -> list[str]:
    """Recent rollouts of workloads that are no suspect, and why each is set aside."""
    notes = []
    for name, (when, _) in sorted(rollouts.items()):
        if name in suspected:
            continue
        deeper = graph.callees(graph.failing | graph.slow, name)
        if graph.callers(graph.failing | graph.slow, name) and deeper:
            why = f"its callers' failures or waits come from its own calls to {', '.join(deeper)}"
        else:
            why = "the traces show no failing or slower call to it"
        troubled = [pod for _, pod in namespace_pods(view) if deployment_of(pod) == name and pod_problem(pod)]
        why += (
            ", and its troubled pods run on a node with a bad condition"
            if troubled
            else ", and its pods are healthy"
        )
        notes.append(f"{name} was rolled out at {when:%H:%M}, but {why}")
    return notes[:4]
