"""Firing alerts at as_of, and discovery of metric names and label values around as_of (so a planner can
find the names a deployment really uses instead of guessing)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tools.context import ToolContext
from tools.contract import Evidence, ToolResult, evidence_id, tool
from tools.errors import UnknownEntity
from tools.metrics.golden import closest_names
from tools.metrics.query import label_text, metrics_backend
from tools.metrics.templates import DURATION_PATTERN, duration_seconds
from tools.summary import bounded_summary

LABEL_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]{0,127}$"
MAX_NAMES = 1000


class FiringAlertsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alertname: str | None = Field(None, max_length=200, description="only this alert; omit for all")


@tool(effect="read")
def firing_alerts(ctx: ToolContext, args: FiringAlertsInput) -> ToolResult:
    """Alerts firing at the investigation's instant: Prometheus's recorded ALERTS series evaluated at
    as_of. (Not /api/v1/alerts: that is the rule manager's state now, which a replay at as_of must not see.)"""
    backend = metrics_backend(ctx)
    at = ctx.as_of.isoformat()
    promql = ctx.config.promql["firing_alerts"]
    found: dict[str, dict[str, str]] = {}
    for s in backend.instant(promql, ctx.as_of):
        labels = {k: v for k, v in s.labels.items() if k not in ("__name__", "alertstate")}
        if args.alertname is None or labels.get("alertname") == args.alertname:
            found[label_text(labels)] = labels
    rows: list[dict[str, JsonValue]] = [{"labels": dict(found[k])} for k in sorted(found)]
    evidence = [
        Evidence(
            id=evidence_id("prom", "alerts", args.alertname, promql, at),
            source="prometheus",
            description=f"{len(rows)} alerts firing at {at}",
            query=promql,
        )
    ]
    if not rows:
        return ToolResult(status="no_data", summary=f"no alerts firing at {at}", evidence=evidence)
    lines = sorted(found)
    summary, cut = bounded_summary(
        f"{len(rows)} alerts firing at {at}:", lines, max_tokens=ctx.config.summary_max_tokens, unit="alerts"
    )
    return ToolResult(
        status="ok",
        data={"as_of": at, "alerts": list(rows)},
        summary=summary,
        truncated=cut,
        evidence=evidence,
    )


class ListMetricsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contains: str | None = Field(None, max_length=200, description="case-insensitive substring of the name")
    lookback: str = Field(
        "1h", pattern=DURATION_PATTERN, description="names of series present this long before as_of"
    )


@tool(effect="read")
def prom_list_metrics(ctx: ToolContext, args: ListMetricsInput) -> ToolResult:
    """Metric names present in Prometheus around the investigation's instant, optionally filtered by a
    substring. Use before writing PromQL to learn what the cluster really exports."""
    backend = metrics_backend(ctx)
    start = ctx.as_of - timedelta(seconds=duration_seconds(args.lookback))
    names = backend.label_values("__name__", start, ctx.as_of)
    if args.contains:
        names = [n for n in names if args.contains.lower() in n.lower()]
    at = ctx.as_of.isoformat()
    evidence = [
        Evidence(
            id=evidence_id("prom", "metrics", args.contains, args.contains, args.lookback, at),
            source="prometheus",
            description=f"{len(names)} metric names in the {args.lookback} before {at}",
            query=f"label_values(__name__) contains {args.contains!r}",
        )
    ]
    if not names:
        return ToolResult(
            status="no_data", summary=f"no metric names match {args.contains!r}", evidence=evidence
        )
    return _listing(ctx, names, title="metric names", key="names", unit="names", evidence=evidence)


class LabelValuesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(pattern=LABEL_PATTERN, description="e.g. service, namespace, pod")
    metric: str | None = Field(
        None, pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$", description="only on this metric"
    )
    lookback: str = Field("1h", pattern=DURATION_PATTERN)


@tool(effect="read")
def prom_label_values(ctx: ToolContext, args: LabelValuesInput) -> ToolResult:
    """Values a label takes around the investigation's instant (e.g. every `service`), optionally only on
    one metric. An unknown metric answers with the closest metric names."""
    backend = metrics_backend(ctx)
    start = ctx.as_of - timedelta(seconds=duration_seconds(args.lookback))
    match = [args.metric] if args.metric else []
    values = backend.label_values(args.label, start, ctx.as_of, match=match)
    at = ctx.as_of.isoformat()
    if not values and args.metric:
        names = backend.label_values("__name__", start, ctx.as_of)
        if args.metric not in names:
            raise UnknownEntity(
                f"no metric named {args.metric!r} around as_of", closest_names(args.metric, names)
            )
    evidence = [
        Evidence(
            id=evidence_id("prom", "labels", args.label, args.label, args.metric, args.lookback, at),
            source="prometheus",
            description=f"{len(values)} values of label {args.label}"
            + (f" on {args.metric}" if args.metric else ""),
            query=f"label_values({args.metric or ''}, {args.label})",
        )
    ]
    if not values:
        return ToolResult(
            status="no_data", summary=f"label {args.label!r} has no values around {at}", evidence=evidence
        )
    return _listing(
        ctx,
        values,
        title=f"values of {args.label}",
        key="values",
        unit="values",
        evidence=evidence,
        data={"label": args.label},
    )


def _listing(
    ctx: ToolContext,
    items: list[str],
    *,
    title: str,
    key: str,
    unit: str,
    evidence: list[Evidence],
    data: dict[str, JsonValue] | None = None,
) -> ToolResult:
    """A list of names as a result: at most MAX_NAMES kept in `data`, the summary within the budget."""
    kept = items[:MAX_NAMES]
    summary, cut = bounded_summary(
        f"{len(items)} {title}:", kept, max_tokens=ctx.config.summary_max_tokens, unit=unit, total=len(items)
    )
    return ToolResult(
        status="ok",
        data={**(data or {}), key: list(kept), "total": len(items)},
        summary=summary,
        truncated=cut or len(kept) < len(items),
        evidence=evidence,
    )
