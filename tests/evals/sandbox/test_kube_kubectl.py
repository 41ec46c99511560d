"""The emulator against the real kubectl (/usr/bin/kubectl) with a generated kubeconfig: get,
describe, logs and `rollout undo`, whose result is checked through the official client."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from evals.sandbox.kube import CONTEXT, write_kubeconfig
from tests.evals.sandbox.kube_fixtures import Cluster, cluster_fixture  # noqa: F401 (the fixture)
from tests.evals.sandbox.kube_world import NS

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


@pytest.fixture
def kubectl(cluster: Cluster, tmp_path: Path) -> Callable[..., str]:
    if not Path(KUBECTL).exists():
        pytest.fail("kubectl is required: install it (e.g. `apt-get install kubectl`) so it is on PATH")
    config = write_kubeconfig(cluster.url, tmp_path / "kubeconfig")

    def run(*args: str) -> str:
        result = subprocess.run(
            [KUBECTL, "--kubeconfig", str(config), *args],
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )
        assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"
        return result.stdout

    return run


def test_kubeconfig_shape(tmp_path: Path) -> None:
    config = yaml.safe_load(write_kubeconfig("http://127.0.0.1:1", tmp_path / "k").read_text())
    assert config["current-context"] == CONTEXT
    assert config["clusters"][0]["cluster"] == {
        "server": "http://127.0.0.1:1",
        "insecure-skip-tls-verify": True,
    }


def test_get_pods_and_nodes(kubectl: Callable[..., str]) -> None:
    pods = kubectl("get", "pods", "-n", NS)
    assert pods.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    row = next(line.split() for line in pods.splitlines() if line.startswith("checkout-bbb222-x1aaa"))
    assert row[1:4] == ["1/1", "Running", "3"]
    kubectl("cordon", "node-b")
    nodes = {line.split()[0]: line.split()[1] for line in kubectl("get", "nodes").splitlines()[1:]}
    assert nodes == {"node-a": "Ready", "node-b": "Ready,SchedulingDisabled"}


def test_describe_pod_and_deployment(kubectl: Callable[..., str]) -> None:
    pod = kubectl("describe", "pod", "checkout-bbb222-x1aaa", "-n", NS)
    assert "Controlled By:  ReplicaSet/checkout-bbb222" in pod
    assert "OOMKilled" in pod and "Restart Count:  3" in pod
    assert "Back-off restarting" in pod  # the pod's Events, found by involvedObject uid
    deployment = kubectl("describe", "deployment", "checkout", "-n", NS)
    assert "NewReplicaSet:     checkout-bbb222 (2/2 replicas created)" in deployment
    assert "checkout-aaa111" in deployment


def test_logs(kubectl: Callable[..., str]) -> None:
    assert kubectl("logs", "checkout-bbb222-x1aaa", "-n", NS, "--tail", "1") == "request 9 ok\n"
    assert kubectl("logs", "checkout-bbb222-x1aaa", "-n", NS, "--previous").endswith("fatal: out of memory\n")


def test_rollout_undo(cluster: Cluster, kubectl: Callable[..., str]) -> None:
    assert "rolled back" in kubectl("rollout", "undo", "deployment/checkout", "-n", NS)
    deployment = cluster.apps.read_namespaced_deployment("checkout", NS)
    assert deployment.spec.template.spec.containers[0].image == "shop/checkout:v1"
    reused = cluster.apps.read_namespaced_replica_set("checkout-aaa111", NS)
    assert (reused.metadata.annotations["deployment.kubernetes.io/revision"], reused.spec.replicas) == (
        "3",
        2,
    )
    assert len(cluster.apps.list_namespaced_replica_set(NS).items) == 2  # reused, not created
    assert "rolled back" in kubectl("rollout", "undo", "deployment/checkout", "-n", NS, "--dry-run=server")
    assert cluster.apps.read_namespaced_deployment("checkout", NS).metadata.resource_version == (
        deployment.metadata.resource_version
    )
