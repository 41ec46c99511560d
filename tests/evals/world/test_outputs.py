"""The shape of what the simulator hands the sandbox: Kubernetes objects, logs, spans, OTLP JSON lines."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from evals.world.model import World
from evals.world.otlp import write_otlp_json
from tests.evals.world.query import objects

Worlds = Callable[[str], World]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ")


def test_kubernetes_objects_are_linked_like_the_api_returns_them(shipped_world: Worlds) -> None:
    world = shipped_world("checkout-bad-deploy")
    deployments = {d["metadata"]["name"]: d for d in objects(world, "Deployment")}
    assert set(deployments) == {n for n, s in world.scenario.topology.services.items() if s.has_pods}
    checkout = deployments["checkoutservice"]
    assert checkout["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert checkout["spec"]["selector"] == {"matchLabels": {"app": "checkoutservice"}}
    container = checkout["spec"]["template"]["spec"]["containers"][0]
    assert (
        container["image"].endswith("/checkoutservice:1.4.3")
        and container["resources"]["limits"]["cpu"] == "1"
    )
    rs_by_name = {rs["metadata"]["name"]: rs for rs in objects(world, "ReplicaSet")}
    checkout_rs = [
        rs for rs in rs_by_name.values() if rs["metadata"]["ownerReferences"][0]["name"] == "checkoutservice"
    ]
    images = {rs["spec"]["template"]["spec"]["containers"][0]["image"] for rs in checkout_rs}
    assert len(checkout_rs) == 2 and len(images) == 2
    for pod in objects(world, "Pod"):
        owner = pod["metadata"]["ownerReferences"][0]
        rs = rs_by_name[owner["name"]]
        assert owner["uid"] == rs["metadata"]["uid"]
        template_hash = pod["metadata"]["labels"]["pod-template-hash"]
        assert pod["metadata"]["name"].startswith(f"{pod['metadata']['labels']['app']}-{template_hash}-")
        assert re.fullmatch(
            r"[a-z0-9-]+-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}",
            pod["metadata"]["name"],
        )
        assert pod["spec"]["nodeName"] in world.scenario.topology.nodes
        assert "restartCount" in pod["status"]["containerStatuses"][0]
    nodes = objects(world, "Node")
    assert len(nodes) == 3 and all(
        n["metadata"]["labels"]["kubernetes.io/hostname"] == n["metadata"]["name"] for n in nodes
    )
    placed = [p["spec"]["nodeName"] for p in objects(world, "Pod")]
    assert (
        max(placed.count(n) for n in world.scenario.topology.nodes)
        - min(placed.count(n) for n in world.scenario.topology.nodes)
        <= 3
    )
    events = objects(world, "Event")
    scaling = [
        e
        for e in events
        if e["reason"] == "ScalingReplicaSet" and e["involvedObject"]["name"] == "checkoutservice"
    ]
    assert scaling and all(
        {"firstTimestamp", "lastTimestamp", "count", "type", "message"} <= set(e) for e in events
    )
    assert {o["kind"] for o in world.objects} >= {
        "Namespace",
        "Node",
        "Service",
        "Deployment",
        "ReplicaSet",
        "Pod",
        "Event",
    }


def test_logs_are_bounded_timestamped_and_carry_a_secret_to_redact(shipped_world: Worlds) -> None:
    world = shipped_world("checkout-bad-deploy")
    assert world.logs
    for log in world.logs:
        assert 0 < len(log.lines) <= 200
        assert all(RFC3339.match(line) for line in log.lines), log.pod
        stamps = [line.split(" ", 1)[0] for line in log.lines]
        assert stamps == sorted(stamps)
    assert any("Authorization: Bearer eyJ" in line for log in world.logs for line in log.lines)


def test_spans_form_traces_consistent_with_the_call_graph(shipped_world: Worlds) -> None:
    world = shipped_world("checkout-bad-deploy")
    topology = world.scenario.topology
    by_id = {s.span_id: s for s in world.spans}
    assert len(by_id) == len(world.spans)
    roots = [s for s in world.spans if s.parent_span_id is None]
    assert 100 <= len(roots) <= 130 and all(s.service == "frontend" for s in roots)
    for span in world.spans:
        assert span.end_ns > span.start_ns
        if span.parent_span_id is None:
            continue
        parent = by_id[span.parent_span_id]
        assert parent.trace_id == span.trace_id
        assert parent.start_ns <= span.start_ns and span.end_ns <= parent.end_ns + 1_000_000
        if span.kind == "client":
            assert parent.kind == "server" and span.service == parent.service
            assert span.attributes["server.address"] in topology.services[span.service].calls
        else:
            assert parent.kind == "client" and parent.attributes["server.address"] == span.service
    end_ns = int(world.timestamps[-1]) * 1_000_000
    late = [
        s
        for s in world.spans
        if s.service == "checkoutservice" and s.kind == "server" and s.start_ns > end_ns - 15 * 60 * 10**9
    ]
    early = [
        s
        for s in world.spans
        if s.service == "checkoutservice" and s.kind == "server" and s.start_ns < end_ns - 30 * 60 * 10**9
    ]
    assert 0.15 < sum(s.error for s in late) / len(late) < 0.45 and not any(s.error for s in early)


def test_otlp_json_lines_hold_the_spans_with_hex_ids(shipped_world: Worlds, tmp_path: Path) -> None:
    world = shipped_world("payments-dependency-latency")
    spans = world.spans[:400]
    path = tmp_path / "traces.jsonl"
    write_otlp_json(spans, path, namespace="payments")
    found = {}
    for line in path.read_text().splitlines():
        request = json.loads(line)
        for resource_spans in request["resourceSpans"]:
            attrs = {a["key"]: a["value"]["stringValue"] for a in resource_spans["resource"]["attributes"]}
            for scope in resource_spans["scopeSpans"]:
                for span in scope["spans"]:
                    assert re.fullmatch(r"[0-9a-f]{32}", span["traceId"]) and re.fullmatch(
                        r"[0-9a-f]{16}", span["spanId"]
                    )
                    assert isinstance(span["kind"], int) and isinstance(span["startTimeUnixNano"], str)
                    found[int(span["spanId"], 16)] = (attrs["service.name"], span)
    assert len(found) == len(spans)
    for record in spans:
        service, span = found[record.span_id]
        assert service == record.service and int(span["traceId"], 16) == record.trace_id
        assert (
            int(span["startTimeUnixNano"]) == record.start_ns
            and int(span["endTimeUnixNano"]) == record.end_ns
        )
        assert span["kind"] == {"server": 2, "client": 3}[record.kind]
        assert (int(span["parentSpanId"], 16) if span.get("parentSpanId") else None) == record.parent_span_id
        assert (span["status"].get("code") == 2) == record.error


def test_counters_only_fall_on_a_container_restart_and_buckets_are_cumulative(shipped_world: Worlds) -> None:
    import numpy as np

    from tests.evals.world.query import label, select

    world = shipped_world("sock-shop-memory-leak")
    restarted = {
        label(s, "pod")
        for s in select(world, "kube_pod_container_status_restarts_total")
        if np.nanmax(s.values) > 0
    }
    for family in world.families:
        if family.type == "gauge":
            continue
        for series in family.series:
            if (
                series.name.endswith("_bucket")
                or series.name.endswith("_total")
                or series.name.endswith("_count")
            ):
                values = series.values[~np.isnan(series.values)]
                if dict(series.labels).get("pod") not in restarted:
                    assert np.all(np.diff(values) >= 0), series.labels
    buckets = select(
        world,
        "http_server_request_duration_seconds_bucket",
        service="orders",
        http_response_status_code="200",
    )
    pod = label(buckets[0], "pod")
    ordered = sorted((s for s in buckets if label(s, "pod") == pod), key=lambda s: float(label(s, "le")))
    stacked = np.vstack([s.values for s in ordered])
    live = ~np.isnan(stacked[0])
    assert np.all(np.diff(stacked[:, live], axis=0) >= 0)
