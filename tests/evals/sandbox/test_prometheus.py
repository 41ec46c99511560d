"""Backfill into a real Prometheus (Debian's 2.42) and query the past at the scenario's `end`."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from evals.sandbox import processes
from evals.sandbox.openmetrics import WindowFile
from evals.sandbox.processes import ProcessRecord
from evals.sandbox.prometheus import (
    INSTALL_HINT,
    Backfill,
    PrometheusError,
    PrometheusServer,
    backfill_world,
    find_binary,
    probe_query,
)
from evals.world.model import World
from tests.evals.sandbox.handmade_world import END, HISTORY_S, STEP_S, handmade_world

pytestmark = pytest.mark.sandbox


@pytest.fixture
def started() -> Iterator[list[ProcessRecord]]:
    """Every Prometheus a test starts, stopped by pid afterwards."""
    records: list[ProcessRecord] = []
    yield records
    for record in records:
        processes.stop(record)


def _serve(world: World, tmp_path: Path, started: list[ProcessRecord], port: int | None = None) -> str:
    stats = backfill_world(world, tmp_path / "om", tmp_path / "tsdb")
    assert stats.samples == world.sample_count and stats.windows == 4
    assert not (tmp_path / "om").exists()  # window files are removed once backfilled
    server = PrometheusServer("prometheus", tmp_path / "tsdb", tmp_path / "prometheus.log", started.append)
    server.start(port)
    server.wait_ready(probe_query(world), END, time.monotonic() + 60)
    return server.url


def test_history_in_the_past_is_queryable_at_end(tmp_path: Path, started: list[ProcessRecord]) -> None:
    world = handmade_world()
    url = _serve(world, tmp_path, started)
    count = world.families[0].series[-1].values  # http_server_request_duration_seconds_count

    with httpx.Client(base_url=url, timeout=10) as client:
        instant = client.get(
            "/api/v1/query",
            params={"query": "sum(http_server_request_duration_seconds_count)", "time": END.timestamp()},
        ).json()
        assert instant["status"] == "success"
        assert float(instant["data"]["result"][0]["value"][1]) == count[-1]

        start = END.timestamp() - HISTORY_S
        ranged = client.get(
            "/api/v1/query_range",
            params={
                "query": "http_server_request_duration_seconds_count",
                "start": start,
                "end": END.timestamp(),
                "step": STEP_S,
            },
        ).json()
        points = ranged["data"]["result"][0]["values"]
        assert len(points) == len(world.timestamps)
        assert [float(v) for _, v in points] == count.tolist()

        # A gap (NaN) holds no sample: a lookback shorter than the gap finds nothing inside it.
        gap_at = int(world.timestamps[120]) / 1000
        gauge = client.get(
            "/api/v1/query",
            params={"query": "container_memory_working_set_bytes[1m]", "time": gap_at},
        ).json()
        assert gauge["data"]["result"] == []
        rate = client.get(
            "/api/v1/query",
            params={
                "query": 'rate(container_cpu_usage_seconds_total{pod="web-1"}[5m])',
                "time": END.timestamp(),
            },
        ).json()
        cpu = world.families[1].series[0].values
        expected = (cpu[-1] - cpu[-21]) / 300
        assert float(rate["data"]["result"][0]["value"][1]) == pytest.approx(expected, rel=1e-6)


def test_a_taken_port_is_retried_on_another(tmp_path: Path, started: list[ProcessRecord]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        url = _serve(handmade_world(), tmp_path, started, port=port)
    assert url != f"http://127.0.0.1:{port}"
    assert len(started) == 2 and not processes.is_running(started[0]) and processes.is_running(started[1])


def test_missing_binaries_say_how_to_install() -> None:
    with pytest.raises(PrometheusError, match=r"install Debian's prometheus package \(make setup does it\)"):
        find_binary("/nonexistent/promtool")
    assert "make setup" in INSTALL_HINT
    with pytest.raises(PrometheusError, match="make setup"):
        PrometheusServer("no-such-prometheus", Path("/tmp"), Path("/tmp/x.log"), lambda _: None)


def test_backfill_failure_reports_promtool_stderr(tmp_path: Path) -> None:
    bad = tmp_path / "bad.om"
    bad.write_text("# TYPE m gauge\nm{oops 1 1000\n# EOF\n")
    backfill = Backfill("promtool", tmp_path / "tsdb")
    backfill.submit(WindowFile(path=bad, start_ms=0, samples=1))
    with pytest.raises(PrometheusError, match=r"promtool backfill of bad.om failed \(exit 1\):\n.*\S"):
        backfill.wait()


def test_probe_query_names_a_series_present_at_end() -> None:
    world = handmade_world()
    assert probe_query(world) == 'count({__name__="http_server_request_duration_seconds_bucket"})'
    for family in world.families:
        for series in family.series:
            series.values[-1] = np.nan
    assert probe_query(world) == 'count({__name__=~".+"})'
