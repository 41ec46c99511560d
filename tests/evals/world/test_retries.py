"""Clients with timeouts and retries: a dependency slower than its caller's timeout shows as the
caller's errors, and retried calls multiply the callee's traffic."""

from __future__ import annotations

from typing import Any

import pytest

from evals.world.model import World
from tests.evals.world.query import error_ratio, mean_latency_s
from tests.evals.world.realism_worlds import SERVER, client_calls, served_per_s, shop_world, windows

SLOW_STORE = [
    {"kind": "dependency_latency", "target": "store", "start": "-30m", "params": {"delay": "300ms"}}
]


def _world(api: dict[str, Any], faults: list[dict[str, Any]] = SLOW_STORE) -> World:
    return shop_world(faults=faults, realism={"clients": {"api": api}})


def test_a_callee_slower_than_the_timeout_shows_as_caller_errors_not_callee_errors() -> None:
    world = _world({"timeout": "150ms"})
    plain = shop_world(faults=SLOW_STORE)
    before, after = windows(world, -30 * 60)
    assert error_ratio(world, "api", *before) == 0.0
    assert error_ratio(world, "api", *after) > 0.9  # 320 ms answers against a 150 ms timeout
    assert error_ratio(world, "web", *after) > 0.9  # and the failure travels up
    assert error_ratio(plain, "api", *after) == 0.0  # without a timeout the same fault is only slow
    assert error_ratio(world, "store", *after) == 0.0  # the store still answers, late, with 200
    assert mean_latency_s(world, SERVER, *after, service="store") > 0.3
    timed_out = client_calls(world, "api", "store", after, code="504")
    assert timed_out / client_calls(world, "api", "store", after) > 0.9
    assert client_calls(world, "api", "store", before, code="504") == 0.0
    # The caller waits no longer than its timeout.
    assert mean_latency_s(world, SERVER, *after, service="api") < 0.2


def test_retries_multiply_the_callees_traffic_and_hide_some_failures() -> None:
    once = _world({"timeout": "320ms"})  # about half the slowed answers come too late
    twice = _world({"timeout": "320ms", "retries": 2})
    before, after = windows(once, -30 * 60)
    share = error_ratio(once, "api", *after)
    assert 0.3 < share < 0.7
    expected = 1 + share + share**2  # attempts per call with two retries
    amplified = served_per_s(twice, "store", after) / served_per_s(once, "store", after)
    assert amplified == pytest.approx(expected, rel=0.1)
    assert served_per_s(twice, "store", before) == pytest.approx(
        served_per_s(once, "store", before), rel=0.01
    )
    assert error_ratio(twice, "api", *after) == pytest.approx(share**3, abs=0.05)
    # Each attempt is a client request, and a retried call takes as long as all its attempts.
    assert client_calls(twice, "api", "store", after) > 1.5 * client_calls(once, "api", "store", after)
    assert mean_latency_s(twice, SERVER, *after, service="api") > mean_latency_s(
        once, SERVER, *after, service="api"
    )


def test_errors_are_retried_too_without_a_timeout() -> None:
    bad = [{"kind": "bad_deploy", "target": "store", "start": "-30m", "params": {"error_ratio": 0.5}}]
    plain = shop_world(faults=bad)
    retried = _world({"retries": 1}, bad)
    _, after = windows(plain, -30 * 60)
    assert served_per_s(retried, "store", after) == pytest.approx(
        1.5 * served_per_s(plain, "store", after), rel=0.05
    )
    assert error_ratio(retried, "api", *after) == pytest.approx(0.25, abs=0.04)
    assert error_ratio(plain, "api", *after) == pytest.approx(0.5, abs=0.04)


def test_traces_and_logs_show_the_timeout_and_the_resends() -> None:
    world = _world({"timeout": "150ms", "retries": 1})
    end_ns = int(world.timestamps[-1]) * 1_000_000
    late = [
        s
        for s in world.spans
        if s.kind == "client" and s.service == "api" and s.start_ns > end_ns - 15 * 60 * 10**9
    ]
    timed_out = [s for s in late if s.attributes.get("error.type") == "timeout"]
    assert timed_out and all(s.error and s.end_ns - s.start_ns == 150_000_000 for s in timed_out)
    assert any(s.attributes.get("http.request.resend_count") == 1 for s in late)
    api_lines = [line for log in world.logs if log.pod.startswith("api-") for line in log.lines]
    assert any(
        "upstream timeout calling store: context deadline exceeded after 150ms" in line for line in api_lines
    )
