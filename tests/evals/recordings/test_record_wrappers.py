"""The recording wrappers against a running sandbox (real Prometheus, the Kubernetes emulator, OTLP
files): each forwards every call unchanged, and what it keeps answers the same reads again — the same
PromQL on a fresh Prometheus backfilled from the written OpenMetrics, the same trace search on the
written spans, the objects as the API returned them."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from kubernetes import client as k8s

from evals.recordings.record_kube import KubeCapture, RawKube, RecordingKube
from evals.recordings.record_kube_files import Redactor, write_logs, write_objects
from evals.recordings.record_metrics import MetricsLog, RecordingMetrics
from evals.recordings.record_prometheus import fetch_series, write_openmetrics
from evals.recordings.record_traces import RecordingTraces, TraceCapture, write_spans
from evals.sandbox import processes
from evals.sandbox.kube.documents import objects_from_document
from evals.sandbox.openmetrics import WindowFile
from evals.sandbox.processes import ProcessRecord, free_port
from evals.sandbox.prometheus import Backfill, PrometheusServer
from tests.sandbox_fixture import SandboxPool
from tools.backends import kube_api_client
from tools.config import ToolsConfig
from tools.errors import BadQuery
from tools.kube.client import KubernetesReader
from tools.metrics.client import PrometheusBackend
from tools.metrics.templates import render
from tools.traces.backend import TraceQuery
from tools.traces.otlp_file import OtlpFileBackend

pytestmark = pytest.mark.sandbox

SCENARIO = "checkout-bad-deploy"
CAUSE = "checkoutservice"


@pytest.fixture
def started() -> Iterator[list[ProcessRecord]]:
    """Every Prometheus a test starts, stopped by pid afterwards."""
    records: list[ProcessRecord] = []
    yield records
    for record in records:
        processes.stop(record)


def _serve_openmetrics(
    path: Path, tmp_path: Path, started: list[ProcessRecord], probe: str, at: datetime
) -> str:
    """A fresh Prometheus holding only what `path` holds (promtool backfill, as a replay does)."""
    copy = tmp_path / "backfill.om"
    shutil.copy(path, copy)  # Backfill removes its input once done
    backfill = Backfill("promtool", tmp_path / "tsdb")
    backfill.submit(WindowFile(path=copy, start_ms=0, samples=0))
    backfill.wait()
    server = PrometheusServer("prometheus", tmp_path / "tsdb", tmp_path / "prometheus.log", started.append)
    server.start()
    server.wait_ready(probe, at, time.monotonic() + 60)
    return server.url


def test_replayed_metrics_answer_the_same_promql(
    sandbox_pool: SandboxPool, tmp_path: Path, started: list[ProcessRecord]
) -> None:
    scenario, info = sandbox_pool.get(SCENARIO)
    as_of, namespace = scenario.end_utc, scenario.topology.namespace
    templates = ToolsConfig().promql
    live = PrometheusBackend(info.prometheus_url, 30)
    log = MetricsLog()
    recording = RecordingMetrics(live, log)
    ranged = {  # histogram_quantile over buckets, rate over counts, per-pod CPU
        name: render(templates[name], namespace=namespace, service=CAUSE)
        for name in ("latency_quantile", "error_ratio", "cpu_usage_cores")
    }
    start = as_of - timedelta(minutes=45)
    answers = {name: recording.range(q, start, as_of, 30) for name, q in ranged.items()}
    restarts = render(templates["restarts"], namespace=namespace, pod_regex=f"{CAUSE}-.*", lookback="1h")
    instant = recording.instant(restarts, as_of)  # increase over 1h: reaches back past `start`
    with pytest.raises(BadQuery):
        recording.instant("sum(", as_of)  # forwarded as the backend raised it; nothing noted
    assert log.queries == 4 and not log.problems

    samples = fetch_series(info.prometheus_url, log.starts, as_of)
    om = tmp_path / "metrics" / "recorded.om"
    write_openmetrics(samples, om)
    text = om.read_text()
    assert "# TYPE http_server_request_duration_seconds histogram\n" in text  # _sum fetched as a sibling
    assert "http_server_request_duration_seconds_sum{" in text and text.endswith("# EOF\n")
    assert "# TYPE container_cpu_usage_seconds counter\n" in text

    probe = f'count(http_server_request_duration_seconds_count{{service="{CAUSE}"}})'
    replay = PrometheusBackend(_serve_openmetrics(om, tmp_path, started, probe, as_of), 30)
    for name, promql in ranged.items():
        assert replay.range(promql, start, as_of, 30) == answers[name], name
        assert answers[name] and answers[name][0].points, f"{name} had data to compare"
    assert replay.instant(restarts, as_of) == instant and instant


def test_kube_reads_are_kept_raw_once_and_a_failed_raw_read_never_fails_the_tool(
    sandbox_pool: SandboxPool, tmp_path: Path
) -> None:
    scenario, info = sandbox_pool.get(SCENARIO)
    namespace = scenario.topology.namespace
    api = kube_api_client(ToolsConfig(kubeconfig=info.kubeconfig))
    assert api is not None
    capture = KubeCapture()
    kube = RecordingKube(KubernetesReader(api, 10), RawKube(api, 10), capture)
    deployment = kube.get_deployment(namespace, CAUSE)
    replicasets = kube.list_replicasets(namespace, deployment.selector)
    pods = kube.list_pods(namespace, deployment.selector)
    kube.list_pods(namespace, deployment.selector)  # the same read again: not fetched again
    events = kube.list_events(namespace, CAUSE)
    log = kube.read_pod_log(namespace, pods[0].name, None, False, 20)
    nodes = kube.list_nodes()
    assert len(capture.reads) == 5 and not capture.problems  # the log's pod was already listed

    def names(kind: str) -> set[str]:
        return {name for (k, _, name) in capture.objects if k == kind}

    assert names("Deployment") == {CAUSE}
    assert names("ReplicaSet") == {r.name for r in replicasets} and len(replicasets) >= 2
    assert names("Pod") == {p.name for p in pods}
    assert names("Node") == {n.name for n in nodes}
    assert len(names("Event")) >= len(events) > 0
    assert capture.logs[(namespace, pods[0].name, False)] == log and log

    counts = write_objects(capture, tmp_path, Redactor())
    assert counts["replicasets.json"] == len(replicasets)
    objects = objects_from_document(json.loads((tmp_path / "kube" / "pods.json").read_text()))
    assert {o["kind"] for o in objects} == {"Pod"} and all(o["apiVersion"] == "v1" for o in objects)
    assert all(o["spec"]["containers"][0]["image"] for o in objects)  # the API's JSON, not our views
    assert write_logs(capture, tmp_path, scenario.end_utc) == 1

    closed = k8s.Configuration()
    closed.host, closed.retries = f"http://127.0.0.1:{free_port()}", 0
    broken = RecordingKube(
        KubernetesReader(api, 10), RawKube(k8s.ApiClient(closed), 2), capture := KubeCapture()
    )
    assert [n.name for n in broken.list_nodes()] == [n.name for n in nodes]  # the tool's answer stands
    assert len(capture.problems) == 1 and capture.problems[0].startswith("nodes: not recorded (")


def test_written_spans_answer_the_same_trace_search(sandbox_pool: SandboxPool, tmp_path: Path) -> None:
    scenario, info = sandbox_pool.get(SCENARIO)
    as_of = scenario.end_utc
    capture = TraceCapture()
    traces = RecordingTraces(OtlpFileBackend(info.traces_dir), capture)
    queries = [
        TraceQuery(service=CAUSE, start=as_of - timedelta(minutes=15), end=as_of, errors_only=True, limit=5),
        TraceQuery(service="frontend", start=as_of - timedelta(hours=1), end=as_of, limit=3),
    ]
    answers = [traces.search(q) for q in queries]
    one = traces.get_trace(answers[0][0].trace_id)
    assert one is not None and all(answers)

    kept = capture.traces(as_of)
    assert write_spans(kept, tmp_path / "spans" / "recorded.jsonl") == sum(len(t.spans) for t in kept)
    replayed = OtlpFileBackend(tmp_path / "spans")
    for query, answer in zip(queries, answers, strict=True):
        again = replayed.search(query)
        assert [t.trace_id for t in again] == [t.trace_id for t in answer]
        assert [sorted(t.spans, key=lambda s: s.span_id) for t in again] == [
            sorted(t.spans, key=lambda s: s.span_id) for t in answer
        ]
