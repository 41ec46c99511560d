"""Faults that show in the cluster (crashing or OOM-killed containers, a pressured node) and the
distractors, read from a running sandbox: PromQL on the real Prometheus, the official client on the
emulator, the trace file. Both sides each time: present where DESIGN §3.5 puts it, absent elsewhere."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tests.evals.sandbox.promql import error_ratio_by_service, mean_latency, throttled_ratio_by_service
from tests.evals.sandbox.trace_file import clients, failing_services, servers
from tests.evals.sandbox.visibility import (
    View,
    assert_errors_confined,
    assert_healthy_now_and_before,
    failing,
    open_sandbox_fixture,  # noqa: F401 (fixture)
)

pytestmark = pytest.mark.sandbox

Open = Callable[[str], View]
SERVER = "http_server_request_duration_seconds"
RESTARTS = "kube_pod_container_status_restarts_total"
MEMORY_SHARE = (
    "max_over_time(container_memory_working_set_bytes[30m])"
    ' / on (pod, container) group_left () kube_pod_container_resource_limits{resource="memory"}'
)


def test_crashloop_takes_the_target_down_and_only_it(open_sandbox: Open) -> None:
    view = open_sandbox("boutique-crashloop")  # cartservice, new revision at -15m
    target = "cartservice"
    short = "kube_deployment_spec_replicas != kube_deployment_status_replicas_available"
    assert view.prom.by(short, "deployment") == {target: 3.0}
    assert view.prom.instant(short, "20m") == []
    restarts = view.prom.by(f"sum by (pod) (increase({RESTARTS}{{service='{target}'}}[15m]))", "pod")
    assert len(restarts) == 3 and all(n >= 3 for n in restarts.values()), restarts
    assert failing(view.prom.by(f"sum by (service) (increase({RESTARTS}[15m]))", "service")) == {target}
    now = assert_errors_confined(view, target)
    assert now["frontend"] > 0.9 and now["checkoutservice"] > 0.9  # both call the cart
    assert not failing(view.error_ratios("20m"))
    redis = 'sum(rate(http_server_request_duration_seconds_count{service="redis-cart"}[5m]))'
    assert (
        view.prom.value(redis) == 0.0 and (view.prom.value(redis, "20m") or 0.0) > 1.0
    )  # its caller is down

    old, new = view.replica_sets(target)
    assert (old.spec.replicas, new.spec.replicas) == (0, 3) and view.revision(target) == 2
    assert new.metadata.creation_timestamp == view.at("15m")
    crashing = view.pods(f"app={target}")
    assert {p.metadata.labels["pod-template-hash"] for p in crashing} == {
        new.metadata.labels["pod-template-hash"]
    }
    for pod in crashing:
        status = pod.status.container_statuses[0]
        assert status.state.waiting.reason == "CrashLoopBackOff" and not status.ready
        previous = view.core.read_namespaced_pod_log(pod.metadata.name, view.ns, previous=True)
        assert "FATAL invalid configuration" in previous
    others = view.pods(f"app!={target}")
    assert others and all(p.status.phase == "Running" for p in others)
    assert all(p.status.container_statuses[0].restart_count == 0 for p in others)
    backoff = view.core.list_namespaced_event(view.ns, field_selector="reason=BackOff").items
    assert {e.involved_object.name for e in backoff} == {p.metadata.name for p in crashing}

    spans = view.spans
    assert not [s for s in servers(spans, target) if s.after(view.at("14m"))]  # no pod answers
    refused = [s for s in clients(spans, target) if s.after(view.at("14m"))]
    assert refused and all(s.error for s in refused)
    assert {s.trace_id for s in servers(spans) if s.error} <= {
        s.trace_id for s in clients(spans, target) if s.error
    }


def test_memory_leak_climbs_to_the_limit_and_is_oom_killed(open_sandbox: Open) -> None:
    view = open_sandbox("sock-shop-memory-leak")  # carts from -90m, 20m to OOM
    target = "carts"
    share = f"max by (service) ({MEMORY_SHARE})"
    now, before = view.prom.by(share, "service"), view.prom.by(share, "service", "95m")
    assert now[target] > 0.95 and before[target] < 0.65
    assert all(v < 0.65 for s, v in now.items() if s != target), now
    assert view.prom.by(f"min by (service) ({RESTARTS})", "service")[target] >= 2
    assert failing(view.prom.by(f"max by (service) ({RESTARTS})", "service")) == {target}
    reasons = view.prom.instant(
        "count by (service, reason) (kube_pod_container_status_last_terminated_reason)"
    )
    assert [(s.labels["service"], s.labels["reason"]) for s in reasons] == [(target, "OOMKilled")]
    assert_healthy_now_and_before(view, "95m")
    assert not failing(view.prom.by(throttled_ratio_by_service(), "service"))

    pods = view.pods(f"app={target}")
    assert pods and all(
        p.status.container_statuses[0].last_state.terminated.reason == "OOMKilled" for p in pods
    )
    assert all(p.status.phase == "Running" for p in view.pods(f"app!={target}"))
    ooms = view.core.list_event_for_all_namespaces(field_selector="reason=OOMKilling").items
    assert ooms and all(f"pod={target}-" in e.message for e in ooms)
    previous = view.core.read_namespaced_pod_log(pods[0].metadata.name, view.ns, previous=True)
    assert "heap usage" in previous
    assert not failing_services(view.spans)


def test_node_pressure_shows_on_that_node_and_its_pods_only(open_sandbox: Open) -> None:
    view = open_sandbox("boutique-node-pressure")  # node-2, MemoryPressure from -20m
    condition = 'kube_node_status_condition{condition="MemoryPressure",status="true"} == 1'
    assert list(view.prom.by(condition, "node")) == ["node-2"]
    assert view.prom.instant(condition, "25m") == []
    node_of = 'max by (pod, node) (kube_pod_container_resource_limits{resource="cpu"})'
    evicted = view.prom.instant(
        f'(kube_pod_status_phase{{phase="Failed"}} == 1) * on (pod) group_left (node) {node_of}'
    )
    assert evicted and {s.labels["node"] for s in evicted} == {"node-2"}
    assert view.prom.instant('kube_pod_status_phase{phase="Failed"} == 1', "25m") == []

    nodes = {n.metadata.name: n for n in view.core.list_node().items}
    pressured = {
        name
        for name, n in nodes.items()
        for c in n.status.conditions
        if c.type == "MemoryPressure" and c.status == "True"
    }
    assert pressured == {"node-2"}
    assert [name for name, n in nodes.items() if n.spec.taints] == ["node-2"]
    failed = view.pods(field_selector="status.phase=Failed")
    assert {p.metadata.name for p in failed} == {s.labels["pod"] for s in evicted}
    assert all(p.status.reason == "Evicted" and p.spec.node_name == "node-2" for p in failed)
    started_since = [p for p in view.pods() if p.metadata.creation_timestamp > view.at("20m")]
    assert len(started_since) == len(failed) and all(p.spec.node_name != "node-2" for p in started_since)
    events = view.core.list_namespaced_event(view.ns, field_selector="reason=Evicted").items
    assert {e.involved_object.name for e in events} == {p.metadata.name for p in failed}

    # The pods left running on node-2 are slow; pods of the same services elsewhere are not.
    latency = mean_latency(SERVER, "", by="pod, service")
    now = {(s.labels["service"], s.labels["pod"]): s.value for s in view.prom.instant(latency)}
    on_node_2 = {
        p.metadata.name for p in view.pods(field_selector="spec.nodeName=node-2,status.phase=Running")
    }
    slow = {key: v for key, v in now.items() if key[1] in on_node_2}
    assert slow
    for (service, pod), value in slow.items():
        elsewhere = [v for (s, p), v in now.items() if s == service and p not in on_node_2]
        assert elsewhere and value > 1.8 * max(elsewhere), (pod, value, elsewhere)
    assert not failing(view.error_ratios())
    assert not failing(view.prom.by(throttled_ratio_by_service(), "service"))


# (scenario, the deployed service, minutes before end, minutes before end from which the scenario's
# fault reaches it through a callee: ts-seat-service calls the failing ts-order-service)
@pytest.mark.parametrize(
    ("scenario_id", "service", "minutes_ago", "clean_until"),
    [
        ("checkout-bad-deploy", "cartservice", 180, 0),
        ("boutique-node-pressure", "emailservice", 90, 0),
        ("sock-shop-memory-leak", "catalogue", 100, 0),
        ("payments-dependency-latency", "auth", 40, 0),
        ("train-ticket-pod-failure", "ts-seat-service", 50, 21),  # its fault starts at -20m
    ],
)
def test_a_distractor_deploy_is_a_new_revision_and_nothing_else(
    open_sandbox: Open, scenario_id: str, service: str, minutes_ago: int, clean_until: int
) -> None:
    view = open_sandbox(scenario_id)
    replicas = view.scenario.topology.services[service].replicas
    old, new = view.replica_sets(service)
    assert view.revision(service) == 2 and new.metadata.creation_timestamp == view.at(f"{minutes_ago}m")
    assert (old.spec.replicas, new.spec.replicas) == (0, replicas)
    assert view.apps.read_namespaced_deployment(service, view.ns).status.available_replicas == replicas
    pods = view.pods(f"app={service}")
    assert {p.metadata.labels["pod-template-hash"] for p in pods} == {
        new.metadata.labels["pod-template-hash"]
    }
    assert all(p.status.phase == "Running" for p in pods)

    assert view.prom.value(f'kube_deployment_status_replicas_available{{deployment="{service}"}}') == replicas
    since_rollout = error_ratio_by_service(f'service="{service}"', window=f"{minutes_ago - clean_until}m")
    assert view.prom.by(since_rollout, "service", f"{clean_until}m") == {service: 0.0}  # not one failure
    latency = mean_latency(SERVER, f'service="{service}"')
    before = view.prom.by(latency, "service", f"{minutes_ago + 10}m")[service]
    after = view.prom.by(latency, "service", f"{minutes_ago - 10}m")[service]
    assert after == pytest.approx(before, rel=0.25)
    assert not [
        s for s in servers(view.spans, service) if s.error and not s.after(view.at(f"{clean_until}m"))
    ]


def test_a_noisy_service_varies_more_but_stays_healthy(open_sandbox: Open) -> None:
    view = open_sandbox("sock-shop-noisy")  # catalogue
    spread = {
        s.labels["service"]: float(np.std(np.log(s.values)))
        for s in view.prom.range(mean_latency(SERVER, "", window="1m"), "2h", step="1m")
    }
    assert spread["catalogue"] > 1.5 * max(v for s, v in spread.items() if s != "catalogue"), spread
    _assert_healthy_all_along(view, "2h")
    assert not failing_services(view.spans)


def test_a_seasonal_peak_is_steep_but_healthy(open_sandbox: Open) -> None:
    view = open_sandbox("boutique-seasonal-peak")  # end 15:30 UTC, the peak hour is 15:00
    rate = 'sum(rate(http_server_request_duration_seconds_count{service="frontend"}[5m]))'
    peak, morning, night = (view.prom.value(rate, ago) or 0.0 for ago in ("30m", "270m", "750m"))
    assert peak > 1.3 * morning and peak > 3 * night  # a plain daily cycle gives about 1.2 and 2.5
    _assert_healthy_all_along(view, "1d")
    cpu = "max by (service) (max_over_time(rate(container_cpu_usage_seconds_total[5m])[1d:5m]))"
    assert all(v < 0.95 for v in view.prom.by(cpu, "service").values())  # under the 1-core limit
    latency = mean_latency(SERVER, "")
    highest = view.prom.by(f"max by (service) (max_over_time(({latency})[1d:5m]))", "service")
    lowest = view.prom.by(f"min by (service) (min_over_time(({latency})[1d:5m]))", "service")
    assert all(highest[s] < 1.3 * lowest[s] for s in highest), (highest, lowest)
    assert not failing_services(view.spans)


def _assert_healthy_all_along(view: View, window: str) -> None:
    """No failed request, no throttled period, no restart and no rollout over the whole history."""
    total = view.prom.value(f"sum(increase({SERVER}_count[{window}]))")
    assert total and total > 1000
    assert (
        view.prom.value(f'sum(increase({SERVER}_count{{http_response_status_code="500"}}[{window}]))') is None
    )
    assert view.prom.value(f"sum(increase(container_cpu_cfs_throttled_periods_total[{window}]))") == 0.0
    assert view.prom.value(f"max(max_over_time({RESTARTS}[{window}]))") == 0.0
    deployments = view.apps.list_namespaced_deployment(view.ns).items
    assert deployments and all(
        d.metadata.annotations["deployment.kubernetes.io/revision"] == "1" for d in deployments
    )
