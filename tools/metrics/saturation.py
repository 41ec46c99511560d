"""Saturation of a workload, per pod: CPU against its limit, CFS throttling, memory against its limit,
restarts and OOM kills (cAdvisor and kube-state-metrics)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tools.context import ToolContext
from tools.contract import Evidence, ToolResult, evidence_id, tool
from tools.errors import UnknownEntity
from tools.metrics.golden import closest_names
from tools.metrics.query import metrics_backend
from tools.metrics.templates import DURATION_PATTERN, NAME_PATTERN, render, workload_pod_regex
from tools.summary import bounded_summary

PER_POD = (
    "cpu_usage_cores",
    "cpu_limit_cores",
    "cpu_throttling_ratio",
    "memory_working_set_bytes",
    "memory_limit_bytes",
    "restarts",
    "oom_killed",
)
HOT = 0.9  # share of a limit from which a pod counts as saturated
THROTTLED = 0.25
# The flags a pod's row carries; planners read them by these words.
CPU_AT_LIMIT, CPU_THROTTLED, MEMORY_AT_LIMIT = "CPU at its limit", "CPU throttled", "memory at its limit"


class WorkloadSaturationInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workload: str = Field(pattern=NAME_PATTERN, description="Deployment or StatefulSet name")
    namespace: str | None = Field(None, pattern=NAME_PATTERN, description="omit to match any namespace")
    window: str = Field("5m", pattern=DURATION_PATTERN, description="rate window")
    lookback: str = Field("1h", pattern=DURATION_PATTERN, description="restarts are counted over this")


def _ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num is not None and den else None


def _mib(value: float | None) -> str:
    return "?" if value is None else f"{value / 2**20:.0f}Mi"


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value * 100:.0f}%"


def _pod_line(pod: str, p: dict[str, float | None]) -> tuple[str, list[str]]:
    cpu_vs, mem_vs = p["cpu_vs_limit"], p["memory_vs_limit"]
    flags = []
    if cpu_vs is not None and cpu_vs >= HOT:
        flags.append(CPU_AT_LIMIT)
    if (p["cpu_throttling_ratio"] or 0) >= THROTTLED:
        flags.append(CPU_THROTTLED)
    if mem_vs is not None and mem_vs >= HOT:
        flags.append(MEMORY_AT_LIMIT)
    if (p["restarts"] or 0) >= 1:
        flags.append("restarting")
    if p["oom_killed"]:
        flags.append("last termination OOMKilled")
    cpu = p["cpu_usage_cores"]
    line = (
        f"{pod}: cpu {'?' if cpu is None else f'{cpu:.2g}'}/{p['cpu_limit_cores'] or '?'} cores ({_pct(cpu_vs)}), "
        f"throttled {_pct(p['cpu_throttling_ratio'])}, memory {_mib(p['memory_working_set_bytes'])}/"
        f"{_mib(p['memory_limit_bytes'])} ({_pct(mem_vs)}), restarts {p['restarts'] or 0:.0f}"
        + (", last termination OOMKilled" if p["oom_killed"] else "")
        + (f"  ⚠ {', '.join(flags)}" if flags else "")
    )
    return line, flags


@tool(effect="read")
def workload_saturation(ctx: ToolContext, args: WorkloadSaturationInput) -> ToolResult:
    """CPU use against the limit, CPU throttling, memory against the limit, restarts and OOM kills of
    each pod of a workload at the investigation's instant. Use to tell overload or leaks from bugs."""
    backend = metrics_backend(ctx)
    pod_regex = workload_pod_regex(args.workload)
    queries: dict[str, str] = {}
    pods: dict[str, dict[str, float | None]] = {}
    for name in PER_POD:
        promql = render(
            ctx.config.promql[name],
            namespace=args.namespace,
            pod_regex=pod_regex,
            window=args.window,
            lookback=args.lookback,
        )
        queries[name] = promql
        for s in backend.instant(promql, ctx.as_of):
            pods.setdefault(s.labels.get("pod", "?"), dict.fromkeys(PER_POD))[name] = s.value
    if not pods:
        names = [
            s.labels["deployment"]
            for s in backend.instant(ctx.config.promql["workload_names"], ctx.as_of)
            if "deployment" in s.labels
        ]
        raise UnknownEntity(
            f"no pods of a workload named {args.workload!r} have resource metrics at as_of",
            closest_names(args.workload, sorted(set(names))),
        )
    lines, evidence, rows = [], [], []
    at = ctx.as_of.isoformat()
    for pod, p in sorted(pods.items()):
        p["cpu_vs_limit"] = _ratio(p["cpu_usage_cores"], p["cpu_limit_cores"])
        p["memory_vs_limit"] = _ratio(p["memory_working_set_bytes"], p["memory_limit_bytes"])
        line, flags = _pod_line(pod, p)
        lines.append(line)
        row: dict[str, JsonValue] = {"pod": pod, **p, "flags": list(flags)}
        rows.append(row)
        if flags:
            evidence.append(
                Evidence(
                    id=evidence_id("prom", "saturation", pod, str(queries), at),
                    source="prometheus",
                    description=f"at {at}: {line}",
                    query=queries[
                        "memory_working_set_bytes" if "memory" in " ".join(flags) else "cpu_usage_cores"
                    ],
                )
            )
    flagged = [r for r in rows if r["flags"]]
    evidence.insert(
        0,
        Evidence(
            id=evidence_id("prom", "saturation", args.workload, str(queries), at),
            source="prometheus",
            description=f"{args.workload}: {len(rows)} pods, {len(flagged)} saturated or restarting at {at}",
            query=queries["cpu_usage_cores"],
        ),
    )
    summary, cut = bounded_summary(
        f"{args.workload}: {len(rows)} pods at {at} ({args.window} rates, restarts over {args.lookback}); "
        f"{len(flagged)} flagged:",
        [ln for ln in lines if "⚠" in ln] + [ln for ln in lines if "⚠" not in ln],
        max_tokens=ctx.config.summary_max_tokens,
        unit="pods",
    )
    return ToolResult(
        status="ok",
        data={
            "workload": args.workload,
            "namespace": args.namespace,
            "as_of": at,
            "pods": rows,
            "queries": dict(queries),
        },
        summary=summary,
        truncated=cut,
        evidence=evidence,
    )
