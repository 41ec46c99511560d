"""A guard wired to the Kubernetes emulator (real HTTP), a SQLite audit log and a policy from text."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from evals.sandbox.kube import run_in_thread
from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from policies.guard import Guard
from policies.loader import parse_policy
from policies.model import Policy
from tests.evals.sandbox.kube_world import small_world
from tools.actions import Executor
from tools.kube.client import KubernetesReader

ENFORCE = """
version: 1
mode: enforce
rules:
  - name: approve-workload-changes
    kinds: [scale, rollout_restart, rollback, delete_pod]
    effect: require_approval
    approval: {roles: [sre], min_approvers: 1, max_age: 30m}
  - name: nodes
    kinds: [cordon, uncordon]
    effect: require_approval
    approval: {roles: [sre], min_approvers: 1, max_age: 30m}
limits:
  per_target: {max_actions: 100, window: 1h}
"""


def clock() -> datetime:
    """The guard's clock: real time, since approvals expire in real time."""
    return datetime.now(UTC)


@dataclass
class World:
    url: str
    api: client.ApiClient
    apps: Any
    core: Any
    audit_path: Path

    def guard(self, policy: Policy, verify_within_s: float = 5.0) -> Guard:
        audit = AuditLog(SqliteAuditStore(self.audit_path), clock)
        return Guard(
            Executor(self.api),
            policy,
            audit,
            clock,
            kube=KubernetesReader(self.api, timeout_s=5),
            verify_within_s=verify_within_s,
        )

    def audit(self) -> AuditLog:
        return AuditLog(SqliteAuditStore(self.audit_path), clock)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with run_in_thread(small_world()) as running:
        config = client.Configuration()
        config.host = running.url
        api = client.ApiClient(config)
        yield World(running.url, api, client.AppsV1Api(api), client.CoreV1Api(api), tmp_path / "audit.db")
        api.close()


def enforce_policy() -> Policy:
    return parse_policy(ENFORCE, "enforce.yaml")
