"""Anomaly read tools on single series: the detector over any PromQL range, and limit forecasts."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tools.anomaly.detector import analyze
from tools.anomaly.forecast import time_to_threshold
from tools.anomaly.incident_rank import episode_onset
from tools.anomaly.tools import iso
from tools.context import ToolContext
from tools.contract import Evidence, ToolResult, evidence_id, tool
from tools.errors import UnknownEntity
from tools.metrics.query import label_text, metrics_backend, range_step
from tools.metrics.templates import (
    DURATION_PATTERN,
    NAME_PATTERN,
    duration_seconds,
    render,
    workload_pod_regex,
)
from tools.summary import bounded_summary, fmt_number

ALERTING = 0.5  # a detector score above this beats everything the series did in its recent past
POINTS_KEPT = 60
# Every series a query returns is scored (then the best `max_series` are kept); this only bounds the
# work of a query that returns far more series than anyone could read.
MAX_SCORED_SERIES = 1000


def _score_series(
    labels: dict[str, str], raw: list[tuple[float, float]]
) -> tuple[float, dict[str, str], str | None, dict[str, JsonValue]]:
    """One series' largest score, labels, episode onset (from the same analysis as the scores) and its
    data row with the last points."""
    t = np.asarray([p[0] for p in raw], dtype=np.float64)
    v = np.asarray([p[1] for p in raw], dtype=np.float64)
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    analysis = analyze(v, t) if v.size else None
    scores = analysis.score if analysis is not None else np.zeros(0)
    onset = episode_onset(t, analysis) if analysis is not None else None
    points: list[JsonValue] = [
        [float(a), float(b), float(c)] for a, b, c in list(zip(t, v, scores, strict=True))[-POINTS_KEPT:]
    ]
    best = float(scores.max()) if scores.size else 0.0
    when = iso(onset)
    row: dict[str, JsonValue] = {
        "labels": dict(labels),
        "max_score": best,
        "last_score": float(scores[-1]) if scores.size else 0.0,
        "onset": when,
        "points": points,
    }
    return best, labels, when, row


class AnomalyScoreInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    promql: str = Field(min_length=1, max_length=4000, description="a PromQL expression (range-evaluated)")
    range: str = Field("2h", pattern=DURATION_PATTERN, description="window ending at as_of")
    step: str | None = Field(None, pattern=DURATION_PATTERN, description="resolution (default ~15s)")


@tool(effect="read")
def anomaly_score(ctx: ToolContext, args: AnomalyScoreInput) -> ToolResult:
    """Score every series of a PromQL range query with the single-series anomaly detector (seasonality
    aware when the window holds days): per point score in [0, 1], the onset of the episode under way
    and the largest score. Scores above 0.5 beat everything the series did recently."""
    backend = metrics_backend(ctx)
    range_s = duration_seconds(args.range)
    step_s = range_step(range_s, duration_seconds(args.step) if args.step else 15.0, ctx.config.max_points)
    series = backend.range(args.promql, ctx.as_of - timedelta(seconds=range_s), ctx.as_of, step_s)
    at = ctx.as_of.isoformat()
    evidence = Evidence(
        id=evidence_id("anomaly", "score", None, args.promql, args.range, step_s, at),
        source="anomaly",
        description=f"detector over {args.promql} ({args.range} to {at})",
        query=args.promql,
    )
    if not series:
        return ToolResult(status="no_data", summary=f"no series for {args.promql}", evidence=[evidence])
    scored = series[:MAX_SCORED_SERIES]
    ranked = sorted((_score_series(s.labels, s.points) for s in scored), key=lambda scored: -scored[0])
    flagged = sum(best >= ALERTING for best, *_ in ranked)
    shown = ranked[: ctx.config.max_series]
    rows = [row for *_, row in shown]
    lines = [
        f"{label_text(labels)}: max score {best:.2f}"
        + (f", anomalous since {onset}" if best >= ALERTING and onset else "")
        for best, labels, onset, _ in shown
    ]
    unscored = f" (the first {len(scored)} of {len(series)} returned)" if len(scored) < len(series) else ""
    summary, cut = bounded_summary(
        f"scored {len(scored)} series{unscored} over {args.range} to {at}, showing {len(rows)} highest first; "
        f"{flagged} anomalous (score >= {ALERTING}):",
        lines,
        max_tokens=ctx.config.summary_max_tokens,
        unit="series",
        total=len(rows),
    )
    return ToolResult(
        status="ok",
        data={
            "as_of": at,
            "step_s": step_s,
            "series_returned": len(series),
            "series_scored": len(scored),
            "series": list(rows),
        },
        summary=summary,
        truncated=cut or len(series) > len(rows),
        evidence=[
            evidence.model_copy(update={"description": f"{evidence.description}: {flagged} anomalous"})
        ],
    )


class ForecastSaturationInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: str | None = Field(None, pattern=NAME_PATTERN)
    workload: str = Field(pattern=NAME_PATTERN, description="Deployment or StatefulSet name")
    resource: Literal["cpu", "memory"] = "memory"
    lookback: str = Field("1h", pattern=DURATION_PATTERN, description="history the forecast is fitted on")
    horizon: str = Field("6h", pattern=DURATION_PATTERN, description="how far ahead to look")


@tool(effect="read")
def forecast_saturation(ctx: ToolContext, args: ForecastSaturationInput) -> ToolResult:
    """When each pod of a workload will reach its CPU or memory limit at the current trend (e.g.
    "memory reaches its limit in ~12 min"), forecast from the last `lookback` before as_of."""
    backend = metrics_backend(ctx)
    usage, limit = (
        ("cpu_usage_cores", "cpu_limit_cores")
        if args.resource == "cpu"
        else ("memory_working_set_bytes", "memory_limit_bytes")
    )
    lookback_s = duration_seconds(args.lookback)
    step_s = range_step(lookback_s, 30.0, ctx.config.max_points)
    regex = workload_pod_regex(args.workload)
    queries = {
        name: render(ctx.config.promql[name], namespace=args.namespace, pod_regex=regex, window="2m")
        for name in (usage, limit)
    }
    start = ctx.as_of - timedelta(seconds=lookback_s)
    used = {s.labels.get("pod", "?"): s for s in backend.range(queries[usage], start, ctx.as_of, step_s)}
    limits = {s.labels.get("pod", "?"): s.value for s in backend.instant(queries[limit], ctx.as_of)}
    pods = sorted(p for p in used if p in limits and used[p].points)
    if not pods:
        raise UnknownEntity(f"no pods of {args.workload!r} with {args.resource} usage and a limit at as_of")
    rows: list[dict[str, JsonValue]] = []
    for pod in pods:
        points = [p for p in used[pod].points if np.isfinite(p[1])]
        v = np.asarray([p[1] for p in points])
        t = np.asarray([p[0] for p in points])
        eta = time_to_threshold(v, t, limits[pod], duration_seconds(args.horizon)) if v.size >= 3 else None
        rows.append(
            {
                "pod": pod,
                "now": float(v[-1]) if v.size else None,
                "limit": limits[pod],
                "share_of_limit": float(v[-1] / limits[pod]) if v.size and limits[pod] else None,
                "seconds_to_limit": eta.seconds if eta else None,
                "model": eta.forecast.model if eta else None,
            }
        )
    rows.sort(key=lambda r: r["seconds_to_limit"] if r["seconds_to_limit"] is not None else float("inf"))  # type: ignore[arg-type,return-value]
    lines = []
    for r in rows:
        secs = r["seconds_to_limit"]
        when = f"reaches its limit in ~{float(secs) / 60:.0f} min" if secs is not None else "no crossing"  # type: ignore[arg-type]
        lines.append(
            f"{r['pod']}: {args.resource} {fmt_number(float(r['now'] or 0))}/{fmt_number(float(r['limit']))}"  # type: ignore[arg-type]
            f" ({float(r['share_of_limit'] or 0):.0%}), {when} (within {args.horizon})"  # type: ignore[arg-type]
        )
    at = ctx.as_of.isoformat()
    summary, cut = bounded_summary(
        f"{args.workload} {args.resource} forecast from {at}, soonest first:",
        lines,
        max_tokens=ctx.config.summary_max_tokens,
        unit="pods",
    )
    return ToolResult(
        status="ok",
        data={"workload": args.workload, "resource": args.resource, "as_of": at, "pods": list(rows)},
        summary=summary,
        truncated=cut,
        evidence=[
            Evidence(
                id=evidence_id("anomaly", "forecast", args.workload, str(queries), args.lookback, at),
                source="anomaly",
                description=f"{args.workload}: {lines[0]}",
                query=queries[usage],
            )
        ],
    )
