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
from tools.metrics.saturation import CPU_AT_LIMIT, CPU_THROTTLED, MEMORY_AT_LIMIT
from tools.metrics.units import describe_change

CONFIG_ERROR = re.compile(
    r"config|invalid|missing|parse|unknown (key|option|field)|not set|environment", re.I
)
# What a crash or a broken release writes: the line an on-call engineer looks for first.
EXCEPTION = re.compile(r"exception|traceback|panic|fatal|segfault|stack ?trace|unhandled", re.I)
EXCERPT_CHARS = 240
RECENT_TRACE_MINUTES = 15  # the trace window of the rules planner's first round: the recent calls
NEAR_ONSET_S = 15 * 60.0  # a rollout this close before (or soon after) the onset counts as its trigger


class Findings(BaseModel):
    """What the investigation established about one candidate."""

    entity: str
    entity_kind: EntityKind = "service"
    service: str | None = None
    score: float = 0.0
    explained_by: str | None = None
    sigmas: dict[str, float] = Field(default_factory=dict, description="ranked signal -> signed sigmas")
    changes: dict[str, str] = Field(
        default_factory=dict, description="ranked signal -> its change in units, e.g. error ratio 0 % → 31 %"
    )
    sources: dict[str, str] = Field(
        default_factory=dict,
        description="ranked signal -> the telemetry it came from (metrics, traces, logs)",
    )
    kinds: dict[str, str] = Field(
        default_factory=dict, description="ranked signal -> its kind (errors, latency, …)"
    )
    baselines: dict[str, float] = Field(
        default_factory=dict, description="ranked signal -> its level before the onset, in its unit"
    )
    traffic_ratio: float | None = None
    callers_wait_ms: float | None = Field(
        None, description="the median time its callers waited on it of late (their client spans), ms"
    )
    has_workload: bool | None = None
    revision_age_s: float | None = Field(
        None, description="when the newest revision became current, minus the onset"
    )
    older_revision_age_s: float | None = None
    restarts: int = 0
    crashlooping: bool = False
    oom_killed: bool = False
    error_terminations: bool = False
    evicted_pods: int = 0
    pods_checked: int = Field(0, description="pods listed for its workload or on its node")
    config_error_logs: bool = False
    error_logs: bool = Field(False, description="an exception, stack trace or fatal error in its logs")
    log_excerpt: str | None = Field(None, description="the log line that says most about the fault")
    memory_at_limit: bool = False
    cpu_at_limit: bool = False
    throttled: bool = False
    node_conditions: list[str] = Field(default_factory=list)
    evidence: dict[str, list[str]] = Field(default_factory=dict, description="fact -> evidence ids")

    def cite(self, fact: str, ids: list[str]) -> None:
        self.evidence.setdefault(fact, []).extend(i for i in ids if i not in self.evidence[fact])

    def signal(self, name: str) -> float:
        return self.sigmas.get(name, 0.0)

    def strongest(self, source: str, kinds: tuple[str, ...], prefix: str = "") -> tuple[float, str | None]:
        """The highest score among the ranked signals of one source and kinds (and name prefix), and
        that signal's name; (0, None) when none moved."""
        found = [
            (score, name)
            for name, score in self.sigmas.items()
            if self.sources.get(name, "metrics") == source
            and self.kinds.get(name) in kinds
            and name.startswith(prefix)
        ]
        return max(found, default=(0.0, None), key=lambda x: abs(x[0]))

    def change(self, name: str) -> list[str]:
        """The signal's change in units, as a list to splice into reasons (empty when it did not move)."""
        return [self.changes[name]] if name in self.changes else []


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
                source = str(sig.get("source") or "metrics")
                # one trace or log signal name covers many rows (a template each): the detail tells them apart
                name = (
                    str(sig["signal"])
                    if source == "metrics"
                    else f"{sig['signal']}|{sig.get('detail') or ''}"
                )
                f.sources[name] = source
                f.kinds[name] = str(sig.get("kind") or "other")
                f.sigmas[name] = num(sig.get("sigmas"))
                baseline, peak = sig.get("baseline"), sig.get("peak")
                if baseline is not None:
                    f.baselines[name] = num(baseline)
                f.changes[name] = str(
                    sig.get("change")
                    or describe_change(name, num(baseline) if baseline is not None else None, num(peak))
                )
        f.cite("rank", _rank_evidence(step, f.entity))
        out.append(f)
    return out


def onset_of(view: PlannerView) -> datetime | None:
    data = rank_data(view)
    return parse_time(data.get("onset")) if data else None


def add_kube_facts(f: Findings, view: PlannerView) -> None:
    """Rollouts, pod states, saturation, logs, node conditions and its callers' waits (traces) that
    concern `f`'s service or node."""
    onset = onset_of(view)
    service = f.service
    for step in steps_of(view, "kube_workload"):
        if step.call.args.get("name") != service:
            continue
        f.has_workload = step.status == "ok"
        # Newest revision last; its age runs from when it became current (a rollback reuses an old
        # ReplicaSet, whose creation time says nothing about the rollback). Unknown stays unknown.
        revisions = rows(step.data.get("revisions"))
        became = [parse_time(r.get("became_current")) for r in revisions]
        if became and onset is not None:
            newest, older = became[-1], became[-2] if len(became) > 1 else None
            f.revision_age_s = (newest - onset).total_seconds() if newest else None
            f.older_revision_age_s = (older - onset).total_seconds() if older else None
        f.cite("rollout", step.evidence[-1:])
    for step in steps_of(view, "kube_pods"):
        if step.call.args.get("workload") != service and not (
            f.entity_kind == "node" and step.call.args.get("node") == f.entity.removeprefix("node/")
        ):
            continue
        for pod in rows(step.data.get("pods")):
            f.pods_checked += 1
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
            f.memory_at_limit |= MEMORY_AT_LIMIT in flags
            f.cpu_at_limit |= CPU_AT_LIMIT in flags
            f.throttled |= CPU_THROTTLED in flags
            f.oom_killed |= bool(pod.get("oom_killed"))
        f.cite("saturation", step.evidence[:2])
    add_log_facts(f, view)
    add_callers_wait(f, view)
    for step in steps_of(view, "kube_nodes"):
        for node in rows(step.data.get("nodes")):
            if f"node/{node.get('name')}" != f.entity:
                continue
            for cond in rows(node.get("conditions")):
                healthy = "True" if cond.get("type") == "Ready" else "False"
                if cond.get("status") != healthy:
                    f.node_conditions.append(str(cond.get("type")))
            f.cite("node", [e for e in step.evidence if f":node:{node.get('name')}:" in e])


def add_callers_wait(f: Findings, view: PlannerView) -> None:
    """The median wait of calls to `f`'s service of late, pooled over its callers (each edge's median
    weighted by its calls), from the recent trace graph; None without traces of calls to it."""
    edges = [
        (e, step)
        for step in steps_of(view, "service_dependencies")
        if step.call.args.get("lookback_minutes") == RECENT_TRACE_MINUTES
        and not step.call.args.get("service")
        for e in rows(step.data.get("edges"))
        if f.service and e.get("callee") == f.service and num(e.get("calls")) > 0
    ]
    calls = sum(num(e.get("calls")) for e, _ in edges)
    if not edges or calls <= 0:
        return
    f.callers_wait_ms = sum(num(e.get("p50_ms")) * num(e.get("calls")) for e, _ in edges) / calls
    for edge, step in edges:
        key = f":{edge.get('caller')}->{f.service}:"
        f.cite("callers_wait", [i for i in step.evidence if key in i])


def add_log_facts(f: Findings, view: PlannerView) -> None:
    """Error lines in the logs of `f`'s pods: a configuration error, an exception or crash, and the one
    line that says most about it (an exception naming the release before a generic error line)."""
    service = f.service
    for step in steps_of(view, "pod_logs"):
        pod_name = str(step.call.args.get("pod") or "")
        if not service or not pod_name.startswith(f"{service}-") or step.status != "ok":
            continue
        raw = step.data.get("lines")
        lines = [str(x) for x in raw] if isinstance(raw, list) else []
        config = [x for x in lines if CONFIG_ERROR.search(x)]
        crash = [x for x in lines if EXCEPTION.search(x)]
        f.config_error_logs |= bool(config)
        f.error_logs |= bool(crash)
        best = (crash or config)[-1:]  # the newest of the most telling kind
        if best:
            f.cite("logs", step.evidence)
            if f.log_excerpt is None:
                f.log_excerpt = best[0].strip()[:EXCERPT_CHARS]
