"""Faults that show in requests, read from a running sandbox the way the agent reads a cluster: PromQL
against the real Prometheus, the official client against the emulator, and the trace file. Each test
asserts both sides: the fault shows on its target, and not where DESIGN §3.5 says it must not."""

from __future__ import annotations

from collections.abc import Callable
from statistics import median

import pytest

from evals.durations import parse_duration
from tests.evals.sandbox.promql import (
    cpu_cores_by_pod,
    error_ratio_by_pod,
    mean_latency,
    throttled_ratio_by_service,
)
from tests.evals.sandbox.trace_file import clients, failing_services, servers
from tests.evals.sandbox.visibility import (
    View,
    assert_errors_confined,
    assert_healthy_now_and_before,
    failing,
    open_sandbox_fixture,  # noqa: F401 (fixture)
    upstream,
)
from tests.sandbox_fixture import SHIPPED

pytestmark = pytest.mark.sandbox

Open = Callable[[str], View]
SERVER = "http_server_request_duration_seconds"
CLIENT = "http_client_request_duration_seconds"


def test_bad_deploy_errors_come_from_the_new_revision(open_sandbox: Open) -> None:
    view = open_sandbox("checkout-bad-deploy")  # checkoutservice, -25m, error_ratio 0.3
    now = assert_errors_confined(view, "checkoutservice")
    assert now["checkoutservice"] == pytest.approx(0.3, abs=0.05)
    assert now["frontend"] == pytest.approx(0.3, abs=0.05)  # its only entry caller fails with it
    assert not failing(view.error_ratios("1h")), "errors before the rollout"
    latency = mean_latency(SERVER, 'service="checkoutservice"')
    assert (
        view.prom.by(latency, "service")["checkoutservice"]
        > 1.1 * view.prom.by(latency, "service", "1h")["checkoutservice"]
    )

    old, new = view.replica_sets("checkoutservice")
    assert view.revision("checkoutservice") == 2
    assert new.metadata.creation_timestamp == view.at("25m")
    replicas = view.scenario.topology.services["checkoutservice"].replicas
    assert (old.spec.replicas, new.spec.replicas) == (0, replicas)
    new_hash = new.metadata.labels["pod-template-hash"]
    new_pods = {p.metadata.name for p in view.pods(f"app=checkoutservice,pod-template-hash={new_hash}")}
    assert len(new_pods) == replicas
    by_pod = view.prom.by(error_ratio_by_pod("checkoutservice"), "pod")
    assert set(failing(by_pod)) == new_pods
    log = view.core.read_namespaced_pod_log(sorted(new_pods)[0], view.ns)
    assert "ERROR unhandled exception" in log

    spans, step = view.spans, parse_duration(view.scenario.step)
    assert failing_services(spans) == {"checkoutservice", "frontend"}
    bad = [s for s in servers(spans, "checkoutservice") if s.error]
    assert bad and {s.pod for s in bad} <= new_pods
    assert all(s.after(view.at("25m") - step) for s in bad)  # a span lands on the next sample
    bad_traces = {s.trace_id for s in bad}
    assert {s.trace_id for s in servers(spans, "frontend") if s.error} <= bad_traces


def test_dependency_latency_slows_callers_with_no_resource_signal(open_sandbox: Open) -> None:
    view = open_sandbox("payments-dependency-latency")  # fx (external), +800ms from -30m
    fx_calls = mean_latency(CLIENT, 'server_address="fx"')
    assert view.prom.by(fx_calls, "service")["ledger"] > 0.7
    assert view.prom.by(fx_calls, "service", "35m")["ledger"] < 0.1
    servers_now = view.prom.by(mean_latency(SERVER, ""), "service")
    servers_before = view.prom.by(mean_latency(SERVER, ""), "service", "35m")
    assert servers_now["gateway"] > 0.7 and servers_now["ledger"] > 0.7
    for unaffected in ("auth", "users-db", "ledger-db"):  # not on the path to fx
        assert servers_now[unaffected] == pytest.approx(servers_before[unaffected], rel=0.25), unaffected

    assert view.prom.instant('{__name__=~"container_.*|kube_pod_.*", service="fx"}') == []
    cores = cpu_cores_by_pod('service="ledger"')
    now, before = view.prom.by(cores, "pod"), view.prom.by(cores, "pod", "35m")
    assert now.keys() == before.keys() and len(now) == 3
    assert all(now[pod] == pytest.approx(before[pod], rel=0.15) for pod in now), (now, before)
    assert not failing(view.prom.by(throttled_ratio_by_service(), "service"))
    assert_healthy_now_and_before(view, "35m")
    assert view.pods("app=fx") == []
    assert view.core.read_namespaced_service("fx", view.ns).spec.type == "ExternalName"

    fx_spans = clients(view.spans, "fx")
    late = [s.duration_s for s in fx_spans if s.after(view.at("29m"))]
    early = [s.duration_s for s in fx_spans if not s.after(view.at("30m"))]
    assert median(late) > 0.7 and max(early) < 0.3  # each call: 800ms more, with log-normal spread
    assert not failing_services(view.spans)


def test_packet_loss_shows_on_the_callers_side_only(open_sandbox: Open) -> None:
    view = open_sandbox("sock-shop-packet-loss")  # payment, loss 0.3 from -25m
    edge = 'server_address="payment"'
    failed = f'sum by (service) (rate({CLIENT}_count{{{edge},http_response_status_code="500"}}[5m]))'
    calls = f"sum by (service) (rate({CLIENT}_count{{{edge}}}[5m]))"
    client_errors = f"({failed} or {calls} * 0) / {calls}"
    assert view.prom.by(client_errors, "service") == {"orders": pytest.approx(0.15, abs=0.04)}
    assert view.prom.by(client_errors, "service", "30m") == {"orders": 0.0}
    to_payment = mean_latency(CLIENT, edge)
    assert (
        view.prom.by(to_payment, "service")["orders"]
        > 3 * view.prom.by(to_payment, "service", "30m")["orders"]
    )

    now = assert_errors_confined(view, "payment")
    assert now["payment"] == 0.0, "payment's own server metrics must stay clean"
    assert now["orders"] > 0.1 and now["front-end"] > 0.1
    own = mean_latency(SERVER, 'service="payment"')
    assert view.prom.by(own, "service")["payment"] == pytest.approx(
        view.prom.by(own, "service", "30m")["payment"], rel=0.2
    )
    assert not failing(view.prom.by(throttled_ratio_by_service(), "service"))
    assert view.revision("payment") == 1 and view.revision("orders") == 1

    spans = view.spans
    assert not [s for s in servers(spans, "payment") if s.error]
    lost = [s for s in clients(spans, "payment") if s.error]
    assert lost and all(s.service == "orders" and s.after(view.at("25m")) for s in lost)
    failed_traces = {s.trace_id for s in servers(spans) if s.error}
    assert failed_traces <= {s.trace_id for s in lost}


def test_pod_failure_errors_come_from_one_pod_only(open_sandbox: Open) -> None:
    view = open_sandbox("train-ticket-pod-failure")  # ts-order-service, pod index 1, from -20m
    target = "ts-order-service"
    by_pod = view.prom.by(error_ratio_by_pod(target), "pod")
    assert len(by_pod) >= 3
    bad = failing(by_pod)
    assert len(bad) == 1, by_pod
    victim = bad.pop()
    assert by_pod[victim] == pytest.approx(1.0)
    assert not failing(view.prom.by(error_ratio_by_pod(target), "pod", "25m"))
    now = assert_errors_confined(view, target)
    assert now[target] == pytest.approx(1 / len(by_pod), abs=0.1)

    pods = {p.metadata.name: p for p in view.pods(f"app={target}")}
    assert victim in pods and set(by_pod) == set(pods)
    assert all(p.status.phase == "Running" for p in pods.values())  # it fails requests, it does not crash
    assert view.revision(target) == 1

    target_spans = [s for s in servers(view.spans, target) if s.after(view.at("19m"))]
    assert {s.pod for s in target_spans if s.error} == {victim}
    assert all(s.error for s in target_spans if s.pod == victim)
    assert {s.pod for s in target_spans if not s.error} == set(pods) - {victim}
    assert failing_services(view.spans) <= upstream(view.scenario.topology, target) | {target}


def test_cpu_hog_pins_the_target_cpu_without_more_traffic(open_sandbox: Open) -> None:
    view = open_sandbox("train-ticket-cpu-hog")  # ts-route-service, +2 cores from -30m
    target = "ts-route-service"
    cores = cpu_cores_by_pod(f'service="{target}"')
    now, before = view.prom.by(cores, "pod"), view.prom.by(cores, "pod", "35m")
    assert now and all(c == pytest.approx(1.0, abs=0.01) for c in now.values()), now  # its limit
    assert all(c < 0.5 for c in before.values()), before
    throttled = view.prom.by(throttled_ratio_by_service(), "service")
    assert failing(throttled) == {target} and throttled[target] > 0.5
    assert not failing(view.prom.by(throttled_ratio_by_service(), "service", "35m"))
    rate = f'sum(rate({SERVER}_count{{service="{target}"}}[5m]))'
    assert view.prom.value(rate) == pytest.approx(view.prom.value(rate, "35m"), rel=0.15)
    latency = mean_latency(SERVER, f'service="{target}"')
    assert view.prom.by(latency, "service")[target] > 2 * view.prom.by(latency, "service", "35m")[target]
    assert_healthy_now_and_before(view, "35m")
    assert view.revision(target) == 1
    assert all(p.status.container_statuses[0].restart_count == 0 for p in view.pods(f"app={target}"))

    spans = servers(view.spans, target)
    late = [s.duration_s for s in spans if s.after(view.at("28m"))]
    early = [s.duration_s for s in spans if not s.after(view.at("30m"))]
    assert median(late) > 1.5 * median(early)
    assert not failing_services(view.spans)


def test_traffic_surge_saturates_one_service_only(open_sandbox: Open) -> None:
    view = open_sandbox("boutique-traffic-surge")  # frontend ×2.2 from -30m; productcatalogservice saturates
    saturated = "productcatalogservice"
    rate = 'sum(rate(http_server_request_duration_seconds_count{service="frontend"}[5m]))'
    surge = (view.prom.value(rate) or 0.0) / (view.prom.value(rate, "35m") or 1.0)
    assert surge == pytest.approx(2.2, rel=0.1)
    throttled = view.prom.by(throttled_ratio_by_service(), "service")
    assert failing(throttled) == {saturated} and throttled[saturated] > 0.5
    cores = view.prom.by(cpu_cores_by_pod(f'service="{saturated}"'), "pod")
    assert cores and all(c == pytest.approx(1.0, abs=0.01) for c in cores.values())
    now = view.prom.by(mean_latency(SERVER, ""), "service")
    before = view.prom.by(mean_latency(SERVER, ""), "service", "35m")
    assert now[saturated] > 3 * before[saturated]
    callees = view.scenario.topology.services[saturated].calls
    for service in set(now) - upstream(view.scenario.topology, saturated) - {saturated} - set(callees):
        assert now[service] < 1.3 * before[service], service  # busier, but far from saturated
    assert_errors_confined(view, saturated)
    assert all(view.revision(s) == 1 for s in ("frontend", saturated))
    assert view.apps.read_namespaced_deployment(saturated, view.ns).spec.replicas == 3


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_every_span_is_served_by_a_pod_that_exists_at_that_moment(
    open_sandbox: Open, scenario_id: str
) -> None:
    """Traces must agree with the cluster: no span on a pod before the pod was created (an agent that
    lines up errors with a rollout would otherwise see the new revision fail before it existed)."""
    view = open_sandbox(scenario_id)
    created = {p.metadata.name: p.metadata.creation_timestamp.timestamp() for p in view.pods()}
    early = sorted(
        {
            (s.pod, round(created[s.pod] - s.start_ns / 1e9, 1))
            for s in view.spans
            if s.pod in created and s.start_ns / 1e9 < created[s.pod]
        }
    )
    assert early == [], f"spans that start this many seconds before their pod was created: {early}"
