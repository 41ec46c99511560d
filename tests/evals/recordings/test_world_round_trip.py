"""A scenario's world written as a recording and replayed serves what the scenario's own sandbox serves:
the same series and samples, objects, pod logs and traces."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client, config

from evals.sandbox.sandbox import SandboxConfig, SandboxInfo, down_all, up
from evals.scenario import load_scenario
from evals.world.simulate import simulate
from tests.evals.recordings.world_recording import write_world_recording
from tools.traces.backend import TraceQuery
from tools.traces.otlp_file import OtlpFileBackend

pytestmark = pytest.mark.sandbox

SCENARIO = "ledger-crashloop"  # small, and its crash loop leaves previous-container logs
QUERIES = (
    'count by (__name__) ({__name__=~".+"})',
    "sum by (service, http_response_status_code) (increase(http_server_request_duration_seconds_count[2h]))",
    "sum by (pod) (count_over_time(container_memory_working_set_bytes[3h]))",
    "max by (pod) (kube_pod_container_status_restarts_total)",
)


@pytest.fixture
def sandbox_config(tmp_path: Path, tsdb_cache: Path) -> Iterator[SandboxConfig]:
    config = SandboxConfig(state_dir=tmp_path / "state", start_timeout_s=90, tsdb_cache_dir=tsdb_cache)
    yield config
    down_all(config)


def _answers(info: SandboxInfo, at: float, namespace: str) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for promql in QUERIES:
        body = httpx.get(f"{info.prometheus_url}/api/v1/query", params={"query": promql, "time": at}).json()
        answers[promql] = sorted((sorted(r["metric"].items()), r["value"]) for r in body["data"]["result"])
    api = config.new_client_from_config(config_file=str(info.kubeconfig))
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    pods = sorted(p.metadata.name for p in core.list_namespaced_pod(namespace).items)
    answers["pods"] = pods
    answers["replicasets"] = sorted(
        r.metadata.name for r in apps.list_namespaced_replica_set(namespace).items
    )
    answers["events"] = sorted(
        (e.reason, e.involved_object.name) for e in core.list_namespaced_event(namespace).items
    )
    answers["logs"] = {pod: core.read_namespaced_pod_log(pod, namespace, timestamps=True) for pod in pods}
    backend = OtlpFileBackend(info.traces_dir)
    everything = TraceQuery(
        start=datetime(2000, 1, 1, tzinfo=UTC), end=datetime(2100, 1, 1, tzinfo=UTC), limit=10**6
    )
    answers["traces"] = (backend.services(), len(backend.search(everything)))
    return answers


def test_the_recording_of_a_world_serves_what_its_scenario_serves(
    tmp_path: Path, sandbox_config: SandboxConfig
) -> None:
    scenario = load_scenario(SCENARIO)
    folder = write_world_recording(simulate(scenario), tmp_path / "rec")

    simulated = up(scenario, sandbox_config, name="simulated")
    replayed = up(folder, sandbox_config, name="replayed")

    at, namespace = scenario.end_utc.timestamp(), scenario.topology.namespace
    expected, got = _answers(simulated, at, namespace), _answers(replayed, at, namespace)
    assert all(expected[promql] for promql in QUERIES), "every query has an answer to compare"
    assert expected["pods"] and any(expected["logs"].values()) and expected["traces"][1] > 0
    for key, value in expected.items():
        assert got[key] == value, key
