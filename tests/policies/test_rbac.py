"""The shipped RBAC manifest grants the read side read-only verbs and the action side exactly the
writes the executor sends."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WRITE_VERBS = {
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "escalate",
    "bind",
    "impersonate",
    "*",
}


def roles() -> dict[str, list[dict[str, list[str]]]]:
    docs = list(yaml.safe_load_all((ROOT / "policies" / "rbac.yaml").read_text()))
    return {d["metadata"]["name"]: d["rules"] for d in docs if d["kind"] == "ClusterRole"}


def test_the_read_role_cannot_write_or_read_secrets() -> None:
    for rule in roles()["medic-read"]:
        assert not set(rule["verbs"]) & WRITE_VERBS
        assert not {"secrets", "configmaps", "*"} & set(rule["resources"])


def test_the_act_role_matches_the_executor() -> None:
    granted = {
        (g, r, v)
        for rule in roles()["medic-act"] + roles()["medic-act-nodes"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    assert granted == {
        ("apps", "deployments", "patch"),  # rollout restart, rollback
        ("apps", "deployments/scale", "get"),
        ("apps", "deployments/scale", "patch"),  # scale
        ("", "pods", "delete"),  # delete one pod
        ("", "nodes", "patch"),  # cordon, uncordon
    }
    # ... and the executor sends nothing else: every mutating client method it calls is one of these.
    tree = ast.parse((ROOT / "tools" / "actions.py").read_text())
    called = {
        n.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and n.attr.startswith(("patch_", "delete_", "create_", "replace_"))
    }
    assert called == {
        "patch_namespaced_deployment_scale",
        "patch_namespaced_deployment",
        "delete_namespaced_pod",
        "patch_node",
    }


def test_the_pod_identity_reads_and_only_the_act_identity_writes() -> None:
    docs = list(yaml.safe_load_all((ROOT / "policies" / "rbac.yaml").read_text()))
    bindings = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ClusterRoleBinding"}
    subjects = {name: {s["name"] for s in b["subjects"]} for name, b in bindings.items()}
    assert subjects == {"medic-read": {"medic", "medic-act"}, "medic-act-nodes": {"medic-act"}}
    # the workload writes are never bound cluster-wide: only RoleBindings, per namespace
    assert all(b["roleRef"]["name"] != "medic-act" for b in bindings.values())
