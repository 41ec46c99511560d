"""Drawing the report's chart with matplotlib's Agg canvas (no pyplot global state, no display).

Colours: the markers (onset, rollout, alert, as_of) each own a colour that no series ever uses, so a
vertical line is never mistaken for a pod; the series palette is Okabe-Ito-like and colour-blind safe,
limits are grey and dashed, and the diagnosed pod is drawn thicker and listed first.
This module is imported only when a chart is drawn: reading a report never loads matplotlib.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from agent.chart_data import MarkerName, PlotPanel, PlotSeries

LineStyle = Literal["-", "--", "-.", ":"]

# (colour, line style); reserved: SERIES_COLOURS and LIMIT_COLOUR never repeat these colours.
MARKER_STYLES: dict[MarkerName, tuple[str, LineStyle]] = {
    "onset": ("#D55E00", "--"),  # vermillion
    "rollout": ("#CC79A7", "-."),  # reddish purple
    "alert": ("#E69F00", ":"),  # orange
    "as_of": ("#000000", "-"),  # black
}
SERIES_COLOURS = ("#0072B2", "#009E73", "#56B4E9", "#8C6D31", "#5E3C99", "#7FA319", "#1F2F6B")
LIMIT_COLOUR = "#7F7F7F"


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _x(ts: float) -> float:
    """Matplotlib's date number of a unix time (the axes use a UTC date axis)."""
    return float(date2num(_when(ts)))


def _xy(s: PlotSeries, scale: float) -> tuple[list[float], list[float]]:
    return [_x(t) for t, _ in s.points], [v * scale if math.isfinite(v) else math.nan for _, v in s.points]


def _states(ax: Axes, panel: PlotPanel) -> None:
    """0/1 conditions as a timeline: one row per condition, a bar where it was true."""
    for row, s in enumerate(panel.series):
        runs: list[tuple[float, float]] = []
        step = min((b - a for (a, _), (b, _) in zip(s.points, s.points[1:], strict=False)), default=60.0)
        for t, v in s.points:
            if not (math.isfinite(v) and v >= 0.5):
                continue
            x, width = _x(t), step / 86400
            if runs and math.isclose(runs[-1][0] + runs[-1][1], x, abs_tol=width / 2):
                runs[-1] = (runs[-1][0], runs[-1][1] + width)
            else:
                runs.append((x, width))
        colour = SERIES_COLOURS[row % len(SERIES_COLOURS)]
        ax.broken_barh(runs, (row - 0.35, 0.7), facecolors=colour, label=s.label)
    ax.set_yticks(range(len(panel.series)), [s.label for s in panel.series], fontsize=7)
    ax.set_ylim(len(panel.series) - 0.4, -0.6)  # the first condition on top, as the legend would read


def _stacked(ax: Axes, panel: PlotPanel) -> None:
    """Counts that add up (pods by phase) as stacked steps; what was largest at the start at the bottom."""
    times = sorted({t for s in panel.series for t, _ in s.points})
    columns = [dict(s.points) for s in panel.series]
    order = sorted(range(len(columns)), key=lambda i: -columns[i].get(times[0], 0.0))
    ys = [[_finite(columns[i].get(t, 0.0)) * panel.spec.scale for t in times] for i in order]
    ax.stackplot(
        [_x(t) for t in times],
        *ys,
        labels=[panel.series[i].label for i in order],
        colors=[SERIES_COLOURS[n % len(SERIES_COLOURS)] for n in range(len(order))],
        step="post",
        alpha=0.85,
    )
    ax.set_ylim(bottom=0)


def _lines(ax: Axes, panel: PlotPanel) -> None:
    values = 0
    for s in panel.series:
        xs, ys = _xy(s, panel.spec.scale)
        drawstyle = "steps-post" if panel.spec.style == "steps" else "default"
        if s.role == "limit":
            ax.plot(xs, ys, color=LIMIT_COLOUR, linestyle="--", linewidth=1.2, label=s.label)
            continue
        label = f"{s.label} (diagnosed)" if s.highlight else s.label
        width = 2.4 if s.highlight else 1.2
        colour = SERIES_COLOURS[values % len(SERIES_COLOURS)]
        ax.plot(
            xs,
            ys,
            color=colour,
            linewidth=width,
            label=label,
            drawstyle=drawstyle,
            zorder=3 if s.highlight else 2,
        )
        values += 1
    ax.set_ylim(bottom=0)  # every signal here is non-negative; a flat line should look flat
    if panel.hidden:
        ax.plot([], [], " ", label=f"+{panel.hidden} more not shown")


def build_figure(
    title: str,
    panels: list[PlotPanel],
    markers: dict[MarkerName, datetime],
    start: datetime,
    end: datetime,
) -> Figure:
    """The figure: one panel per row on a shared UTC time axis, markers across every panel."""
    figure = Figure(figsize=(10, 1.9 * len(panels) + 1.0), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, panel in zip(axes, panels, strict=True):
        ax.xaxis_date(tz=UTC)
        {"states": _states, "stacked": _stacked}.get(panel.spec.style, _lines)(ax, panel)
        if panel.spec.style in ("steps", "stacked"):
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        unit = "" if panel.spec.style == "states" else f" ({panel.spec.unit})"
        ax.set_title(f"{panel.spec.name}{unit}", fontsize=9, loc="left")
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        for name, at in markers.items():
            colour, style = MARKER_STYLES[name]
            ax.axvline(
                float(date2num(at)), color=colour, linestyle=style, linewidth=1.3, gid=f"marker:{name}"
            )
        if panel.spec.style != "states":
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    pad = (end - start) * 0.02  # the as_of line must not sit on the frame
    axes[-1].set_xlim(start, end + max(pad, timedelta(minutes=1)))
    axes[-1].xaxis.set_major_formatter(DateFormatter("%H:%M", tz=UTC))
    axes[-1].set_xlabel("UTC", fontsize=8)
    handles = [
        Line2D([], [], color=MARKER_STYLES[n][0], linestyle=MARKER_STYLES[n][1], label=f"{n} {at:%H:%M}")
        for n, at in markers.items()
    ]
    if handles:
        figure.legend(
            handles=handles, loc="outside upper right", ncols=len(handles), fontsize=8, frameon=False
        )
    figure.suptitle(title, fontsize=10, x=0.01, ha="left")
    return figure


def save_figure(figure: Figure, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, format="png")
