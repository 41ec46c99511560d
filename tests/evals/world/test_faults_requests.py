"""Faults that show in requests: each effect appears where DESIGN §3.5 puts it, and nowhere else."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from evals.world.model import World
from tests.evals.world.query import (
    cpu_cores,
    error_ratio,
    index_at,
    label,
    mean_latency_s,
    objects,
    select,
    throttled_share,
)

Worlds = Callable[[str], World]
SERVER = "http_server_request_duration_seconds"
CLIENT = "http_client_request_duration_seconds"


def _windows(world: World, start_s: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """A window well before a fault that starts `start_s` before end, and one well after it."""
    return (index_at(world, start_s - 1800), index_at(world, start_s - 60)), (
        index_at(world, start_s + 300),
        index_at(world, 0),
    )


def test_bad_deploy_fails_the_new_revision_and_its_callers_only(shipped_world: Worlds) -> None:
    world = shipped_world("checkout-bad-deploy")
    before, after = _windows(world, -25 * 60)
    assert error_ratio(world, "checkoutservice", *before) == 0.0
    assert error_ratio(world, "checkoutservice", *after) == pytest.approx(0.3, abs=0.04)
    assert error_ratio(world, "frontend", *after) == pytest.approx(0.3, abs=0.04)
    assert mean_latency_s(world, SERVER, *after, service="checkoutservice") > 1.1 * mean_latency_s(
        world, SERVER, *before, service="checkoutservice"
    )
    for healthy in ("cartservice", "paymentservice", "productcatalogservice", "adservice"):
        assert not select(world, f"{SERVER}_count", service=healthy, http_response_status_code="500"), healthy
    failing_pods = {
        label(s, "pod")
        for s in select(world, f"{SERVER}_count", service="checkoutservice", http_response_status_code="500")
    }
    current = [
        rs for rs in objects(world, "ReplicaSet") if rs["metadata"]["name"].startswith("checkoutservice-")
    ]
    new_rs = max(
        current, key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
    )
    assert failing_pods and all(p.startswith(new_rs["metadata"]["name"] + "-") for p in failing_pods)
    lines = [line for log in world.logs if log.pod in failing_pods for line in log.lines]
    assert any("ERROR unhandled exception" in line for line in lines)


def test_dependency_latency_slows_callers_without_a_resource_signal(shipped_world: Worlds) -> None:
    world = shipped_world("payments-dependency-latency")
    before, after = _windows(world, -30 * 60)
    assert mean_latency_s(world, CLIENT, *after, service="ledger", server_address="fx") > 0.7
    assert mean_latency_s(world, CLIENT, *before, service="ledger", server_address="fx") < 0.1
    assert mean_latency_s(world, SERVER, *after, service="gateway") > 0.7
    assert mean_latency_s(world, SERVER, *after, service="auth") == pytest.approx(
        mean_latency_s(world, SERVER, *before, service="auth"), rel=0.25
    )
    assert not select(world, f"{SERVER}_count", service="fx")  # externals have no pods
    assert not select(world, "container_cpu_usage_seconds_total", service="fx")
    ratio = cpu_cores(world, "ledger", *after) / cpu_cores(world, "ledger", *before)
    assert 0.7 < ratio < 1.3
    assert all(throttled_share(world, s, *after) == 0.0 for s in ("gateway", "ledger", "auth"))
    assert any(
        "upstream timeout calling fx" in line
        for log in world.logs
        if log.pod.startswith("ledger-")
        for line in log.lines
    )


def test_packet_loss_shows_on_the_callers_side_not_on_the_target(shipped_world: Worlds) -> None:
    world = shipped_world("sock-shop-packet-loss")
    before, after = _windows(world, -25 * 60)
    edge = {"service": "orders", "server_address": "payment"}
    failed = sum(
        np.nansum(np.diff(s.values[after[0] : after[1] + 1]))
        for s in select(world, f"{CLIENT}_count", http_response_status_code="500", **edge)
    )
    total = sum(
        np.nansum(np.diff(s.values[after[0] : after[1] + 1]))
        for s in select(world, f"{CLIENT}_count", **edge)
    )
    assert failed / total == pytest.approx(0.15, abs=0.03)
    assert mean_latency_s(
        world, CLIENT, *after, service="orders", server_address="payment"
    ) > 3 * mean_latency_s(world, CLIENT, *before, service="orders", server_address="payment")
    assert error_ratio(world, "orders", *after) > 0.1
    assert not select(world, f"{SERVER}_count", service="payment", http_response_status_code="500")
    assert mean_latency_s(world, SERVER, *after, service="payment") == pytest.approx(
        mean_latency_s(world, SERVER, *before, service="payment"), rel=0.2
    )


def test_pod_failure_fails_exactly_one_pod(shipped_world: Worlds) -> None:
    world = shipped_world("train-ticket-pod-failure")
    _, after = _windows(world, -20 * 60)
    failing = select(world, f"{SERVER}_count", service="ts-order-service", http_response_status_code="500")
    assert len(failing) == 1
    pod = label(failing[0], "pod")
    assert error_ratio(world, "ts-order-service", *after, pod=pod) == pytest.approx(1.0)
    others = {label(s, "pod") for s in select(world, f"{SERVER}_count", service="ts-order-service")} - {pod}
    assert len(others) >= 2
    error_spans = {
        s.pod for s in world.spans if s.service == "ts-order-service" and s.kind == "server" and s.error
    }
    assert error_spans == {pod}
    assert not select(world, f"{SERVER}_count", service="ts-route-service", http_response_status_code="500")


def test_cpu_hog_pins_cpu_without_more_traffic(shipped_world: Worlds) -> None:
    world = shipped_world("train-ticket-cpu-hog")
    before, after = _windows(world, -30 * 60)
    target = "ts-route-service"
    assert cpu_cores(world, target, *after) == pytest.approx(1.0, rel=0.01)
    assert cpu_cores(world, target, *before) < 0.5
    assert throttled_share(world, target, *after) > 0.5
    assert mean_latency_s(world, SERVER, *after, service=target) > 2 * mean_latency_s(
        world, SERVER, *before, service=target
    )
    rate = {
        w: sum(
            np.nansum(np.diff(s.values[a : b + 1])) for s in select(world, f"{SERVER}_count", service=target)
        )
        / (b - a)
        for w, (a, b) in (("before", before), ("after", after))
    }
    assert rate["after"] == pytest.approx(rate["before"], rel=0.2)
    for other in ("ts-train-service", "ts-basic-service", "ts-order-service"):
        assert throttled_share(world, other, *after) == 0.0, other
    assert not any(
        s.name.endswith("_count") and label(s, "http_response_status_code") == "500"
        for s in select(world, f"{SERVER}_count")
    )


def test_noisy_service_varies_more_but_stays_healthy(shipped_world: Worlds) -> None:
    world = shipped_world("sock-shop-noisy")
    assert not select(world, f"{SERVER}_count", http_response_status_code="500")

    def spread(service: str) -> float:
        means = [
            mean_latency_s(world, SERVER, i, i + 4, service=service)
            for i in range(0, len(world.timestamps) - 5, 5)
        ]
        return float(np.std(np.log(means)))

    assert spread("catalogue") > 2 * spread("payment")
    assert all(throttled_share(world, s, 0, len(world.timestamps) - 1) == 0.0 for s in ("catalogue", "carts"))
