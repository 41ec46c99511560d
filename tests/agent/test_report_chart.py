"""The signals chart, rendered from a real Prometheus over the hand-made data set: a valid PNG of
three panels with the onset found where the burst starts; no chart (and a note) without data."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from agent.report import Report, build_report
from agent.report_chart import estimate_onset, render_signal_chart
from tests.agent.report_state import state
from tests.tools.prom_fixture import AS_OF, BURST_START, RunningPrometheus, free_port, running_prometheus
from tools.config import ToolsConfig
from tools.metrics.client import PrometheusBackend, RangeSeries


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPrometheus]:
    with running_prometheus(tmp_path_factory.mktemp("prometheus")) as running:
        yield running


@pytest.fixture
def backend(prometheus: RunningPrometheus) -> Iterator[PrometheusBackend]:
    client = PrometheusBackend(prometheus.url, timeout_s=5)
    yield client
    client.close()


def test_chart_from_real_prometheus(backend: PrometheusBackend, tmp_path: Path) -> None:
    out = tmp_path / "report" / "signals.png"
    chart = render_signal_chart(
        backend,
        out=out,
        as_of=AS_OF,
        service="checkout",
        namespace="boutique",
        promql=ToolsConfig().promql,
    )
    assert chart.path == str(out), chart.note
    assert chart.signals == ["error_ratio", "latency_quantile", "cpu_usage_cores"], chart.note
    png = out.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (900, 720)
    assert len(png) > 20_000  # three panels of lines, not a blank canvas
    # the burst starts at BURST_START; a 5m rate window makes the ratio climb over the next minutes
    assert chart.onset is not None and chart.onset_estimated
    assert BURST_START <= chart.onset <= BURST_START + timedelta(minutes=6)
    assert chart.start == AS_OF - timedelta(hours=1) and chart.end == AS_OF

    report = build_report(state(), planner="rules", chart=chart)
    md = report.to_markdown(relative_to=tmp_path)
    assert "![checkout around the onset](report/signals.png)" in md
    assert "(estimated from the signals)" in md
    assert Report.model_validate_json(report.model_dump_json()) == report


def test_chart_given_onset_is_kept(backend: PrometheusBackend, tmp_path: Path) -> None:
    onset = AS_OF - timedelta(minutes=30)
    chart = render_signal_chart(backend, out=tmp_path / "c.png", as_of=AS_OF, service="frontend", onset=onset)
    assert chart.onset == onset and not chart.onset_estimated
    assert chart.path is not None


def test_no_chart_without_backend_or_data(backend: PrometheusBackend, tmp_path: Path) -> None:
    none = render_signal_chart(None, out=tmp_path / "x.png", as_of=AS_OF, service="checkout")
    assert none.path is None and "no metrics backend" in none.note
    md = build_report(state(), planner="rules", chart=none).to_markdown()
    assert "no chart: no metrics backend is configured" in md

    unknown = render_signal_chart(backend, out=tmp_path / "y.png", as_of=AS_OF, service="nosuchservice")
    assert unknown.path is None and "no signal of nosuchservice had data" in unknown.note
    assert not (tmp_path / "y.png").exists()


def test_a_dead_backend_gives_a_note_not_an_exception(tmp_path: Path) -> None:
    dead = PrometheusBackend(f"http://127.0.0.1:{free_port()}", timeout_s=1)
    chart = render_signal_chart(dead, out=tmp_path / "z.png", as_of=AS_OF, service="checkout")
    dead.close()
    assert chart.path is None
    assert "unreachable" in chart.note


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
