"""Kubernetes read tools: a workload and its rollout history, pods, events (nodes: `tools.kube.nodes`).

Kubernetes only has the present, but tools still honour as_of where the API keeps time: revisions and
events after as_of are left out (and counted), so a replay does not see the future.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tools.context import ToolContext
from tools.contract import Evidence, ToolResult, evidence_id, tool
from tools.errors import BackendError, UnknownEntity
from tools.kube.client import KubeReader
from tools.kube.models import Pod
from tools.kube.revisions import template_changes
from tools.kube.rollout_history import (
    RolloutRevision,
    deployment_events,
    owned_replicasets,
    rollout_history,
)
from tools.metrics.golden import closest_names
from tools.metrics.templates import DURATION_PATTERN, NAME_PATTERN, duration_seconds
from tools.redact import redact
from tools.summary import bounded_summary


def kube_reader(ctx: ToolContext) -> KubeReader:
    if ctx.kube is None:
        raise BackendError(
            "no Kubernetes access is configured (set MEDIC_KUBECONFIG or KUBECONFIG, or MEDIC_KUBE_IN_CLUSTER)"
        )
    return ctx.kube


def kube_evidence(tool_name: str, subject: str, description: str, *key: object) -> Evidence:
    return Evidence(
        id=evidence_id("kube", tool_name, subject, *key), source="kubernetes", description=description
    )


def _visible(
    history: list[RolloutRevision], as_of: datetime
) -> tuple[list[RolloutRevision], list[RolloutRevision]]:
    """(revisions current by as_of, revisions after it). A revision whose time is unknown is dated by
    the latest known time before it: it cannot have become current earlier."""
    shown: list[RolloutRevision] = []
    later: list[RolloutRevision] = []
    floor: datetime | None = None
    for rev in history:
        floor = rev.became_current or floor
        (later if floor is not None and floor > as_of else shown).append(rev)
    return shown, later


def _when(rev: RolloutRevision, as_of: datetime) -> str:
    restored = f"; a rollback to rev {rev.restores}'s template" if rev.restores is not None else ""
    if rev.became_current is None:
        created = rev.created.isoformat() if rev.created else "?"
        return f"? (unknown when it became current; its ReplicaSet was created {created}{restored})"
    minutes = (as_of - rev.became_current).total_seconds() / 60
    return f"{rev.became_current.isoformat()} ({minutes:.0f} min before as_of{restored})"


class WorkloadInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(pattern=NAME_PATTERN)
    name: str = Field(pattern=NAME_PATTERN, description="Deployment name")


@tool(effect="read")
def kube_workload(ctx: ToolContext, args: WorkloadInput) -> ToolResult:
    """A Deployment's replicas and conditions, and its rollout history up to the investigation's instant:
    each revision, when it became current (a rollback reuses an old ReplicaSet, so this is not its
    creation time), whether it restored an earlier revision, and what changed (image, env, resources,
    args)."""
    kube = kube_reader(ctx)
    try:
        dep = kube.get_deployment(args.namespace, args.name)
    except UnknownEntity:
        names = [d.name for d in kube.list_deployments(args.namespace)]
        raise UnknownEntity(
            f"no deployment {args.namespace}/{args.name}", closest_names(args.name, names)
        ) from None
    replicasets = owned_replicasets(kube, dep)
    events = deployment_events(kube, dep)
    history, later = _visible(rollout_history(dep, replicasets, events or []), ctx.as_of)
    containers = {r.name: r.containers for r in replicasets}
    current_replicas = {r.name: r.replicas for r in replicasets}
    revisions: list[JsonValue] = []
    lines = []
    for prev, cur in zip([None, *history[:-1]], history, strict=True):
        new = containers.get(cur.replicaset, [])
        changes = template_changes(containers.get(prev.replicaset, []), new) if prev else ["first revision"]
        replicas = current_replicas.get(cur.replicaset, 0) if cur.latest else 0
        revisions.append(
            {
                "revision": cur.revision,
                "replicaset": cur.replicaset,
                "created": cur.created.isoformat() if cur.created else None,
                "became_current": cur.became_current.isoformat() if cur.became_current else None,
                "became_current_from": cur.source,
                "restores": cur.restores,
                "replicas": replicas,
                "change_cause": next((r.change_cause for r in replicasets if r.name == cur.replicaset), None),
                "changes": list(changes),
            }
        )
        lines.append(
            f"rev {cur.revision} at {_when(cur, ctx.as_of)}, {replicas} replicas: {'; '.join(changes)}"
        )
    lines.reverse()  # newest first: the recent rollout is what an investigation looks for
    header = (
        f"deployment {dep.namespace}/{dep.name}: {dep.available_replicas}/{dep.replicas} available, "
        f"{dep.ready_replicas} ready, {dep.updated_replicas} updated, revision {dep.revision}; "
        f"images {', '.join(c.image for c in dep.containers)}"
    )
    bad = [c for c in dep.conditions if c.get("status") != "True"]
    footer = "; ".join(f"condition {c['type']}={c['status']}: {c.get('message', '')}" for c in bad)
    if later:
        footer += f"{'; ' if footer else ''}{len(later)} revisions after as_of not shown"
    if events is None:
        footer += f"{'; ' if footer else ''}the Deployment's events could not be read: rollback times unknown"
    summary, cut = bounded_summary(
        header, lines, max_tokens=ctx.config.summary_max_tokens, unit="revisions", footer=redact(footer)
    )
    at = ctx.as_of.isoformat()
    evidence = [kube_evidence("workload", dep.name, header, dep.namespace, dep.name, at)]
    if history:
        newest = lines[0]
        evidence.append(
            kube_evidence(
                "rollout", dep.name, f"{dep.name} {newest}", dep.namespace, history[-1].replicaset, at
            )
        )
    return ToolResult(
        status="ok",
        data={
            "deployment": dep.model_dump(mode="json"),
            "revisions": revisions,
            "revisions_after_as_of": len(later),
        },
        summary=summary,
        truncated=cut,
        evidence=evidence,
    )


class PodsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(pattern=NAME_PATTERN)
    workload: str | None = Field(None, pattern=NAME_PATTERN, description="only pods of this Deployment")
    node: str | None = Field(None, pattern=NAME_PATTERN, description="only pods on this node")


def _pod_problem(p: Pod) -> bool:
    return p.phase not in ("Running", "Succeeded") or any(
        not c.ready or c.restart_count > 0 or c.state != "running" for c in p.containers
    )


def _pod_line(p: Pod) -> str:
    parts = []
    for c in p.containers:
        last = ""
        if c.last_termination_reason:
            when = c.last_termination_at.isoformat() if c.last_termination_at else "?"
            last = f", last terminated {c.last_termination_reason} (exit {c.last_termination_exit_code}) at {when}"
        parts.append(
            f"{c.name} {c.state}{' ready' if c.ready else ' not ready'}, restarts {c.restart_count}{last}"
        )
    return f"{p.name} [{p.phase}{', ' + p.reason if p.reason else ''}] on {p.node or '?'}: {'; '.join(parts)}"


@tool(effect="read")
def kube_pods(ctx: ToolContext, args: PodsInput) -> ToolResult:
    """Pods of a namespace (or of one Deployment, or on one node) with phase, readiness, restarts and the
    last termination reason (e.g. OOMKilled, Error). Problem pods are listed first."""
    kube = kube_reader(ctx)
    selector = None
    if args.workload:
        try:
            selector = kube.get_deployment(args.namespace, args.workload).selector
        except UnknownEntity:
            names = [d.name for d in kube.list_deployments(args.namespace)]
            raise UnknownEntity(
                f"no deployment {args.namespace}/{args.workload}", closest_names(args.workload, names)
            ) from None
    pods = kube.list_pods(args.namespace, selector)
    if args.node:
        pods = [p for p in pods if p.node == args.node]
    scope = (
        f"{args.namespace}"
        + (f" workload {args.workload}" if args.workload else "")
        + (f" node {args.node}" if args.node else "")
    )
    evidence = [
        kube_evidence(
            "pods", args.workload or args.namespace, f"{len(pods)} pods in {scope}", scope, ctx.as_of
        )
    ]
    if not pods:
        return ToolResult(status="no_data", summary=f"no pods in {scope}", evidence=evidence)
    pods.sort(key=lambda p: (not _pod_problem(p), p.name))
    problems = [p for p in pods if _pod_problem(p)]
    for p in problems:
        evidence.append(kube_evidence("pod", p.name, redact(_pod_line(p)), p.namespace, p.name, ctx.as_of))
    summary, cut = bounded_summary(
        f"{len(pods)} pods in {scope}, {len(problems)} not healthy (current state):",
        [redact(_pod_line(p)) for p in pods],
        max_tokens=ctx.config.summary_max_tokens,
        unit="pods",
    )
    return ToolResult(
        status="ok",
        data={"pods": [p.model_dump(mode="json") for p in pods]},
        summary=summary,
        truncated=cut,
        evidence=evidence,
    )


class EventsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(pattern=NAME_PATTERN)
    object_name: str | None = Field(None, pattern=NAME_PATTERN, description="only events about this object")
    warnings_only: bool = False
    lookback: str = Field(
        "1h", pattern=DURATION_PATTERN, description="events last seen this long before as_of"
    )


@tool(effect="read")
def kube_events(ctx: ToolContext, args: EventsInput) -> ToolResult:
    """Kubernetes events of a namespace or one object, last seen within `lookback` before the
    investigation's instant, newest first (e.g. BackOff, OOMKilling, FailedScheduling, ScalingReplicaSet)."""
    kube = kube_reader(ctx)
    start = ctx.as_of - timedelta(seconds=duration_seconds(args.lookback))
    events = [
        e
        for e in kube.list_events(args.namespace, args.object_name)
        if (e.last_seen is None or start <= e.last_seen <= ctx.as_of)
        and (e.type == "Warning" or not args.warnings_only)
    ]
    events.sort(key=lambda e: e.last_seen.timestamp() if e.last_seen else 0.0, reverse=True)
    scope = args.namespace + (f"/{args.object_name}" if args.object_name else "")
    at = ctx.as_of.isoformat()
    evidence = [
        kube_evidence(
            "events",
            args.object_name or args.namespace,
            f"{len(events)} events for {scope} in the {args.lookback} before {at}",
            scope,
            args.warnings_only,
            args.lookback,
            at,
        )
    ]
    if not events:
        return ToolResult(
            status="no_data",
            summary=f"no events for {scope} in the {args.lookback} before {at}",
            evidence=evidence,
        )
    lines = [
        redact(
            f"{e.last_seen.isoformat() if e.last_seen else '?'} {e.type} {e.reason} {e.object_kind}/{e.object_name}"
            f"{f' ×{e.count}' if e.count > 1 else ''}: {e.message}"
        )
        for e in events
    ]
    summary, cut = bounded_summary(
        f"{len(events)} events for {scope}, newest first:",
        lines,
        max_tokens=ctx.config.summary_max_tokens,
        unit="events",
    )
    rows: list[JsonValue] = []
    for e in events:
        row = e.model_dump(mode="json")
        row["message"] = redact(e.message)
        rows.append(row)
    return ToolResult(status="ok", data={"events": rows}, summary=summary, truncated=cut, evidence=evidence)
