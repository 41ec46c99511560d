"""Every overlay under deploy/ renders with `kubectl kustomize`, and each object is a valid object of
the official client's models; the security-relevant choices are checked, not assumed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from agent.runbook import load_runbook
from policies.loader import load_default_policy, parse_policy

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = sorted(p.name for p in (ROOT / "deploy" / "overlays").iterdir() if p.is_dir())
MODELS = {
    "Namespace": "V1Namespace",
    "ServiceAccount": "V1ServiceAccount",
    "Secret": "V1Secret",
    "ClusterRole": "V1ClusterRole",
    "ClusterRoleBinding": "V1ClusterRoleBinding",
    "RoleBinding": "V1RoleBinding",
    "ConfigMap": "V1ConfigMap",
    "Deployment": "V1Deployment",
    "Service": "V1Service",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "PodDisruptionBudget": "V1PodDisruptionBudget",
}


def render(overlay: str) -> list[dict]:
    done = subprocess.run(
        [
            "kubectl",
            "kustomize",
            "--load-restrictor",
            "LoadRestrictionsNone",
            str(ROOT / "deploy" / "overlays" / overlay),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def typed(doc: dict) -> object:
    return client.ApiClient().deserialize(json.dumps(doc), MODELS[doc["kind"]], "application/json")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_a_valid_kubernetes_object(overlay: str) -> None:
    docs = render(overlay)
    assert {d["kind"] for d in docs} <= set(MODELS), "an object kind without a model check"
    for doc in docs:
        obj = typed(doc)
        assert obj.metadata.name, doc  # type: ignore[attr-defined]
        if doc["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            assert obj.metadata.namespace, f"{doc['kind']}/{doc['metadata']['name']} has no namespace"  # type: ignore[attr-defined]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_pod_runs_unprivileged_and_reads_only(overlay: str, tmp_path: Path) -> None:
    docs = render(overlay)
    (deployment,) = [typed(d) for d in docs if d["kind"] == "Deployment"]
    spec = deployment.spec.template.spec  # type: ignore[attr-defined]
    container = spec.containers[0]
    assert spec.service_account_name == "medic" and spec.security_context.run_as_non_root
    assert container.security_context.allow_privilege_escalation is False
    assert container.security_context.read_only_root_filesystem is True
    assert container.readiness_probe.http_get.path == "/readyz"
    assert container.liveness_probe.http_get.path == "/healthz"
    mounts = {m.mount_path for m in container.volume_mounts}
    assert {"/etc/medic", "/var/run/secrets/medic-act", "/var/lib/medic"} <= mounts
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    assert config["data"]["MEDIC_ACT_KUBECONFIG"] == "/etc/medic/act-kubeconfig"
    assert parse_policy(config["data"]["policy.yaml"], "policy.yaml") == load_default_policy()
    runbook = tmp_path / "runbook.yaml"
    runbook.write_text(config["data"]["runbook.yaml"])
    assert load_runbook(runbook).entries


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_medic_may_act_only_where_the_policy_lets_it(overlay: str) -> None:
    policy = load_default_policy()
    bindings = [d for d in render(overlay) if d["kind"] == "RoleBinding"]
    assert bindings, "no namespace to act in"
    for binding in bindings:
        assert binding["roleRef"]["name"] == "medic-act"
        assert not policy.is_protected(binding["metadata"]["namespace"])
        assert [s["name"] for s in binding["subjects"]] == ["medic-act"]


def test_the_postgres_overlay_runs_replicas_on_one_database() -> None:
    docs = render("postgres")
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] >= 2
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MEDIC_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "medic-postgres"
    assert any(d["kind"] == "PodDisruptionBudget" for d in docs)


def test_the_image_is_slim_non_root_and_checks_its_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    user = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert user and user[-1] not in ("root", "0")
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
