"""Faults that ramp instead of stepping, slow leaks that began hours before the alert, and faults that
overlap (a cascade, or two things wrong at once)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from evals.world.model import World
from tests.evals.world.query import cpu_cores, error_ratio, index_at, mean_latency_s, select
from tests.evals.world.realism_worlds import CLIENT, SERVER, client_calls, shop_world


def _fault(kind: str, target: str, start: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "target": target, "start": start, **extra}


def _thirds(world: World, start_min: int, length_min: int) -> list[tuple[int, int]]:
    """Three 10-minute windows ending at 1/3, 2/3 and 3/3 of a ramp that begins `start_min` before end."""
    ends = [start_min - length_min * k // 3 for k in (1, 2, 3)]
    return [(index_at(world, -(e + 10) * 60), index_at(world, -e * 60)) for e in ends]


def test_a_ramped_cpu_hog_creeps_up_where_a_step_jumps() -> None:
    hog = _fault("cpu_hog", "api", "-100m", params={"cores": 0.6})
    creeping = shop_world(faults=[{**hog, "ramp": "90m"}])
    stepped = shop_world(faults=[hog])
    first, second, third = (cpu_cores(creeping, "api", *w) for w in _thirds(creeping, 100, 90))
    assert first < second < third
    assert second - first == pytest.approx(0.2, abs=0.05) and third - second == pytest.approx(0.2, abs=0.05)
    assert cpu_cores(stepped, "api", *_thirds(stepped, 100, 90)[0]) == pytest.approx(third, abs=0.05)


def test_a_ramped_delay_and_error_ratio_grow_linearly() -> None:
    world = shop_world(
        faults=[
            _fault("dependency_latency", "store", "-100m", params={"delay": "300ms"}, ramp="90m"),
            _fault("bad_deploy", "api", "-100m", params={"error_ratio": 0.6}, ramp="90m"),
        ]
    )
    latency = [
        mean_latency_s(world, CLIENT, *w, service="api", server_address="store")
        for w in _thirds(world, 100, 90)
    ]
    assert np.diff(latency) == pytest.approx([0.1, 0.1], abs=0.03)
    errors = [error_ratio(world, "api", *w) for w in _thirds(world, 100, 90)]
    assert errors[0] < errors[1] < errors[2] and errors[2] == pytest.approx(0.6 * 0.95, abs=0.06)


def test_a_slow_leak_that_began_hours_before_end_climbs_for_hours() -> None:
    world = shop_world(
        history="6h", faults=[_fault("memory_leak", "api", "-5h", params={"time_to_oom": "6h"})]
    )
    for series in select(world, "container_memory_working_set_bytes", service="api"):
        values = series.values
        hourly = [values[index_at(world, -h * 3600)] for h in (5, 4, 3, 2, 1, 0)]
        assert (np.diff(hourly) > 0).all(), hourly
        assert values[-1] > 0.75 * 512 * 2**20 and hourly[0] < 0.6 * 512 * 2**20
    assert not any(
        v > 0
        for s in select(world, "kube_pod_container_status_restarts_total", service="api")
        for v in s.values
    )  # not yet OOM-killed: a responder sees only the climb


def test_faults_on_two_services_both_show() -> None:
    world = shop_world(
        faults=[
            _fault("cpu_hog", "web", "-40m", params={"cores": 2}),
            _fault("packet_loss", "store", "-20m", params={"loss": 0.3}),
        ]
    )
    before, both = (
        (index_at(world, -60 * 60), index_at(world, -45 * 60)),
        (index_at(world, -15 * 60), index_at(world, 0)),
    )
    assert cpu_cores(world, "web", *both) == pytest.approx(1.0, abs=0.02)
    assert cpu_cores(world, "web", *before) < 0.5
    lost = client_calls(world, "api", "store", both, code="500") / client_calls(world, "api", "store", both)
    assert lost == pytest.approx(0.15, abs=0.03)
    assert client_calls(world, "api", "store", before, code="500") == 0.0


def test_two_faults_on_one_service_compose() -> None:
    first, second = (
        _fault("dependency_latency", "store", "-40m", params={"delay": "100ms"}),
        _fault("dependency_latency", "store", "-20m", params={"delay": "200ms"}),
    )
    world = shop_world(faults=[first, second])
    alone = shop_world(faults=[first])
    late = (index_at(world, -15 * 60), index_at(world, 0))
    both = mean_latency_s(world, SERVER, *late, service="store")
    assert both - mean_latency_s(alone, SERVER, *late, service="store") == pytest.approx(0.2, abs=0.03)
    failing = shop_world(
        faults=[
            _fault("bad_deploy", "api", "-40m", params={"error_ratio": 0.3}),
            _fault("pod_failure", "api", "-20m", params={"pod": 0}),
        ]
    )
    by_pod = sorted(
        error_ratio(failing, "api", *late, pod=dict(s.labels)["pod"])
        for s in select(failing, f"{SERVER}_count", service="api", http_response_status_code="500")
        if not np.isnan(s.values[-1])
    )
    assert by_pod[-1] == 1.0 and by_pod[0] == pytest.approx(0.3, abs=0.06)
