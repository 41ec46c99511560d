"""The raw PromQL tool, with guardrails: a timeout (the backend's), a step derived so no series has more
than `max_points` points, at most `max_series` series kept, and a topk hint when there were more."""

from __future__ import annotations

import math
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tools.context import ToolContext
from tools.contract import Evidence, ToolResult, evidence_id, tool
from tools.errors import BackendError
from tools.metrics.client import InstantSeries, MetricsBackend, RangeSeries
from tools.metrics.templates import DURATION_PATTERN, duration_seconds
from tools.summary import bounded_summary, fmt_number

MIN_STEP_S = 15.0
TARGET_POINTS = 120  # default resolution of a range query: enough to see a shape, cheap to summarise


def metrics_backend(ctx: ToolContext) -> MetricsBackend:
    if ctx.metrics is None:
        raise BackendError("no metrics backend is configured (set MEDIC_PROMETHEUS_URL)")
    return ctx.metrics


def label_text(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def _sort_key(value: float) -> float:
    return -value if not math.isnan(value) else math.inf


def range_step(range_s: float, requested_s: float | None, max_points: int) -> float:
    """The step actually used: the requested one (or a default), never finer than `max_points` allows."""
    floor = math.ceil(range_s / max_points)
    wanted = requested_s if requested_s is not None else max(MIN_STEP_S, range_s / TARGET_POINTS)
    return float(max(wanted, floor, 1))


class PromQueryInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    promql: str = Field(min_length=1, max_length=4000, description="a PromQL expression")
    range: str | None = Field(
        None,
        pattern=DURATION_PATTERN,
        description="e.g. 30m: a range query ending at as_of; omit for an instant query",
    )
    step: str | None = Field(
        None,
        pattern=DURATION_PATTERN,
        description="range resolution; raised if it would exceed the point cap",
    )


@tool(effect="read")
def prom_query(ctx: ToolContext, args: PromQueryInput) -> ToolResult:
    """Run a PromQL query at the investigation's instant (or over a range ending there). Use when the
    dedicated metric tools do not cover the question. Results are capped; aggregate or use topk() for
    wide results."""
    backend, cfg = metrics_backend(ctx), ctx.config
    if args.range is None:
        instant = backend.instant(args.promql, ctx.as_of)
        return _instant_result(ctx, args, instant)
    range_s = duration_seconds(args.range)
    step_s = range_step(range_s, duration_seconds(args.step) if args.step else None, cfg.max_points)
    series = backend.range(args.promql, ctx.as_of - timedelta(seconds=range_s), ctx.as_of, step_s)
    return _range_result(ctx, args, series, step_s)


def _evidence(ctx: ToolContext, args: PromQueryInput, description: str) -> Evidence:
    return Evidence(
        id=evidence_id("prom", "query", None, args.promql, args.range, args.step, ctx.as_of.isoformat()),
        source="prometheus",
        description=description,
        query=args.promql,
    )


def _topk_hint(args: PromQueryInput, total: int, kept: int) -> str:
    if total <= kept:
        return ""
    return f"hint: {total} series matched; aggregate (sum by (...)) or use topk(10, {args.promql[:200]})"


def _instant_result(ctx: ToolContext, args: PromQueryInput, series: list[InstantSeries]) -> ToolResult:
    at = ctx.as_of.isoformat()
    if not series:
        return ToolResult(
            status="no_data",
            summary=f"no series matched at {at}: {args.promql}\n(check names with prom_list_metrics)",
            evidence=[_evidence(ctx, args, f"no series for {args.promql} at {at}")],
        )
    ordered = sorted(series, key=lambda s: _sort_key(s.value))
    kept = ordered[: ctx.config.max_series]
    rows: list[JsonValue] = [{"labels": dict(s.labels), "value": s.value} for s in kept]
    summary, cut = bounded_summary(
        f"{len(series)} series at {at}, largest first:",
        [f"{label_text(s.labels)} = {fmt_number(s.value)}" for s in kept],
        max_tokens=ctx.config.summary_max_tokens,
        unit="series",
        total=len(series),
        footer=_topk_hint(args, len(series), len(kept)),
    )
    return ToolResult(
        status="ok",
        data={"result_type": "vector", "as_of": at, "series_total": len(series), "series": rows},
        summary=summary,
        truncated=cut or len(kept) < len(series),
        evidence=[_evidence(ctx, args, f"{args.promql} at {at}: {len(series)} series")],
    )


def _range_result(
    ctx: ToolContext, args: PromQueryInput, series: list[RangeSeries], step_s: float
) -> ToolResult:
    at = ctx.as_of.isoformat()
    window = f"{args.range} ending {at}, step {step_s:g}s"
    if not series:
        return ToolResult(
            status="no_data",
            summary=f"no series matched over {window}: {args.promql}",
            evidence=[_evidence(ctx, args, f"no series for {args.promql} over {window}")],
        )

    def last(s: RangeSeries) -> float:
        return s.points[-1][1] if s.points else math.nan

    ordered = sorted(series, key=lambda s: _sort_key(last(s)))
    kept = ordered[: ctx.config.max_series]
    rows: list[JsonValue] = [
        {"labels": dict(s.labels), "points": [[t, v] for t, v in s.points[-ctx.config.max_points :]]}
        for s in kept
    ]
    lines = []
    for s in kept:
        values = [v for _, v in s.points if not math.isnan(v)] or [math.nan]
        lines.append(
            f"{label_text(s.labels)}: last {fmt_number(last(s))}, min {fmt_number(min(values))}, "
            f"max {fmt_number(max(values))}, {len(s.points)} points"
        )
    summary, cut = bounded_summary(
        f"{len(series)} series over {window}, largest last value first:",
        lines,
        max_tokens=ctx.config.summary_max_tokens,
        unit="series",
        total=len(series),
        footer=_topk_hint(args, len(series), len(kept)),
    )
    return ToolResult(
        status="ok",
        data={
            "result_type": "matrix",
            "as_of": at,
            "step_s": step_s,
            "series_total": len(series),
            "series": rows,
        },
        summary=summary,
        truncated=cut or len(kept) < len(series),
        evidence=[_evidence(ctx, args, f"{args.promql} over {window}: {len(series)} series")],
    )
