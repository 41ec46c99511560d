"""Writing a finished investigation's report where people read it: report.json, report.md, signals.png."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from agent.report import Report, build_report
from agent.report_chart import ChartInfo, render_report_chart
from agent.report_markdown import render_markdown
from agent.state import InvestigationState, Usage
from tools.config import ToolsConfig
from tools.metrics.client import PrometheusBackend


def write_report(
    values: Mapping[str, object],
    *,
    tools: ToolsConfig,
    planner: str,
    wall_s: float,
    out_dir: Path,
    chart: ChartInfo | None = None,
) -> Report:
    """Build the report from the thread's final state, chart the key signals, write the three files.
    `chart`: one already drawn of the same investigation (another report of it), cited, not redrawn."""
    state: InvestigationState = dict(values)  # type: ignore[assignment]
    usage = state.get("usage") or Usage()
    state["usage"] = usage.model_copy(update={"wall_s": round(wall_s, 3)})
    report = build_report(state, planner=planner)
    if chart is None:
        chart = _draw_chart(report, state, tools, out_dir / "signals.png")
    report = report.model_copy(update={"chart": chart})
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(report.model_dump_json(indent=2))
    (out_dir / "report.md").write_text(render_markdown(report, relative_to=out_dir))
    return report


def _draw_chart(report: Report, state: InvestigationState, tools: ToolsConfig, out: Path) -> ChartInfo:
    metrics = PrometheusBackend(tools.prometheus_url, tools.timeout_s) if tools.prometheus_url else None
    try:
        return render_report_chart(
            metrics,
            out=out,
            incident=report.incident,
            diagnosis=report.diagnosis,
            steps=state.get("steps", []),
            # the chart queries in the convention the investigation's metric tools used
            promql=tools.templates_for(report.metric_profile.name) if report.metric_profile else tools.promql,
        )
    finally:
        if metrics is not None:
            metrics.close()
