"""`medic policy rbac`: RoleBindings for the act identity, never in a namespace the policy protects."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.server.medic_process import medic


def test_one_binding_per_namespace(tmp_path: Path) -> None:
    run = medic("policy", "rbac", "-n", "shop", "--namespace", "payments", "-n", "shop", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    docs = [d for d in yaml.safe_load_all(run.stdout) if d]
    assert [(d["kind"], d["metadata"]["namespace"]) for d in docs] == [
        ("RoleBinding", "shop"),
        ("RoleBinding", "payments"),
    ]
    assert all(d["roleRef"]["name"] == "medic-act" for d in docs)
    assert all(
        d["subjects"] == [{"kind": "ServiceAccount", "name": "medic-act", "namespace": "medic"}] for d in docs
    )


def test_protected_namespaces_are_refused_by_the_policy_in_use(tmp_path: Path) -> None:
    shipped = medic("policy", "rbac", "-n", "shop", "-n", "kube-system", "-n", "istio-system", cwd=tmp_path)
    assert shipped.returncode == 2 and shipped.stdout == ""
    assert "protects kube-system, istio-system" in shipped.stderr
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nmode: enforce\nprotected_namespaces: [payments]\n")
    own = medic("policy", "rbac", "-n", "payments", "--policy", str(policy), cwd=tmp_path)
    assert own.returncode == 2 and "protects payments" in own.stderr
    env = medic("policy", "rbac", "-n", "payments", cwd=tmp_path, env={"MEDIC_POLICY_FILE": str(policy)})
    assert env.returncode == 2 and "protects payments" in env.stderr


def test_a_bad_namespace_name_is_refused(tmp_path: Path) -> None:
    run = medic("policy", "rbac", "-n", "Not_A_Name", cwd=tmp_path)
    assert run.returncode == 2 and "not a namespace name: Not_A_Name" in run.stderr
