"""A PNG of the key signals of the suspected service around the onset: error ratio, p99 latency, CPU.

The on-call engineer's first question about a diagnosis is "show me": this chart puts the three
signals that tell a bad deploy from a saturation from a leak on one time axis, with the onset and the
investigation's instant marked. It queries the same named PromQL templates the tools use (so a
deployment's overrides apply), relative to `as_of` (never the clock), and renders with matplotlib's
Agg canvas directly (no pyplot global state, no display).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure
from pydantic import AwareDatetime, BaseModel, Field

from tools.errors import ToolError
from tools.metrics.client import MetricsBackend, RangeSeries
from tools.metrics.templates import DEFAULT_TEMPLATES, render, workload_pod_regex

TARGET_POINTS = 120
MIN_STEP_S = 15.0
MAX_CPU_LINES = 8
# (template, panel title, unit scale, y label)
SIGNALS: tuple[tuple[str, str, float, str], ...] = (
    ("error_ratio", "5xx ratio", 100.0, "%"),
    ("latency_quantile", "p99 latency", 1000.0, "ms"),
    ("cpu_usage_cores", "CPU per pod", 1.0, "cores"),
)
ONSET_SIGNALS = ("error_ratio", "latency_quantile")


class ChartInfo(BaseModel):
    """Where the chart is, what it shows, or why there is none."""

    path: str | None = Field(None, description="the PNG file; None: no chart")
    note: str = Field("", description="why there is no chart, or which signals had no data")
    service: str | None = None
    signals: list[str] = Field(default_factory=list, description="templates that had data")
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    onset: AwareDatetime | None = None
    onset_estimated: bool = Field(False, description="the onset was read off the plotted signals")


def estimate_onset(series: list[RangeSeries], *, persist: int = 3) -> float | None:
    """The first time a signal rises clear of its own baseline (the first third of the window) and
    stays there for `persist` points: median + max(4 robust sigmas, 20 % of the median, 0.001)."""
    onsets: list[float] = []
    for s in series:
        times = np.array([t for t, _ in s.points], dtype=float)
        values = np.array([v for _, v in s.points], dtype=float)
        finite = np.isfinite(values)
        times, values = times[finite], values[finite]
        if len(values) < 3 * persist:
            continue
        cut = len(values) // 3
        base = values[:cut]
        median = float(np.median(base))
        sigma = 1.4826 * float(np.median(np.abs(base - median)))
        over = values > median + max(4 * sigma, 0.2 * abs(median), 1e-3)
        for i in range(cut, len(values) - persist + 1):
            if over[i : i + persist].all():
                onsets.append(float(times[i]))
                break
    return min(onsets) if onsets else None


def _query(
    backend: MetricsBackend,
    promql: Mapping[str, str],
    name: str,
    *,
    namespace: str | None,
    service: str,
    start: datetime,
    end: datetime,
    step_s: float,
) -> list[RangeSeries]:
    text = render(
        promql.get(name, DEFAULT_TEMPLATES[name]),
        namespace=namespace,
        service=service,
        pod_regex=workload_pod_regex(service),
    )
    found = backend.range(text, start, end, step_s)
    return [s for s in found if any(math.isfinite(v) for _, v in s.points)]


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _draw(
    out: Path,
    title: str,
    panels: list[tuple[str, float, str, list[RangeSeries]]],
    onset: datetime | None,
    as_of: datetime,
) -> None:
    figure = Figure(figsize=(9, 2.2 * len(panels) + 0.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (label, scale, unit, series) in zip(axes, panels, strict=True):
        for s in series[:MAX_CPU_LINES]:
            xs = [_when(t) for t, _ in s.points]
            ys = [v * scale if math.isfinite(v) else math.nan for _, v in s.points]
            ax.plot(xs, ys, linewidth=1.2, label=s.labels.get("pod"))
        ax.set_ylabel(f"{label} ({unit})", fontsize=8)
        ax.set_ylim(bottom=0)  # every signal here is non-negative; a flat line should look flat
        ax.grid(alpha=0.3)
        if onset is not None:
            ax.axvline(onset, color="tab:orange", linestyle="--", linewidth=1, label="onset")
        ax.axvline(as_of, color="tab:red", linewidth=1, label="as_of")
        ax.legend(fontsize=6, loc="upper left")
    axes[-1].xaxis.set_major_formatter(DateFormatter("%H:%M", tz=UTC))
    axes[-1].set_xlabel("UTC", fontsize=8)
    figure.suptitle(title, fontsize=10)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, format="png")


def render_signal_chart(
    backend: MetricsBackend | None,
    *,
    out: Path,
    as_of: datetime,
    service: str | None,
    namespace: str | None = None,
    promql: Mapping[str, str] | None = None,
    onset: datetime | None = None,
    window: timedelta = timedelta(hours=1),
) -> ChartInfo:
    """Query and draw the service's signals over [as_of - window, as_of]; `onset` None: estimate it.
    Backend errors end in a chart without that signal (or no chart), never in an exception."""
    if backend is None:
        return ChartInfo(note="no chart: no metrics backend is configured")
    if service is None:
        return ChartInfo(note="no chart: the diagnosis names no service")
    start, end = as_of - window, as_of
    step_s = max(MIN_STEP_S, math.ceil(window.total_seconds() / TARGET_POINTS))
    panels: list[tuple[str, float, str, list[RangeSeries]]] = []
    found: dict[str, list[RangeSeries]] = {}
    problems: list[str] = []
    for name, label, scale, unit in SIGNALS:
        try:
            series = _query(
                backend,
                promql or {},
                name,
                namespace=namespace,
                service=service,
                start=start,
                end=end,
                step_s=step_s,
            )
        except ToolError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if not series:
            problems.append(f"{name}: no data")
            continue
        found[name] = series
        panels.append((label, scale, unit, series))
    note = "; ".join(problems)
    if not panels:
        return ChartInfo(note=f"no chart: no signal of {service} had data ({note})", service=service)
    estimated = False
    if onset is None:
        guess = estimate_onset([s for n in ONSET_SIGNALS for s in found.get(n, [])])
        onset, estimated = (_when(guess), True) if guess is not None else (None, False)
    title = f"{namespace + '/' if namespace else ''}{service} — {start:%Y-%m-%d %H:%M} to {end:%H:%M} UTC"
    _draw(out, title, panels, onset, as_of)
    return ChartInfo(
        path=str(out),
        note=note,
        service=service,
        signals=list(found),
        start=start,
        end=end,
        onset=onset,
        onset_estimated=estimated,
    )
