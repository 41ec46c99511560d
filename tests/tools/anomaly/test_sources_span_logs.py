"""read_sources end to end: spans from an OTLP collector file, pod logs from the Kubernetes emulator
over HTTP, joined by the span ids the log lines name, become a per-request statements row.

The world: frontend calls checkout's PlaceOrder five times a minute for 40 minutes. Checkout logs a
start line and an "order placed" line in every request, with `TraceID: ... SpanID: ...` in the text
(Sleuth style); from the onset an exception is thrown between the two: the requests keep arriving,
the second statement stops. The same pods' logs without the ids (namespace `shop-plain`) join no span.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from opentelemetry.trace import SpanKind

from evals.sandbox.kube.kubeconfig import write_kubeconfig
from evals.sandbox.kube.runner import run_in_thread
from evals.sandbox.kube.state import KubeState, PodLogRecord
from tests.tools.traces.otel_traces import MS, SdkTraces
from tools.anomaly.incident_rank import rank_incident
from tools.anomaly.sources import Sources, read_sources
from tools.context import ToolContext
from tools.kube.client import KubernetesReader
from tools.traces.otlp_file import OtlpFileBackend

AS_OF = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
START = AS_OF - timedelta(minutes=40)
ONSET_S = (START + timedelta(minutes=30)).timestamp()
STEP = 60.0
TIMES = START.timestamp() + STEP * np.arange(40)
SERVICES = ["checkout", "frontend"]
ROW = ("checkout", "trace_log_statements:PlaceOrder")
WITH_IDS, PLAIN = "shop", "shop-plain"


def _stamp(at_s: float) -> str:
    return datetime.fromtimestamp(at_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _world() -> tuple[SdkTraces, dict[str, list[tuple[float, str]]]]:
    """The spans, and per service its log lines (time, text with ids) in time order."""
    sdk = SdkTraces()
    logs: dict[str, list[tuple[float, str]]] = {"checkout": [], "frontend": []}
    # a background thread's pool report each minute, in no request: checkout's lines then cover the
    # window from its start (a request is judged only where its service's lines were read)
    logs["checkout"] += [(float(t), "INFO c.PoolStats#12 [pool][active: 3]") for t in TIMES]
    for k in range(200):
        at = START.timestamp() + 1 + 12 * k
        t0 = round(at * 1e9)
        root = sdk.span("frontend", "GET /checkout", t0, t0 + 40 * MS, kind=SpanKind.SERVER)
        served = sdk.call(root, "checkout", "PlaceOrder", t0 + 2 * MS, t0 + 38 * MS)
        ctx = served.get_span_context()
        ids = f"TraceID: {ctx.trace_id:032x} SpanID: {ctx.span_id:016x}"
        logs["checkout"].append((at + 0.003, f"INFO c.CheckoutController#40 {ids} [place][start]"))
        if at < ONSET_S:  # from the onset it throws before the result line
            placed = f"INFO c.CheckoutController#57 {ids} [place][order placed][total: {k % 97}]"
            logs["checkout"].append((at + 0.030, placed))
        logs["frontend"].append((at + 0.041, f'INFO "POST /checkout" 200 {40 + k % 3}ms'))
    return sdk, {service: sorted(lines) for service, lines in logs.items()}


def _objects(namespace: str) -> list[dict[str, object]]:
    objects: list[dict[str, object]] = []
    for app in SERVICES:
        labels = {"app": app}
        container = {"name": "app", "image": f"{app}:v1"}
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": app, "namespace": namespace, "labels": labels},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
                },
            }
        )
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"{app}-6d4b8c9f7-aaaaa", "namespace": namespace, "labels": labels},
                "spec": {"nodeName": "node-a", "containers": [container]},
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "name": "app",
                            "ready": True,
                            "restartCount": 0,
                            "image": f"{app}:v1",
                            "imageID": "",
                            "state": {"running": {"startedAt": _stamp(START.timestamp() - 7200)}},
                        }
                    ],
                },
            }
        )
    return objects


def _without_ids(text: str) -> str:
    """The line as a logger without trace context writes it."""
    return re.sub(r"TraceID: \S+ SpanID: \S+ ", "", text)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolContext]:
    """One trace file; the same pods' logs in two namespaces, with and without the span ids."""
    sdk, logs = _world()
    folder = tmp_path_factory.mktemp("span_logs")
    trace_file = sdk.write_collector_file(folder / "traces.jsonl")
    records = [
        PodLogRecord(
            namespace=namespace,
            pod=f"{service}-6d4b8c9f7-aaaaa",
            container="app",
            lines=[f"{_stamp(at)} {rewrite(text)}" for at, text in lines],
        )
        for namespace, rewrite in ((WITH_IDS, str), (PLAIN, _without_ids))
        for service, lines in logs.items()
    ]
    state = KubeState(objects=_objects(WITH_IDS) + _objects(PLAIN), logs=records)
    with run_in_thread(state) as emulator:
        kubeconfig = write_kubeconfig(emulator.url, folder / "kubeconfig")
        reader = KubernetesReader.from_kubeconfig(Path(kubeconfig), timeout_s=5)
        context = ToolContext(as_of=AS_OF, kube=reader, traces=OtlpFileBackend(trace_file))
        yield context
        context.close()


def _rows(out: Sources) -> dict[tuple[str, str], np.ndarray]:
    return {(k.entity, k.signal): row for m in out.rows for k, row in zip(m.keys, m.values, strict=True)}


def test_the_statement_stopping_shows_per_request_in_the_trace_rows(ctx: ToolContext) -> None:
    out = read_sources(ctx, TIMES, STEP, START, WITH_IDS, SERVICES)

    assert out.unavailable == []
    assert set(out.read) == {"traces", "logs"}, out.read
    assert out.read["traces"].startswith("600 spans of 200 traces")  # root, client, server
    assert out.calls == {"frontend": ["checkout"]}
    rows = _rows(out)
    share = rows[ROW]
    assert np.all(share[TIMES < ONSET_S] == 1.0), share
    assert np.all(share[TIMES >= ONSET_S] == 0.0), share  # requests still came, the line did not
    key = next(k for m in out.rows for k in m.keys if (k.entity, k.signal) == ROW)
    assert (key.kind, key.noise, key.source) == ("other", "ratio", "traces")
    # the caller's lines name no span: it has no statements row, only its other rows
    assert not any(e == "frontend" and s.startswith("trace_log_statements") for e, s in rows)
    assert ("frontend", "trace_latency_p90") in rows
    assert np.all(rows["checkout", "trace_requests"] == 5.0)  # the load did not change


def test_lines_naming_no_span_give_no_statements_row_but_the_trace_rows_stay(ctx: ToolContext) -> None:
    out = read_sources(ctx, TIMES, STEP, START, PLAIN, SERVICES)

    assert out.unavailable == [] and set(out.read) == {"traces", "logs"}
    rows = _rows(out)
    assert not any(s.startswith("trace_log_statements") for _, s in rows), sorted(rows)
    assert {("checkout", "trace_latency_p90"), ("checkout", "trace_requests")} <= set(rows)
    assert any(src == "logs" for m in out.rows for src in (k.source for k in m.keys))


def test_the_ranking_of_these_rows_names_checkout_by_its_statements(ctx: ToolContext) -> None:
    """What `rank_root_causes` does with the sources' rows (its metrics left out: no Prometheus here)."""
    out = read_sources(ctx, TIMES, STEP, START, WITH_IDS, SERVICES)
    matrix = out.rows[0].joined(*out.rows[1:])
    ranking = rank_incident(matrix, out.calls, AS_OF.timestamp() - STEP)

    top = ranking.candidates[0]
    assert ranking.anomalous and top.entity == "checkout", ranking.candidates[:2]
    assert top.evidence[0].signal == ROW[1], top.evidence[:3]
