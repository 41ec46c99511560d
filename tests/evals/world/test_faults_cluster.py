"""Faults that show in the cluster (pods, restarts, nodes) and the harmless distractors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from evals.world.model import World
from tests.evals.world.query import error_ratio, index_at, label, mean_latency_s, objects, select

Worlds = Callable[[str], World]


def test_crashloop_rolls_out_a_broken_revision(shipped_world: Worlds) -> None:
    world = shipped_world("boutique-crashloop")
    start = index_at(world, -15 * 60)
    rss = sorted(
        (rs for rs in objects(world, "ReplicaSet") if rs["metadata"]["labels"]["app"] == "cartservice"),
        key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]),
    )
    assert [rs["spec"]["replicas"] for rs in rss] == [0, 3]
    env = [
        {e["name"]: e["value"] for e in rs["spec"]["template"]["spec"]["containers"][0]["env"]} for rs in rss
    ]
    assert env[0]["APP_CONFIG"] != env[1]["APP_CONFIG"]
    pods = [p for p in objects(world, "Pod") if p["metadata"]["labels"]["app"] == "cartservice"]
    assert len(pods) == 3
    for pod in pods:
        status = pod["status"]["containerStatuses"][0]
        assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert status["restartCount"] >= 4 and not status["ready"]
        assert status["lastState"]["terminated"]["reason"] == "Error"
    restarts = select(world, "kube_pod_container_status_restarts_total", service="cartservice")
    climbing = [s for s in restarts if np.nanmax(s.values) >= 4]
    assert len(climbing) == 3 and all(np.all(np.diff(s.values[~np.isnan(s.values)]) >= 0) for s in climbing)
    available = select(world, "kube_deployment_status_replicas_available", deployment="cartservice")[0].values
    assert available[start - 2] == 3 and available[-1] == 0
    assert error_ratio(world, "frontend", index_at(world, -600), index_at(world, 0)) > 0.9
    previous = [log for log in world.logs if log.previous and log.container == "cartservice"]
    assert previous and all(
        any("FATAL invalid configuration" in line for line in log.lines) for log in previous
    )
    backoff = [e for e in objects(world, "Event") if e["reason"] == "BackOff"]
    assert {e["involvedObject"]["name"] for e in backoff} == {p["metadata"]["name"] for p in pods}
    assert not select(world, "kube_pod_container_status_restarts_total", service="currencyservice")[0].values[
        -1
    ]


def test_memory_leak_climbs_to_the_limit_and_gets_oom_killed(shipped_world: Worlds) -> None:
    world = shipped_world("sock-shop-memory-leak")
    limit = world.scenario.topology.services["carts"].memory_limit_bytes
    start = index_at(world, -90 * 60)
    for series in select(world, "container_memory_working_set_bytes", service="carts"):
        share = series.values / limit
        assert np.nanmax(share[:start]) < 0.65
        assert np.nanmax(share[start:]) > 0.95
    restarts = select(world, "kube_pod_container_status_restarts_total", service="carts")
    assert all(s.values[-1] >= 2 for s in restarts)
    reasons = select(world, "kube_pod_container_status_last_terminated_reason", service="carts")
    assert {label(s, "reason") for s in reasons} == {"OOMKilled"}
    cpu = select(world, "container_cpu_usage_seconds_total", service="carts")[0].values
    assert np.any(np.diff(cpu[start:]) < 0)  # the counter restarts with the container
    for other in ("orders", "catalogue", "user"):
        assert all(
            np.nanmax(s.values) == 0
            for s in select(world, "kube_pod_container_status_restarts_total", service=other)
        )
    assert not select(world, "kube_pod_container_status_last_terminated_reason", service="orders")
    pods = {
        p["metadata"]["name"]: p for p in objects(world, "Pod") if p["metadata"]["labels"]["app"] == "carts"
    }
    assert all(
        p["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"] == "OOMKilled"
        for p in pods.values()
    )
    warned = [log for log in world.logs if log.previous and log.pod in pods]
    assert warned and all(any("heap usage" in line for line in log.lines) for log in warned)
    assert any(e["reason"] == "OOMKilling" for e in objects(world, "Event"))


def test_node_pressure_evicts_and_slows_pods_of_that_node_only(shipped_world: Worlds) -> None:
    world = shipped_world("boutique-node-pressure")
    start = index_at(world, -20 * 60)
    for node in world.scenario.topology.nodes:
        cond = select(
            world, "kube_node_status_condition", node=node, condition="MemoryPressure", status="true"
        )[0].values
        if node == "node-2":
            assert cond[start - 1] == 0 and np.all(cond[start:] == 1)
        else:
            assert not cond.any()
    nodes = {n["metadata"]["name"]: n for n in objects(world, "Node")}
    pressure = {c["type"]: c["status"] for c in nodes["node-2"]["status"]["conditions"]}
    assert pressure["MemoryPressure"] == "True" and nodes["node-1"]["spec"]["unschedulable"] is False
    pods = objects(world, "Pod")
    evicted = [p for p in pods if p["status"].get("reason") == "Evicted"]
    assert evicted and all(
        p["spec"]["nodeName"] == "node-2" and p["status"]["phase"] == "Failed" for p in evicted
    )
    end_ms = int(world.timestamps[-1])
    late = [
        p
        for p in pods
        if p["metadata"]["creationTimestamp"] > world.scenario.at("-20m").strftime("%Y-%m-%dT%H:%M:%SZ")
    ]
    assert len(late) >= len(evicted) and all(p["spec"]["nodeName"] != "node-2" for p in late) and end_ms
    failed_phase = select(world, "kube_pod_status_phase", phase="Failed")
    assert {label(s, "pod") for s in failed_phase if np.nanmax(s.values) == 1} == {
        p["metadata"]["name"] for p in evicted
    }
    window = (index_at(world, -600), index_at(world, 0))
    slow: list[float] = []
    fine: list[float] = []
    for pod in pods:
        if pod["status"]["phase"] != "Running" or pod["metadata"]["labels"]["app"] != "shippingservice":
            continue
        name = pod["metadata"]["name"]
        latency = mean_latency_s(world, "http_server_request_duration_seconds", *window, pod=name)
        (slow if pod["spec"]["nodeName"] == "node-2" else fine).append(latency)
    assert fine and all(latency < 0.02 for latency in fine)
    assert all(latency > 0.02 for latency in slow)
    assert any(e["reason"] == "NodeHasInsufficientMemory" for e in objects(world, "Event"))


def test_seasonal_peak_is_steep_but_healthy(shipped_world: Worlds) -> None:
    world = shipped_world("boutique-seasonal-peak")
    counts = select(world, "http_server_request_duration_seconds_count", service="frontend")
    per_step = np.nansum([np.clip(np.diff(s.values), 0, None) for s in counts], axis=0)
    hours = (world.timestamps[1:] % 86_400_000) // 3_600_000
    assert per_step[hours == 15].mean() > 1.3 * per_step[hours == 11].mean()
    assert per_step[hours == 15].mean() > 3 * per_step[hours == 3].mean()
    assert not select(world, "http_server_request_duration_seconds_count", http_response_status_code="500")
    throttled = select(world, "container_cpu_cfs_throttled_periods_total")
    assert all(np.nanmax(s.values) == 0 for s in throttled)


@pytest.mark.parametrize(
    ("scenario_id", "service"),
    [("checkout-bad-deploy", "cartservice"), ("boutique-node-pressure", "emailservice")],
)
def test_a_distractor_deploy_is_a_harmless_new_revision(
    shipped_world: Worlds, scenario_id: str, service: str
) -> None:
    world = shipped_world(scenario_id)
    deployment = next(d for d in objects(world, "Deployment") if d["metadata"]["name"] == service)
    assert deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert deployment["status"]["availableReplicas"] == deployment["spec"]["replicas"]
    assert not select(
        world, "http_server_request_duration_seconds_count", service=service, http_response_status_code="500"
    )
    counts = select(world, "http_server_request_duration_seconds_count", service=service)
    assert len(counts) == 2 * world.scenario.topology.services[service].replicas  # old pods, then new ones
    gone = [s for s in counts if np.isnan(s.values[-1])]
    assert len(gone) == world.scenario.topology.services[service].replicas
