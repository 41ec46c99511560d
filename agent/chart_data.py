"""The chart's data: each chosen panel's PromQL templates run as range queries on the metrics backend,
shaped into the few readable lines a panel draws.

Failures never raise: a failed or empty query leaves its panel out, with a note saying which and why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from agent.chart_panels import ChartSubject, Line, LineRole, PanelSpec
from tools.errors import ToolError
from tools.metrics.client import MetricsBackend, RangeSeries
from tools.metrics.templates import DEFAULT_TEMPLATES, render

MarkerName = Literal["onset", "rollout", "alert", "as_of"]
MAX_LINES = 7  # value lines per panel: more is a tangle nobody reads


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    step_s: float


@dataclass(frozen=True)
class PlotSeries:
    label: str
    points: list[tuple[float, float]]
    role: LineRole = "value"
    highlight: bool = False  # the diagnosed pod among its siblings


@dataclass
class PlotPanel:
    spec: PanelSpec
    series: list[PlotSeries]
    hidden: int = 0  # value series left out to keep the panel readable
    templates: list[str] = field(default_factory=list)  # the templates that had data

    def finite_points(self) -> int:
        return sum(1 for s in self.series if s.role == "value" for _, v in s.points if math.isfinite(v))


def _query(
    backend: MetricsBackend, promql: Mapping[str, str], line: Line, subject: ChartSubject, window: Window
) -> list[RangeSeries]:
    text = render(
        promql.get(line.template, DEFAULT_TEMPLATES[line.template]),
        namespace=subject.namespace,
        service=subject.service or "",
        pod_regex=subject.pod_regex,
        node=subject.node,
    )
    found = backend.range(text, window.start, window.end, window.step_s)
    return [s for s in found if any(math.isfinite(v) for _, v in s.points)]


def _highest(series: list[RangeSeries]) -> list[tuple[float, float]]:
    """Limits of several pods as one line: the highest limit at each instant."""
    by_time: dict[float, float] = {}
    for s in series:
        for t, v in s.points:
            if math.isfinite(v):
                by_time[t] = max(by_time.get(t, -math.inf), v)
    return sorted(by_time.items())


def _plot_series(line: Line, found: list[RangeSeries], subject: ChartSubject) -> list[PlotSeries]:
    if line.role == "limit":
        return [PlotSeries(label=line.name, points=_highest(found), role="limit")]
    out = []
    for s in sorted(found, key=lambda s: sorted(s.labels.items())):
        label = line.label.format(s.labels.get(line.key, "?")) if line.key else line.name
        highlight = line.key == "pod" and subject.pod is not None and label == subject.pod
        out.append(PlotSeries(label=label, points=s.points, highlight=highlight))
    return out


def _readable(series: list[PlotSeries]) -> tuple[list[PlotSeries], int]:
    """At most MAX_LINES values: the diagnosed one first, then the highest peaks; limits always."""
    values = [s for s in series if s.role == "value"]
    peak = {id(s): max((v for _, v in s.points if math.isfinite(v)), default=0.0) for s in values}
    ranked = sorted(values, key=lambda s: (not s.highlight, -peak[id(s)]))[:MAX_LINES]
    kept = {id(s) for s in ranked}
    shown = [s for s in series if id(s) in kept or s.role == "limit"]  # stable order: legend reads sorted
    shown.sort(key=lambda s: not s.highlight)
    return shown, len(values) - len(ranked)


def fetch_panels(
    backend: MetricsBackend,
    promql: Mapping[str, str],
    specs: Sequence[PanelSpec],
    subject: ChartSubject,
    window: Window,
    problems: list[str],
) -> list[PlotPanel]:
    """The panels that have data; each failed or empty one is noted in `problems`."""
    panels = []
    for spec in specs:
        series: list[PlotSeries] = []
        templates: list[str] = []
        for line in spec.lines:
            try:
                found = _query(backend, promql, line, subject, window)
            except ToolError as exc:
                problems.append(f"{spec.name}: {exc}")
                continue
            if found:
                series += _plot_series(line, found, subject)
                templates.append(line.template)
        if not any(s.role == "value" for s in series):
            if not any(p.startswith(f"{spec.name}:") for p in problems):
                problems.append(f"{spec.name}: no data")
            continue
        shown, hidden = _readable(series)
        panels.append(PlotPanel(spec=spec, series=shown, hidden=hidden, templates=templates))
    return panels


def alert_start(
    backend: MetricsBackend, promql: Mapping[str, str], alertname: str, window: Window
) -> datetime | None:
    """When the alert's latest firing run began, from the ALERTS series Prometheus records (a
    sandbox without rules has none: no marker)."""
    text = render(promql.get("firing_alerts", DEFAULT_TEMPLATES["firing_alerts"]))
    try:
        found = backend.range(text, window.start, window.end, window.step_s)
    except ToolError:
        return None
    times = sorted(
        t for s in found if s.labels.get("alertname") == alertname for t, v in s.points if math.isfinite(v)
    )
    if not times:
        return None
    first = len(times) - 1
    while first > 0 and times[first] - times[first - 1] <= 2 * window.step_s:
        first -= 1
    return datetime.fromtimestamp(times[first], tz=UTC)
