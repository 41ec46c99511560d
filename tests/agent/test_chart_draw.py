"""The chart's colours: the onset, rollout, alert and as_of markers own colours no series ever takes, in
every panel style, even with as many lines as a panel holds; every marker crosses every panel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from matplotlib.colors import to_hex

from agent.chart_data import MAX_LINES, MarkerName, PlotPanel, PlotSeries
from agent.chart_draw import LIMIT_COLOUR, MARKER_STYLES, SERIES_COLOURS, build_figure
from agent.chart_panels import MEMORY, NODE_CONDITIONS, NODE_PODS, RESTARTS

START = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


def _points(level: float, jump_at: int = 30) -> list[tuple[float, float]]:
    t0 = START.timestamp()
    return [(t0 + 60 * i, level if i < jump_at else level + 1) for i in range(61)]


def _panels() -> list[PlotPanel]:
    pods = [PlotSeries(f"pod-{i}", _points(i), highlight=i == 3) for i in range(MAX_LINES)]
    limit = PlotSeries("limit", _points(10), role="limit")
    conditions = [PlotSeries(c, _points(0)) for c in ("MemoryPressure", "Ready")]
    phases = [PlotSeries("Running", _points(8)), PlotSeries("Failed", _points(0))]
    return [
        PlotPanel(MEMORY, [*pods, limit]),
        PlotPanel(RESTARTS, pods[:3]),
        PlotPanel(NODE_CONDITIONS, conditions),
        PlotPanel(NODE_PODS, phases),
    ]


def test_no_series_colour_is_a_marker_colour() -> None:
    reserved = {to_hex(colour) for colour, _ in MARKER_STYLES.values()}
    assert len(reserved) == len(MARKER_STYLES)
    assert not reserved & {to_hex(c) for c in (*SERIES_COLOURS, LIMIT_COLOUR)}
    assert len(set(SERIES_COLOURS)) >= MAX_LINES  # every line of a full panel has its own colour


def test_a_drawn_chart_keeps_marker_colours_for_markers() -> None:
    markers: dict[MarkerName, datetime] = {
        "rollout": START + timedelta(minutes=28),
        "alert": START + timedelta(minutes=40),
        "onset": START + timedelta(minutes=30),
        "as_of": END,
    }
    figure = build_figure("t", _panels(), markers, START, END)
    reserved = {to_hex(colour) for colour, _ in MARKER_STYLES.values()}
    for ax in figure.axes:
        marker_lines = [line for line in ax.get_lines() if str(line.get_gid()).startswith("marker:")]
        assert {str(line.get_gid()) for line in marker_lines} == {f"marker:{n}" for n in markers}
        for line in marker_lines:
            name = str(line.get_gid()).removeprefix("marker:")
            assert to_hex(line.get_color()) == to_hex(MARKER_STYLES[name][0])  # type: ignore[index]
        series = [line for line in ax.get_lines() if line not in marker_lines and line.get_xdata().size]
        assert all(to_hex(line.get_color()) not in reserved for line in series)
        for collection in ax.collections:  # bars of conditions, stacked phases
            assert all(to_hex(tuple(c)) not in reserved for c in collection.get_facecolors())
        left, right = ax.get_xlim()
        assert all(left <= float(line.get_xdata()[0]) <= right for line in marker_lines)
    series_colours = {
        to_hex(line.get_color())
        for line in figure.axes[0].get_lines()
        if not str(line.get_gid()).startswith("marker:")
    }
    assert len(series_colours) == MAX_LINES + 1  # one per pod, and the limit's grey


def test_the_diagnosed_pod_is_drawn_thicker() -> None:
    figure = build_figure("t", _panels()[:1], {"as_of": END}, START, END)
    widths = {line.get_label(): line.get_linewidth() for line in figure.axes[0].get_lines()}
    assert widths["pod-3 (diagnosed)"] > widths["pod-0"]
