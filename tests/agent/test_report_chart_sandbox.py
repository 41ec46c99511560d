"""The report's chart on real sandboxes: each shipped scenario triaged by the rules planner, its report
written as the CLI writes it, and the chart checked without looking at pixels: the panels fit the
diagnosed kind and each has data, the onset (and the fault's real start) lie inside the window with a
baseline before them, and report.json / report.md name the panels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.chart_panels import choose_panels
from agent.report_chart import MIN_BASELINE
from agent.report_files import write_report
from tests.agent.triage_driver import shipped_triage
from tests.sandbox_fixture import SHIPPED, SandboxPool
from tools.config import ToolsConfig

# Spelled out for the kinds the issue names, so a wrong choice cannot agree with itself.
EXPECTED = {
    "sock-shop-memory-leak": ["memory vs limit", "restarts"],
    "train-ticket-pod-failure": ["error ratio per pod", "error ratio"],
    "boutique-node-pressure": ["node conditions", "pods on the node", "p99 latency of the node's pods"],
}


@pytest.mark.sandbox
@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_the_chart_of_each_shipped_scenario_fits_its_diagnosis(
    scenario_id: str, sandbox_pool: SandboxPool, tmp_path: Path
) -> None:
    scenario, triage = shipped_triage(scenario_id, sandbox_pool)
    _, info = sandbox_pool.get(scenario_id)
    view = triage.view
    values = {
        "incident": view.incident,
        "steps": view.steps,
        "evidence": view.evidence,
        "usage": view.usage,
        "diagnosis": triage.diagnosis,
    }
    tools = ToolsConfig(prometheus_url=info.prometheus_url)
    report = write_report(values, tools=tools, planner="rules", wall_s=triage.wall_s, out_dir=tmp_path)
    chart, top = report.chart, triage.diagnosis.top
    if top is None:  # no cause named: an overview of the alert's service, or no chart
        assert chart.fault_kind is None and chart.panels in (
            [],
            ["error ratio", "p99 latency", "CPU vs limit"],
        )
        assert chart.onset is None  # nothing is wrong: no onset to mark
        return

    assert chart.path is not None and Path(chart.path).stat().st_size > 20_000, chart.note
    assert chart.entity == top.entity and chart.fault_kind == top.fault_kind
    chosen = [p.name for p in choose_panels(top.fault_kind, top.entity_kind)]
    assert chart.panels == EXPECTED.get(scenario_id, chosen), chart.note
    assert all(chart.points[p] >= 20 for p in chart.panels), chart.points

    assert chart.start is not None and chart.end == scenario.end_utc
    assert chart.onset is not None and not chart.onset_estimated  # the investigation's own onset
    assert chart.start + MIN_BASELINE <= chart.onset <= chart.end
    for fault in scenario.faults:  # where the fault really began is on the chart too
        assert chart.start <= scenario.at(fault.start) <= chart.end
    if top.fault_kind in ("bad_deploy", "crashloop"):
        assert chart.rollout is not None and chart.start <= chart.rollout <= chart.onset

    written = json.loads((tmp_path / "report.json").read_text())
    assert written["chart"]["panels"] == chart.panels
    md = (tmp_path / "report.md").read_text()
    assert f"Panels ({top.fault_kind} on {top.entity}): {', '.join(chart.panels)}" in md
