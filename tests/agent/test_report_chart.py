"""The report's chart from a real Prometheus over the hand-made data set: panels chosen by the diagnosis
with data in each, the onset inside the window with a baseline before it, the panels named in
report.json and under the chart in report.md; no chart (and a note) without a backend or data."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from agent.chart_panels import ChartSubject
from agent.diagnosis import Diagnosis, Hypothesis
from agent.report import Report, build_report
from agent.report_chart import (
    MIN_BASELINE,
    ChartInfo,
    chart_window,
    estimate_onset,
    onset_from,
    render_chart,
    render_report_chart,
    rollout_from,
)
from agent.state import Step, ToolCall
from tests.agent.report_state import incident, state
from tests.tools.prom_fixture import AS_OF, BURST_START, RunningPrometheus, free_port, running_prometheus
from tools.config import ToolsConfig
from tools.metrics.client import PrometheusBackend, RangeSeries

CHECKOUT = ChartSubject(entity="checkout", service="checkout", namespace="boutique", fault_kind="bad_deploy")
PROMQL = ToolsConfig().promql


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPrometheus]:
    with running_prometheus(tmp_path_factory.mktemp("prometheus")) as running:
        yield running


@pytest.fixture
def backend(prometheus: RunningPrometheus) -> Iterator[PrometheusBackend]:
    client = PrometheusBackend(prometheus.url, timeout_s=5)
    yield client
    client.close()


def test_a_bad_deploy_chart_from_real_prometheus(backend: PrometheusBackend, tmp_path: Path) -> None:
    out = tmp_path / "report" / "signals.png"
    chart = render_chart(backend, out=out, subject=CHECKOUT, as_of=AS_OF, promql=PROMQL)
    assert chart.path == str(out), chart.note
    assert chart.panels == ["error ratio", "p99 latency"], chart.note
    assert all(chart.points[p] > 100 for p in chart.panels)
    png = out.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1000, 480)
    assert len(png) > 20_000  # lines, not a blank canvas
    # the burst starts at BURST_START; a 5m rate window makes the ratio climb over the next minutes
    assert chart.onset is not None and chart.onset_estimated
    assert BURST_START <= chart.onset <= BURST_START + timedelta(minutes=6)
    assert chart.start == AS_OF - timedelta(hours=1) and chart.end == AS_OF

    report = build_report(state(), planner="rules", chart=chart)
    md = report.to_markdown(relative_to=tmp_path)
    assert "![checkout around the onset](report/signals.png)" in md
    assert "Panels (bad_deploy on checkout): error ratio, p99 latency; marked: onset" in md
    assert "(estimated from the signals)" in md
    assert json.loads(report.model_dump_json())["chart"]["panels"] == ["error ratio", "p99 latency"]
    assert Report.model_validate_json(report.model_dump_json()) == report


def test_a_leak_long_before_the_alert_is_charted_from_before_its_onset(
    backend: PrometheusBackend, tmp_path: Path
) -> None:
    """The default hour would start after an onset 80 minutes back: the window reaches past it."""
    cart = ChartSubject(entity="cart", service="cart", namespace="boutique", fault_kind="memory_leak")
    onset = AS_OF - timedelta(minutes=80)
    chart = render_chart(backend, out=tmp_path / "c.png", subject=cart, as_of=AS_OF, onset=onset)
    assert chart.panels == ["memory vs limit", "restarts"], chart.note
    assert chart.signals == ["memory_working_set_bytes", "memory_limit_bytes", "restart_count"]
    assert chart.onset == onset and not chart.onset_estimated
    assert chart.start is not None and chart.start <= onset - MIN_BASELINE and chart.end == AS_OF
    assert all(chart.points[p] > 0 for p in chart.panels)


def test_a_chart_for_the_verdict_of_the_report(backend: PrometheusBackend, tmp_path: Path) -> None:
    """render_report_chart: the diagnosis picks the panels (a pod's own view for a pod entity), the
    steps give the onset, and an INCONCLUSIVE verdict still gets its chart."""
    low = Diagnosis(
        hypotheses=[
            Hypothesis(
                entity="pod/checkout-7c9d8f6b5-abcde",
                entity_kind="pod",
                service="checkout",
                fault_kind="pod_failure",
                confidence=0.3,
                label="INCONCLUSIVE",
                summary="one pod fails?",
                evidence=["e1"],
            )
        ]
    )
    onset = AS_OF - timedelta(minutes=19)
    rank = Step(
        call=ToolCall(id="r", tool="rank_root_causes", args={}),
        status="ok",
        summary="",
        data={"onset": onset.isoformat()},
    )
    chart = render_report_chart(
        backend, out=tmp_path / "p.png", incident=incident(), diagnosis=low, steps=[rank], promql=PROMQL
    )
    assert chart.entity == "pod/checkout-7c9d8f6b5-abcde" and chart.fault_kind == "pod_failure"
    assert chart.panels == ["error ratio per pod", "error ratio"], chart.note
    assert chart.onset == onset and not chart.onset_estimated


def test_a_healthy_verdict_gets_an_overview_without_an_onset(
    backend: PrometheusBackend, tmp_path: Path
) -> None:
    """Checkout's burst would be read as an onset, but the verdict says nothing is wrong: no marker
    may contradict it."""
    healthy = ChartSubject(entity="checkout", service="checkout", namespace="boutique", healthy=True)
    onset = AS_OF - timedelta(minutes=19)
    chart = render_chart(backend, out=tmp_path / "h.png", subject=healthy, as_of=AS_OF, onset=onset)
    assert chart.panels == ["error ratio", "p99 latency", "CPU vs limit"], chart.note
    assert chart.onset is None and not chart.onset_estimated
    assert chart.caption() == "Panels (overview of checkout): error ratio, p99 latency, CPU vs limit."


def test_an_entity_without_its_own_metrics_is_shown_through_its_callers(
    backend: PrometheusBackend, tmp_path: Path
) -> None:
    """An external dependency reports no server metrics and has no pods: its callers' view is used."""
    external = {
        name: "absent_metric_for_an_external"
        for name in ("error_ratio", "latency_quantile", "cpu_usage_cores")
    }
    subject = ChartSubject(entity="checkout", service="checkout", namespace="boutique")
    chart = render_chart(
        backend, out=tmp_path / "e.png", subject=subject, as_of=AS_OF, promql={**PROMQL, **external}
    )
    assert chart.panels == ["callers' error ratio", "callers' p99 latency"], chart.note
    assert "error ratio: no data" in chart.note


def test_no_chart_without_backend_or_data(backend: PrometheusBackend, tmp_path: Path) -> None:
    none = render_chart(None, out=tmp_path / "x.png", subject=CHECKOUT, as_of=AS_OF)
    assert none.path is None and "no metrics backend" in none.note
    md = build_report(state(), planner="rules", chart=none).to_markdown()
    assert "no chart: no metrics backend is configured" in md

    unknown = ChartSubject(entity="nosuchservice", service="nosuchservice")
    nothing = render_chart(backend, out=tmp_path / "y.png", subject=unknown, as_of=AS_OF)
    assert nothing.path is None and "no panel for nosuchservice had data" in nothing.note
    assert not (tmp_path / "y.png").exists()
    nobody = render_chart(backend, out=tmp_path / "z.png", subject=None, as_of=AS_OF)
    assert nobody.path is None and "names no entity" in nobody.note


def test_a_dead_backend_gives_a_note_not_an_exception(tmp_path: Path) -> None:
    dead = PrometheusBackend(f"http://127.0.0.1:{free_port()}", timeout_s=1)
    chart = render_chart(dead, out=tmp_path / "z.png", subject=CHECKOUT, as_of=AS_OF)
    dead.close()
    assert chart.path is None
    assert "unreachable" in chart.note


def test_the_window_holds_the_onset_and_a_rollout_that_belongs_to_the_story() -> None:
    hour = timedelta(hours=1)
    assert chart_window(AS_OF, None, None) == (AS_OF - hour, AS_OF)
    assert chart_window(AS_OF, AS_OF - timedelta(minutes=25), None) == (AS_OF - hour, AS_OF)
    start, _ = chart_window(AS_OF, AS_OF - timedelta(minutes=90), None)
    assert start == AS_OF - timedelta(minutes=120)  # a third of the episode before it
    start, _ = chart_window(AS_OF, AS_OF - timedelta(minutes=50), AS_OF - timedelta(minutes=55))
    assert start == AS_OF - timedelta(minutes=75)  # the rollout, and a baseline before it


def test_onset_and_rollout_come_from_the_investigations_steps() -> None:
    def step(tool: str, data: dict[str, object], **args: str) -> Step:
        return Step(call=ToolCall(id=tool, tool=tool, args=args), status="ok", summary="", data=data)

    onset = AS_OF - timedelta(minutes=20)
    rollback = [
        {"revision": 2, "created": "2025-01-10T09:00:00Z", "became_current": "2025-01-10T09:00:00Z"},
        # a rollback reuses rev 1's old ReplicaSet: the marker goes where it became current again
        {"revision": 3, "created": "2025-01-01T00:00:00Z", "became_current": "2025-01-15T11:38:00Z"},
    ]
    unknown = [{"revision": 4, "created": "2025-01-15T11:50:00Z", "became_current": None}]
    legacy = [{"revision": 1, "created": "2025-01-15T11:30:00+00:00"}]  # a history from before the field
    steps = [
        step("rank_root_causes", {"onset": "garbage"}),
        step("rank_root_causes", {"onset": onset.isoformat()}),
        step("kube_workload", {"revisions": rollback}, name="checkout"),
        step("kube_workload", {"revisions": unknown}, name="frontend"),
        step("kube_workload", {"revisions": legacy}, name="cart"),
        step("kube_workload", {"revisions": []}, name="ads"),
    ]
    assert onset_from(steps) == onset and onset_from(steps[:1]) is None
    assert rollout_from(steps, "checkout") == AS_OF - timedelta(minutes=22)
    assert rollout_from(steps, "frontend") is None  # unknown stays unknown, not the creation time
    assert rollout_from(steps, "cart") == AS_OF - timedelta(minutes=30)
    assert rollout_from(steps, "ads") is None and rollout_from(steps, None) is None


def test_the_caption_names_the_panels_and_the_markers_in_the_order_they_happened() -> None:
    chart = ChartInfo(
        path="signals.png",
        entity="node/n2",
        fault_kind="node_pressure",
        panels=["node conditions", "pods on the node"],
        onset=AS_OF - timedelta(minutes=18),
        rollout=AS_OF - timedelta(minutes=22),
    )
    assert chart.caption() == (
        "Panels (node_pressure on node/n2): node conditions, pods on the node; marked: rollout 11:38, onset 11:42 UTC."
    )
    overview = ChartInfo(path="signals.png", entity="front", panels=["error ratio"])
    assert overview.caption() == "Panels (overview of front): error ratio."
    md = build_report(state(), planner="rules", chart=chart).to_markdown()
    assert "![node/n2 around the onset](signals.png)\n\nPanels (node_pressure on node/n2)" in md


def test_estimate_onset_finds_a_sustained_step_and_ignores_a_blip() -> None:
    times = [float(t * 30) for t in range(120)]

    def series(values: list[float]) -> RangeSeries:
        return RangeSeries(labels={}, points=list(zip(times, values, strict=True)))

    flat = [0.01 + 0.001 * (i % 3) for i in range(120)]
    step = flat[:80] + [0.3] * 40
    blip = [*flat[:50], 0.5, *flat[51:]]
    assert estimate_onset([series(step)]) == times[80]
    assert estimate_onset([series(blip)]) is None
    assert estimate_onset([series(blip), series(step)]) == times[80]
    assert estimate_onset([series(flat)]) is None
