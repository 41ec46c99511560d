"""The anomaly read tools: root-cause ranking of a namespace, the single-series detector on any PromQL
range, and "when does this workload hit its limit" forecasts. Windows end at `ctx.as_of` (DESIGN §3.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from tools.anomaly.incident_rank import detector_onset, fold_pods, rank_incident, ranked_subset
from tools.anomaly.rank import DEFAULT_RANK_CONFIG, Candidate, SignalEvidence
from tools.anomaly.resolution import on_ranking_grid
from tools.anomaly.signal_matrix import SignalMatrix
from tools.anomaly.signals import OPTIONAL_TEMPLATES, FetchedSignals, fetch_signals
from tools.anomaly.sources import read_sources
from tools.context import ToolContext
from tools.contract import Evidence, ToolResult, evidence_id, tool
from tools.errors import ToolError
from tools.metrics.client import MetricsBackend
from tools.metrics.profile_detect import active_profile
from tools.metrics.query import metrics_backend, range_step
from tools.metrics.templates import DURATION_PATTERN, NAME_PATTERN, duration_seconds
from tools.metrics.units import describe_change, fmt_sigmas, unit_of
from tools.summary import bounded_summary

# Longer lookbacks would overlap the day-earlier window they are compared with.
REFERENCE_MAX_LOOKBACK_S = 12 * 3600.0
SHOWN_SIGNAL_SCORE = 2.0  # signals that moved less than this (robust sigmas) are left out of the text
SHOWN_SIGNALS = 4


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC).isoformat()


class RankRootCausesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(pattern=NAME_PATTERN)
    services: list[str] | None = Field(
        None, max_length=100, description="only these services (default: every service of the namespace)"
    )
    alert_at: AwareDatetime | None = Field(
        None, description="when the alert started; the onset is searched at or before it"
    )
    lookback: str = Field("2h", pattern=DURATION_PATTERN, description="window ending at as_of")
    step: str | None = Field(
        None, pattern=DURATION_PATTERN, description="resolution (default ~15s; never finer than the samples)"
    )
    top: int = Field(5, ge=1, le=20, description="candidates listed")


def _entity_kind(entity: str) -> str:
    return "pod" if entity.startswith("pod/") else "node" if entity.startswith("node/") else "service"


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def change_text(e: SignalEvidence) -> str:
    """The signal's move in words: metrics in their unit; trace and log rows by what they measure
    (their `detail`: the operation, the log template), with plain numbers."""
    if e.source == "metrics":
        return describe_change(e.signal, _finite(e.baseline_median), _finite(e.peak_value))
    before, after = _finite(e.baseline_median), _finite(e.peak_value)
    what, _, unit = (e.detail or e.signal).rpartition(", ")  # trace rows end their detail with the unit
    if not what or " " in unit:
        what, unit = e.detail or e.signal, ""
    suffix = f" {unit}" if unit else ""
    numbers = " → ".join("?" if v is None else f"{v:.3g}{suffix}" for v in (before, after))
    return f"{e.source}: {what} {numbers}"


def signal_row(e: SignalEvidence) -> dict[str, JsonValue]:
    """One signal of a candidate: its score, and its baseline, peak and current value in its unit."""
    unit = unit_of(e.signal) if e.source == "metrics" else None
    return {
        "signal": e.signal,
        "kind": e.kind,
        "source": e.source,
        "detail": e.detail or None,
        "sigmas": round(e.sigmas, 2),
        "score": round(e.score, 2),
        "started_at": iso(e.started_at),
        "unit": unit,
        "baseline": _finite(e.baseline_median),
        "peak": _finite(e.peak_value),
        "current": _finite(e.current_value),
        "change": change_text(e),
    }


def candidate_row(c: Candidate, service: str | None, traffic_ratio: float | None) -> dict[str, JsonValue]:
    """A ranked entity as the tool's data gives it (and as planners read it)."""
    return {
        "traffic_ratio": traffic_ratio,
        "entity": c.entity,
        "entity_kind": _entity_kind(c.entity),
        "service": service,
        "score": round(c.score, 2),
        "raw_score": round(c.raw_score, 2),
        "explained_by": c.explained_by,
        "signals": [signal_row(e) for e in c.evidence],
    }


def candidate_line(c: Candidate) -> str:
    """One line per candidate for people and models: what moved, in units, the score second."""
    moved = [e for e in c.evidence if e.score >= SHOWN_SIGNAL_SCORE][:SHOWN_SIGNALS]
    signals = "; ".join(f"{change_text(e)} ({fmt_sigmas(e.sigmas, signed=True)})" for e in moved)
    why = f" [explained by {c.explained_by}]" if c.explained_by else ""
    return f"{c.entity} (score {fmt_sigmas(c.score)}){why}: {signals or 'no signal moved'}"


def traffic_ratio(fetched: FetchedSignals, service: str | None, onset: float) -> float | None:
    """The service's request rate over the last 5 minutes against its median before the onset."""
    keys = fetched.matrix.keys
    row = next((i for i, k in enumerate(keys) if k.entity == service and k.signal == "request_rate"), None)
    if row is None:
        return None
    times, values = fetched.matrix.times, fetched.matrix.values[row]
    before, recent = values[times < onset], values[times >= times[-1] - 300]
    if not np.isfinite(before).any() or not np.isfinite(recent).any():
        return None
    base = float(np.nanmedian(before))
    return round(float(np.nanmedian(recent)) / base, 3) if base > 0 else None


def reference_windows(
    backend: MetricsBackend,
    templates: Mapping[str, str],
    namespace: str,
    start: datetime,
    end: datetime,
    step_s: float,
    services: list[str],
) -> tuple[SignalMatrix | None, list[str]]:
    """The same window one week and one day earlier, where the history reaches: the baseline for a
    fault that began before the lookback (then today's "before" is no baseline at all)."""
    parts, used = [], []
    for label, shift in (("a week", timedelta(days=7)), ("a day", timedelta(days=1))):
        try:
            earlier = fetch_signals(
                backend, templates, namespace, start - shift, end - shift, step_s, services
            )
        except ToolError:  # the history does not reach back that far, or nothing was served then
            continue
        parts.append(earlier.matrix)
        used.append(label)
    return (SignalMatrix.over_periods(*parts) if parts else None), used


@tool(effect="read")
def rank_root_causes(ctx: ToolContext, args: RankRootCausesInput) -> ToolResult:
    """Rank the services, pods and nodes of a namespace as the root cause of what is going on at the
    investigation's instant: every entity's errors, latency (own and as callers see it), CPU per
    request, throttling, memory against the limit, restarts and node conditions, scored in robust
    sigmas against the window before the onset, with callers explained by their deepest anomalous
    dependency (call graph from metrics and traces). Trace rows (response and self time, what callers
    wait, calls made) and log rows (error lines, new or vanished templates, mined with Drain3) join the
    same ranking when those sources can be read; the same window a day and a week earlier is the
    baseline of a fault older than the lookback. A top score under the threshold: nothing stands out."""
    backend = metrics_backend(ctx)
    lookback_s = duration_seconds(args.lookback)
    step_s = range_step(lookback_s, duration_seconds(args.step) if args.step else 15.0, ctx.config.max_points)
    start = ctx.as_of - timedelta(seconds=lookback_s)
    active = active_profile(ctx)
    fetched = fetch_signals(
        backend, active.templates, args.namespace, start, ctx.as_of, step_s, args.services
    )
    others = read_sources(ctx, fetched.matrix.times, step_s, start, args.namespace, fetched.services)
    # a point per metric sample, or the query's grid when spans or log lines join (resolution.py)
    events = any(rows.keys for rows in others.rows)
    ranked_metrics, every = on_ranking_grid(fetched.matrix, events)
    fetched = replace(fetched, matrix=ranked_metrics)
    if every > 1:  # no event rows: the grid is the samples'
        step_s, others = step_s * every, replace(others, rows=[])
    gaps = "; ".join(f"{OPTIONAL_TEMPLATES[name]} ({name})" for name in fetched.skipped)
    missing = active.unavailable(gaps) if gaps else None
    calls = {k: list(v) for k, v in fetched.calls.items()}
    for caller, callees in others.calls.items():
        calls.setdefault(caller, []).extend(c for c in callees if c not in calls[caller])
    reference, earlier = (
        reference_windows(
            backend, active.templates, args.namespace, start, ctx.as_of, step_s, fetched.services
        )
        if lookback_s < REFERENCE_MAX_LOOKBACK_S
        else (None, [])
    )
    cfg = DEFAULT_RANK_CONFIG
    latest = min(args.alert_at.timestamp(), ctx.as_of.timestamp()) if args.alert_at else ctx.as_of.timestamp()
    matrix = fetched.matrix.joined(*others.rows)
    ranked = ranked_subset(matrix)
    ranking = rank_incident(matrix, calls, latest - step_s, cfg, reference=reference)
    candidates = fold_pods(ranking, fetched)
    top = candidates[0] if candidates else None
    anomalous = top is not None and top.score >= cfg.threshold
    detected = None
    if anomalous and top is not None and top.evidence:
        row = next(
            i
            for i, k in enumerate(ranked.keys)
            if k.entity == top.entity and k.signal == top.evidence[0].signal
        )
        detected = detector_onset(ranked.times, ranked.values[row])

    def service_of(entity: str) -> str | None:
        kind = _entity_kind(entity)
        return entity if kind == "service" else fetched.pod_service.get(entity[4:]) if kind == "pod" else None

    rows = [
        candidate_row(c, service_of(c.entity), traffic_ratio(fetched, service_of(c.entity), ranking.onset))
        for c in candidates[: args.top]
    ]
    at = ctx.as_of.isoformat()
    onset = iso(ranking.onset)
    evidence = [
        Evidence(
            id=evidence_id("anomaly", "rank", args.namespace, args.namespace, args.services, onset, at),
            source="anomaly",
            description=(
                f"root-cause ranking of {args.namespace} at {at} (onset {onset}): "
                + ", ".join(f"{c.entity} {fmt_sigmas(c.score)}" for c in candidates[:3])
                + ("" if anomalous else f"; nothing above {fmt_sigmas(cfg.threshold)}")
            ),
            query=f"rank_root_causes {args.namespace} lookback={args.lookback}",
        )
    ]
    lines = []
    for c in candidates[: args.top]:
        line = candidate_line(c)
        lines.append(line)
        if c.score >= cfg.threshold:
            evidence.append(
                Evidence(
                    id=evidence_id("anomaly", "rank", c.entity, args.namespace, c.entity, onset, at),
                    source="anomaly",
                    description=f"{line} (onset {onset})",
                )
            )
    verdict = (
        f"top candidate {top.entity} at {fmt_sigmas(top.score)}"
        if anomalous and top
        else f"nothing anomalous (top score under {fmt_sigmas(cfg.threshold)})"
    )
    read = [f"{source}: {what}" for source, what in others.read.items()]
    read += [f"baseline also {' and '.join(earlier)} earlier"] if earlier else []
    also = f"; read {', '.join(read)}" if read else ""
    unavailable = ([missing] if missing else []) + others.unavailable
    summary, cut = bounded_summary(
        f"{args.namespace} at {at} (metric profile {active.profile.name}{also}): onset {onset}, {verdict}:",
        lines + unavailable,
        max_tokens=ctx.config.summary_max_tokens,
        unit="candidates",
    )
    return ToolResult(
        status="ok",
        data={
            "namespace": args.namespace,
            "as_of": at,
            "onset": onset,
            "detector_onset": iso(detected),
            "threshold": cfg.threshold,
            "anomalous": anomalous,
            "candidates": list(rows),
            "calls": {k: list(v) for k, v in sorted(calls.items())},
            "calls_from_traces": bool(others.calls),
            "sources": {"metrics": "read", **others.read},
            "reference_windows": [f"{e} earlier" for e in earlier],
            "step_s": step_s,
            "metric_profile": active.describe(),
            "unavailable": unavailable,
        },
        summary=summary,
        truncated=cut,
        evidence=evidence,
    )
