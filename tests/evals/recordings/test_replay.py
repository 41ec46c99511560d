"""Replay: `sandbox up` serves a recording as it serves a scenario (a real Prometheus backfilled with its
metrics, the Kubernetes emulator with its objects and logs, its spans where the trace backend reads
them), and nothing later than as_of is visible in any of them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client, config

from evals.replayable import load_replayable
from evals.sandbox.sandbox import SandboxConfig, down, down_all, running, status, up
from tests.evals.recordings.minimal import (
    AFTER_ONLY,
    AS_OF,
    CAUSE,
    LATE_LOG,
    LATE_SPAN,
    NAMESPACE,
    PODS,
    STEP_S,
    TRACE_ID,
    pod_names,
    write_recording,
)
from tools.traces.otlp_file import OtlpFileBackend

pytestmark = pytest.mark.sandbox

RECORDING = "shop-cart-bad-deploy"


@pytest.fixture
def sandbox_config(tmp_path: Path) -> Iterator[SandboxConfig]:
    config = SandboxConfig(state_dir=tmp_path / "state", start_timeout_s=90)
    yield config
    down_all(config)


def _query(url: str, promql: str, at: datetime) -> list[dict[str, Any]]:
    body = httpx.get(
        f"{url}/api/v1/query", params={"query": promql, "time": at.timestamp()}, timeout=10
    ).json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def test_a_recording_is_served_as_it_was_at_as_of(tmp_path: Path, sandbox_config: SandboxConfig) -> None:
    folder = write_recording(tmp_path / "rec")

    info = up(folder, sandbox_config)

    # Metrics: every service, the whole history up to as_of, and not one sample after it.
    services = _query(
        info.prometheus_url, "count by (service) (http_server_request_duration_seconds_count)", AS_OF
    )
    assert sorted(s["metric"]["service"] for s in services) == sorted(PODS)
    later = AS_OF + timedelta(hours=1)
    assert _query(info.prometheus_url, f"count_over_time({AFTER_ONLY}[3h])", later) == []
    pod = pod_names(CAUSE)[0]
    selector = f'pod="{pod}",http_response_status_code="200"'
    [kept] = _query(
        info.prometheus_url,
        f"count_over_time(http_server_request_duration_seconds_count{{{selector}}}[3h])",
        later,
    )
    assert int(kept["value"][1]) == 2 * 3600 // STEP_S + 1, "two hours at 30 s, both ends included"

    # Kubernetes: the recorded objects, both revisions, the pod log, through the official client.
    api = config.new_client_from_config(config_file=str(info.kubeconfig))
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    assert len(core.list_namespaced_pod(NAMESPACE).items) == 6
    revisions = apps.list_namespaced_replica_set(NAMESPACE, label_selector=f"app={CAUSE}").items
    assert sorted(r.metadata.annotations["deployment.kubernetes.io/revision"] for r in revisions) == [
        "1",
        "2",
    ]
    assert [e.reason for e in core.list_namespaced_event(NAMESPACE).items] == ["ScalingReplicaSet"]
    log = core.read_namespaced_pod_log(pod, NAMESPACE, timestamps=True)
    assert "invalid cart payload" in log and LATE_LOG not in log

    # Traces: where the otlp-file backend reads them, without the span that ended after as_of.
    trace = OtlpFileBackend(info.traces_dir).get_trace(TRACE_ID)
    assert trace is not None
    assert {s.span_id for s in trace.spans} == {"00000000000000a1", "00000000000000b2"}, f"not {LATE_SPAN}"

    header = info.env_file.read_text().splitlines()[0]
    assert f"recording {RECORDING}" in header and "2026-03-02T13:40:00Z" in header
    assert status(RECORDING, sandbox_config) == info
    assert running(load_replayable(folder), sandbox_config) == info
    metrics = folder / "metrics" / "http.om"
    metrics.write_text(metrics.read_text())  # touched: maybe edited
    os.utime(metrics, ns=(0, 0))
    assert running(load_replayable(folder), sandbox_config) is None, (
        "an edited recording is not this sandbox's"
    )

    assert down(RECORDING, sandbox_config) is True
    assert status(RECORDING, sandbox_config) is None


def test_a_recording_with_only_a_manifest_comes_up(tmp_path: Path, sandbox_config: SandboxConfig) -> None:
    folder = write_recording(tmp_path / "rec")
    for part in ("metrics", "kube", "logs", "spans"):
        for path in (folder / part).iterdir():
            path.unlink()
        (folder / part).rmdir()

    info = up(folder, sandbox_config)

    assert _query(info.prometheus_url, "count({__name__=~'.+'})", AS_OF) == []
    api = config.new_client_from_config(config_file=str(info.kubeconfig))
    assert client.CoreV1Api(api).list_namespaced_pod(NAMESPACE).items == []
    assert list(info.traces_dir.iterdir()) == []
