"""The Kubernetes tools over real HTTP: the official client against the sandbox's Kubernetes emulator
(`evals.sandbox.kube`, used here only as a test fixture)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from evals.sandbox.kube.kubeconfig import write_kubeconfig
from evals.sandbox.kube.runner import run_in_thread
from evals.sandbox.kube.state import KubeState, PodLogRecord
from tests.tools.conftest import js
from tests.tools.prom_fixture import AS_OF, free_port
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.kube.client import KubernetesReader
from tools.registry import default_registry
from tools.summary import count_tokens

NS = "boutique"
REGISTRY = default_registry()


def _ts(delta: timedelta) -> str:
    return (AS_OF + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def _template(image: str, env: dict[str, str], memory: str) -> dict[str, object]:
    return {
        "metadata": {"labels": {"app": "checkout"}},
        "spec": {
            "containers": [
                {
                    "name": "checkout",
                    "image": image,
                    "env": [{"name": k, "value": v} for k, v in env.items()]
                    + [
                        {
                            "name": "DB_PASSWORD",
                            "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
                        }
                    ],
                    "resources": {"limits": {"cpu": "1", "memory": memory}},
                }
            ]
        },
    }


def _replicaset(
    revision: int, created: timedelta, image: str, env: dict[str, str], memory: str
) -> dict[str, object]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"checkout-rs{revision}",
            "namespace": NS,
            "labels": {"app": "checkout"},
            "creationTimestamp": _ts(created),
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout", "controller": True}
            ],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "checkout"}},
            "template": _template(image, env, memory),
        },
    }


SECRETS = ["hunter2", "hunter3", "s3cretpw", "n3wpass"]


def _billing(kind: str, revision: int, password: str, url_password: str, config: str) -> dict[str, object]:
    """A Deployment (or one of its ReplicaSets) whose env holds literal secrets: a DB_PASSWORD and a
    DATABASE_URL with a password in it, beside a harmless APP_CONFIG."""
    env = {
        "DB_PASSWORD": password,
        "DATABASE_URL": f"postgres://app:{url_password}@db:5432/orders",
        "APP_CONFIG": config,
    }
    meta: dict[str, object] = {
        "name": "billing" if kind == "Deployment" else f"billing-rs{revision}",
        "namespace": NS,
        "labels": {"app": "billing"},
        "creationTimestamp": _ts(-timedelta(days=2) if revision == 1 else -timedelta(minutes=20)),
        "annotations": {"deployment.kubernetes.io/revision": str(revision)},
    }
    if kind == "ReplicaSet":
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "billing"}]
    container = {
        "name": "billing",
        "image": "billing:v1",
        "env": [{"name": k, "value": v} for k, v in env.items()],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "billing"}},
            "template": {"metadata": {"labels": {"app": "billing"}}, "spec": {"containers": [container]}},
        },
    }


def _pod(name: str, node: str, crashing: bool) -> dict[str, object]:
    status: dict[str, object] = {
        "name": "checkout",
        "ready": not crashing,
        "restartCount": 4 if crashing else 0,
        "image": "checkout:v2",
        "imageID": "",
        "state": {"running": {"startedAt": _ts(-timedelta(hours=1))}},
    }
    if crashing:
        status["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
        status["lastState"] = {
            "terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": _ts(-timedelta(minutes=3))}
        }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": "checkout"}},
        "spec": {"nodeName": node, "containers": [{"name": "checkout", "image": "checkout:v2"}]},
        "status": {"phase": "Running", "containerStatuses": [status]},
    }


def _event(
    name: str, kind: str, obj: str, reason: str, message: str, when: timedelta, type_: str = "Normal"
) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": NS},
        "involvedObject": {"kind": kind, "name": obj, "namespace": NS},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": 3,
        "firstTimestamp": _ts(when),
        "lastTimestamp": _ts(when),
    }


def _node(name: str, memory_pressure: bool) -> dict[str, object]:
    def cond(type_: str, status: bool, reason: str) -> dict[str, str]:
        return {
            "type": type_,
            "status": "True" if status else "False",
            "reason": reason,
            "message": reason,
            "lastTransitionTime": _ts(-timedelta(minutes=10)),
        }

    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "spec": {},
        "status": {
            "conditions": [
                cond("Ready", True, "KubeletReady"),
                cond("MemoryPressure", memory_pressure, "KubeletHasInsufficientMemory"),
            ]
        },
    }


STATE = KubeState(
    objects=[
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "checkout",
                "namespace": NS,
                "annotations": {"deployment.kubernetes.io/revision": "3"},
            },
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "checkout"}},
                "template": _template("checkout:v3", {"LOG_LEVEL": "info"}, "512Mi"),
            },
            "status": {"replicas": 2, "availableReplicas": 1, "readyReplicas": 1, "updatedReplicas": 2},
        },
        _replicaset(1, -timedelta(days=3), "checkout:v1", {"LOG_LEVEL": "info"}, "512Mi"),
        _replicaset(
            2, -timedelta(minutes=25), "checkout:v2", {"LOG_LEVEL": "info", "FEATURE_X": "on"}, "256Mi"
        ),
        _replicaset(3, timedelta(minutes=10), "checkout:v3", {"LOG_LEVEL": "info"}, "512Mi"),
        _pod("checkout-rs2-aaaaa", "node-a", crashing=False),
        _pod("checkout-rs2-bbbbb", "node-b", crashing=True),
        _event(
            "e1",
            "Pod",
            "checkout-rs2-bbbbb",
            "BackOff",
            "Back-off restarting failed container",
            -timedelta(minutes=2),
            "Warning",
        ),
        _event(
            "e2",
            "Deployment",
            "checkout",
            "ScalingReplicaSet",
            "Scaled up replica set checkout-rs2 to 2",
            -timedelta(minutes=25),
        ),
        _event(
            "e3",
            "Deployment",
            "checkout",
            "ScalingReplicaSet",
            "Scaled up replica set checkout-rs3 to 2",
            timedelta(minutes=10),
        ),
        _event("e4", "Pod", "checkout-rs2-aaaaa", "Pulled", "old news", -timedelta(hours=3)),
        _billing("Deployment", 2, "hunter3", "n3wpass", "large"),
        _billing("ReplicaSet", 1, "hunter2", "s3cretpw", "small"),
        _billing("ReplicaSet", 2, "hunter3", "n3wpass", "large"),
        _node("node-a", memory_pressure=False),
        _node("node-b", memory_pressure=True),
    ],
    logs=[
        PodLogRecord(
            namespace=NS,
            pod="checkout-rs2-bbbbb",
            container="checkout",
            lines=[f"{_ts(-timedelta(minutes=m))} INFO handled order {m}" for m in range(60, 2, -1)]
            + [
                f"{_ts(-timedelta(seconds=90))} ERROR payment call failed password=hunter2 status=500",
                f"{_ts(-timedelta(seconds=30))} ERROR out of memory allocating cart",
                f"{_ts(timedelta(minutes=5))} ERROR this line is from after as_of",
            ],
        ),
        PodLogRecord(
            namespace=NS,
            pod="checkout-rs2-aaaaa",
            container="checkout",
            lines=[
                f"{_ts(-timedelta(minutes=2))} INFO {'x' * 600} needle beyond the cut",
                f"{_ts(-timedelta(minutes=1))} INFO needle within reach",
            ],
        ),
        PodLogRecord(
            namespace=NS,
            pod="checkout-rs2-bbbbb",
            container="checkout",
            previous=True,
            lines=[f"{_ts(-timedelta(minutes=4))} panic: FEATURE_X requires CART_URL"],
        ),
    ],
)


@pytest.fixture(scope="module")
def kube_ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolContext]:
    with run_in_thread(STATE) as emulator:
        kubeconfig = write_kubeconfig(emulator.url, tmp_path_factory.mktemp("kube") / "kubeconfig")
        reader = KubernetesReader.from_kubeconfig(Path(kubeconfig), timeout_s=5)
        yield ToolContext(as_of=AS_OF, kube=reader, config=ToolsConfig(kubeconfig=kubeconfig))
        reader.close()


def test_workload_history_shows_what_changed_and_hides_the_future(kube_ctx: ToolContext) -> None:
    result = REGISTRY.run("kube_workload", {"namespace": NS, "name": "checkout"}, kube_ctx)
    assert result.status == "ok", result.summary
    revisions = js(result)["revisions"]
    assert [r["revision"] for r in revisions] == [1, 2]
    changes = revisions[1]["changes"]
    assert "image checkout:v1 → checkout:v2" in changes
    assert "env FEATURE_X added (on)" in changes and "limits memory: 512Mi → 256Mi" in changes
    assert js(result)["revisions_after_as_of"] == 1
    lines = result.summary.splitlines()
    assert lines[1].startswith("rev 2 at") and "(25 min before as_of)" in lines[1]  # newest first
    assert "1 revisions after as_of not shown" in result.summary
    assert "<from secretkey db>" in str(js(result)["deployment"]) and "hunter2" not in str(result.data)


def test_workload_env_secrets_never_leave_but_their_changes_show(kube_ctx: ToolContext) -> None:
    result = REGISTRY.run("kube_workload", {"namespace": NS, "name": "billing"}, kube_ctx)
    assert result.status == "ok", result.summary
    shown = result.model_dump_json()  # summary, data and evidence alike
    assert not [s for s in SECRETS if s in shown], shown
    changes = js(result)["revisions"][1]["changes"]
    assert "env APP_CONFIG: small → large" in changes  # a harmless change stays readable
    # Both secrets changed; the redacted values are equal, yet the change is still reported.
    assert "env DB_PASSWORD: [REDACTED] → [REDACTED]" in changes
    url = "postgres://app:[REDACTED]@db:5432/orders"
    assert f"env DATABASE_URL: {url} → {url}" in changes
    assert js(result)["deployment"]["containers"][0]["env"]["DB_PASSWORD"] == "[REDACTED]"


def test_unknown_workload_is_no_data_with_closest_names(kube_ctx: ToolContext) -> None:
    result = REGISTRY.run("kube_workload", {"namespace": NS, "name": "checkot"}, kube_ctx)
    assert result.status == "no_data" and js(result)["closest"] == ["checkout"]


def test_pods_put_the_crashing_one_first_with_its_last_termination(kube_ctx: ToolContext) -> None:
    result = REGISTRY.run("kube_pods", {"namespace": NS, "workload": "checkout"}, kube_ctx)
    assert result.status == "ok"
    first = result.summary.splitlines()[1]
    assert first.startswith("checkout-rs2-bbbbb") and "waiting:CrashLoopBackOff" in first
    assert "restarts 4" in first and "last terminated OOMKilled (exit 137)" in first
    assert "1 not healthy" in result.summary
    assert any(e.id.startswith("kube:pod:checkout-rs2-bbbbb:") for e in result.evidence)


def test_events_within_lookback_up_to_as_of(kube_ctx: ToolContext) -> None:
    result = REGISTRY.run("kube_events", {"namespace": NS}, kube_ctx)
    reasons = [e["reason"] for e in js(result)["events"]]
    assert reasons == ["BackOff", "ScalingReplicaSet"]  # newest first; future and too-old left out
    warnings = REGISTRY.run(
        "kube_events", {"namespace": NS, "object_name": "checkout-rs2-bbbbb", "warnings_only": True}, kube_ctx
    )
    assert [e["reason"] for e in js(warnings)["events"]] == ["BackOff"]


def test_pod_logs_are_filtered_cut_at_as_of_and_redacted(kube_ctx: ToolContext) -> None:
    result = REGISTRY.run(
        "pod_logs", {"namespace": NS, "pod": "checkout-rs2-bbbbb", "grep": "error"}, kube_ctx
    )
    assert result.status == "ok", result.summary
    lines = js(result)["lines"]
    assert len(lines) == 2 and "out of memory" in lines[-1]
    assert "hunter2" not in result.summary + str(result.data) and "password=[REDACTED]" in lines[0]
    assert js(result)["after_as_of"] == 1 and "1 lines after as_of dropped" in result.summary
    previous = REGISTRY.run(
        "pod_logs", {"namespace": NS, "pod": "checkout-rs2-bbbbb", "previous": True}, kube_ctx
    )
    assert "panic: FEATURE_X requires CART_URL" in previous.summary
    none = REGISTRY.run(
        "pod_logs", {"namespace": NS, "pod": "checkout-rs2-aaaaa", "previous": True}, kube_ctx
    )
    assert none.status == "error" and none.retryable and "previous terminated container" in none.summary
    unknown = REGISTRY.run("pod_logs", {"namespace": NS, "pod": "checkout-rs2-zzzzz"}, kube_ctx)
    assert unknown.status == "no_data" and "checkout-rs2-aaaaa" in js(unknown)["closest"]


def test_pod_logs_grep_sees_only_the_cut_line_and_rejects_bad_patterns(kube_ctx: ToolContext) -> None:
    # log_max_line_chars is 500: "needle" past it is not matched (nor shown)
    args = {"namespace": NS, "pod": "checkout-rs2-aaaaa", "grep": "needle"}
    result = REGISTRY.run("pod_logs", args, kube_ctx)
    assert result.status == "ok", result.summary
    assert js(result)["lines"] == [f"{_ts(-timedelta(minutes=1))} INFO needle within reach"]
    for grep in ["a" * 201, "(unclosed"]:
        bad = REGISTRY.run("pod_logs", {**args, "grep": grep}, kube_ctx)
        assert bad.status == "error" and bad.retryable, bad.summary
    assert "not a valid regex" in REGISTRY.run("pod_logs", {**args, "grep": "(unclosed"}, kube_ctx).summary


def test_long_logs_stay_within_the_budget_and_say_what_was_cut(kube_ctx: ToolContext) -> None:
    result = REGISTRY.run("pod_logs", {"namespace": NS, "pod": "checkout-rs2-bbbbb"}, kube_ctx)
    assert count_tokens(result.summary) <= 400
    assert js(result)["matched"] == 60 and "more older lines not shown (60 in all)" in result.summary


def test_nodes_put_the_pressured_node_first(kube_ctx: ToolContext) -> None:
    result = REGISTRY.run("kube_nodes", {}, kube_ctx)
    assert result.summary.splitlines()[1].startswith("node-b: MemoryPressure=True")
    assert "1 with a bad condition" in result.summary
    unknown = REGISTRY.run("kube_nodes", {"name": "node-c"}, kube_ctx)
    assert unknown.status == "no_data" and js(unknown)["closest"][0] in ("node-a", "node-b")


def test_unreachable_kubernetes_is_an_error_within_the_timeout(tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(f"http://127.0.0.1:{free_port()}", tmp_path / "kubeconfig")
    ctx = ToolContext(as_of=AS_OF, kube=KubernetesReader.from_kubeconfig(kubeconfig, timeout_s=1))
    started = time.monotonic()
    result = REGISTRY.run("kube_nodes", {}, ctx)
    assert result.status == "error" and "unreachable" in result.summary, result.summary
    assert time.monotonic() - started < 2.5


def test_a_kubernetes_api_that_never_answers_times_out(tmp_path: Path, silent_server: str) -> None:
    kubeconfig = write_kubeconfig(silent_server, tmp_path / "kubeconfig")
    ctx = ToolContext(as_of=AS_OF, kube=KubernetesReader.from_kubeconfig(kubeconfig, timeout_s=1))
    started = time.monotonic()
    result = REGISTRY.run("kube_pods", {"namespace": NS}, ctx)
    assert result.status == "error" and "within 1" in result.summary, result.summary
    assert time.monotonic() - started < 2.5
