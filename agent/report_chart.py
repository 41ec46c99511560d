"""A PNG of the signals that show the diagnosed fault, around its onset.

The on-call engineer's first question about a diagnosis is "show me". The panels follow the diagnosed
kind and entity (`agent.chart_panels`); the data comes from Prometheus through the same named PromQL
templates the tools use; the window always holds the onset with some baseline before it, and the
onset, the rollout, the alert and the investigation's instant are marked. Everything is relative to
`as_of`, never the clock. `ChartInfo.panels` names what was drawn, so a reader (or a test) can check
the chart fits the diagnosis without looking at pixels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from pydantic import AwareDatetime, BaseModel, Field

from agent.chart_data import MarkerName, PlotPanel, Window, alert_start, fetch_panels
from agent.chart_panels import CALLERS_VIEW, ROLLOUT_KINDS, ChartSubject, subject_of
from agent.diagnosis import Diagnosis, FaultKind
from agent.incident import Incident
from agent.state import Step
from tools.metrics.client import MetricsBackend, RangeSeries

TARGET_POINTS = 240
MIN_STEP_S = 15.0
DEFAULT_WINDOW = timedelta(hours=1)
MIN_BASELINE = timedelta(minutes=20)  # of calm before the onset, so the change reads as a change
ROLLOUT_REACH = timedelta(hours=2)  # an older rollout is history, not part of this story


class ChartInfo(BaseModel):
    """Where the chart is, what it shows, or why there is none."""

    path: str | None = Field(None, description="the PNG file; None: no chart")
    note: str = Field("", description="why there is no chart, or which panels had no data")
    service: str | None = None
    entity: str | None = Field(None, description="what the chart is about: a service, pod/… or node/…")
    fault_kind: FaultKind | None = Field(None, description="the diagnosed kind the panels were chosen for")
    panels: list[str] = Field(default_factory=list, description="the panels drawn, each with data")
    points: dict[str, int] = Field(default_factory=dict, description="finite points plotted per panel")
    signals: list[str] = Field(default_factory=list, description="templates that had data")
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    onset: AwareDatetime | None = None
    onset_estimated: bool = Field(False, description="the onset was read off the plotted signals")
    rollout: AwareDatetime | None = Field(None, description="the newest revision's rollout, if in the window")
    alert: AwareDatetime | None = Field(None, description="when the alert started firing, if recorded")

    def caption(self) -> str:
        """One line for under the chart: what it shows and why."""
        why = f"{self.fault_kind} on {self.entity}" if self.fault_kind else f"overview of {self.entity}"
        shown = [
            (at, name)
            for name, at in (("rollout", self.rollout), ("onset", self.onset), ("alert", self.alert))
            if at
        ]
        marks = [f"{name} {at:%H:%M}" for at, name in sorted(shown)]  # in the order they happened
        marked = f"; marked: {', '.join(marks)} UTC" if marks else ""
        return f"Panels ({why}): {', '.join(self.panels)}{marked}."


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


def _time(value: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def onset_from(steps: Sequence[Step]) -> datetime | None:
    """The onset the investigation's ranking found (its last successful run)."""
    ranked = [s for s in steps if s.call.tool == "rank_root_causes" and s.status == "ok"]
    return _time(ranked[-1].data.get("onset")) if ranked else None


def rollout_from(steps: Sequence[Step], service: str | None) -> datetime | None:
    """When the service's newest revision rolled out, from the investigation's rollout history."""
    reads = [
        s
        for s in steps
        if s.call.tool == "kube_workload" and s.status == "ok" and s.call.args.get("name") == service
    ]
    revisions = reads[-1].data.get("revisions") if reads and service else None
    if not isinstance(revisions, list) or not revisions:
        return None
    newest = revisions[-1]  # newest last
    if not isinstance(newest, dict):
        return None
    # When it became current: a rollback reuses an old ReplicaSet, whose creation time says nothing
    # about the rollback; unknown stays unknown. Only a history without that field has just `created`.
    return _time(newest["became_current"] if "became_current" in newest else newest.get("created"))


def chart_window(
    as_of: datetime, onset: datetime | None, rollout: datetime | None
) -> tuple[datetime, datetime]:
    """[start, as_of]: at least the default hour, reaching back past the onset (and a rollout that
    belongs to the story) by a baseline of a third of the episode, never less than MIN_BASELINE."""
    start = as_of - DEFAULT_WINDOW
    for at in (onset, rollout):
        if at is not None and at <= as_of:
            start = min(start, at - max(MIN_BASELINE, (as_of - at) / 3))
    return start, as_of


def _estimate(panels: list[PlotPanel]) -> datetime | None:
    values = [
        RangeSeries(labels={}, points=s.points)
        for p in panels
        if p.spec.style != "states"
        for s in p.series
        if s.role == "value"
    ]
    guess = estimate_onset(values)
    return datetime.fromtimestamp(guess, tz=UTC) if guess is not None else None


def render_chart(
    backend: MetricsBackend | None,
    *,
    out: Path,
    subject: ChartSubject | None,
    as_of: datetime,
    onset: datetime | None = None,
    rollout: datetime | None = None,
    alertname: str | None = None,
    promql: Mapping[str, str] | None = None,
) -> ChartInfo:
    """Query and draw the subject's panels; `onset` None: estimate it from the plotted signals.
    Backend errors end in a chart without that panel (or no chart), never in an exception."""
    if backend is None:
        return ChartInfo(note="no chart: no metrics backend is configured")
    if subject is None:
        return ChartInfo(note="no chart: the diagnosis names no entity")
    known = {"service": subject.service, "entity": subject.entity, "fault_kind": subject.fault_kind}
    # a healthy verdict has no onset: the ranking's "onset" of noise would contradict it
    onset = onset if onset is not None and onset <= as_of and not subject.healthy else None
    # a rollout is part of the story of a deploy-shaped fault when it came shortly before the onset
    story = (
        rollout is not None
        and subject.fault_kind in ROLLOUT_KINDS
        and rollout >= (onset or as_of - DEFAULT_WINDOW) - ROLLOUT_REACH
    )
    start, end = chart_window(as_of, onset, rollout if story else None)
    window = Window(start, end, max(MIN_STEP_S, math.ceil((end - start).total_seconds() / TARGET_POINTS)))
    problems: list[str] = []
    templates = promql or {}
    panels = fetch_panels(backend, templates, subject.panels, subject, window, problems)
    if not panels and subject.entity_kind == "service" and subject.panels != CALLERS_VIEW:
        # an external dependency has no pods or server metrics of its own: its callers show it
        panels = fetch_panels(backend, templates, CALLERS_VIEW, subject, window, problems)
    note = "; ".join(problems)
    if not panels:
        return ChartInfo(note=f"no chart: no panel for {subject.entity} had data ({note})", **known)
    estimated = onset is None and not subject.healthy
    onset = onset or (_estimate(panels) if estimated else None)
    alert = alert_start(backend, templates, alertname, window) if alertname else None
    marks: list[tuple[MarkerName, datetime | None]] = [
        ("rollout", rollout),
        ("alert", alert),
        ("onset", onset),
    ]
    markers: dict[MarkerName, datetime] = {n: at for n, at in marks if at is not None and start <= at <= end}
    markers["as_of"] = as_of

    from agent.chart_draw import build_figure, save_figure  # matplotlib only when a chart is drawn

    where = f" ({subject.namespace})" if subject.namespace else ""
    what = f"{subject.fault_kind} on" if subject.fault_kind else "overview of"
    what = f"no cause named: {what}" if subject.healthy else what
    title = f"{what} {subject.entity}{where}, {start:%Y-%m-%d %H:%M} to {end:%H:%M} UTC"
    save_figure(build_figure(title, panels, markers, start, end), out)
    return ChartInfo(
        path=str(out),
        note=note,
        panels=[p.spec.name for p in panels],
        points={p.spec.name: p.finite_points() for p in panels},
        signals=[name for p in panels for name in p.templates],
        start=start,
        end=end,
        onset=onset,
        onset_estimated=estimated and onset is not None,
        rollout=markers.get("rollout"),
        alert=markers.get("alert"),
        **known,
    )


def render_report_chart(
    backend: MetricsBackend | None,
    *,
    out: Path,
    incident: Incident,
    diagnosis: Diagnosis | None,
    steps: Sequence[Step] = (),
    promql: Mapping[str, str] | None = None,
) -> ChartInfo:
    """The chart of a finished investigation: its diagnosis picks the panels, its steps give the onset
    and the rollout, the alert's name finds when it fired."""
    subject = subject_of(diagnosis, incident)
    return render_chart(
        backend,
        out=out,
        subject=subject,
        as_of=incident.as_of,
        onset=onset_from(steps),
        rollout=rollout_from(steps, subject.service if subject else None),
        alertname=incident.labels.get("alertname"),
        promql=promql,
    )
