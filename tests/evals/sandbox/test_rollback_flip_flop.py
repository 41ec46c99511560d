"""Issue 8 item 1, the story end to end against the Kubernetes emulator (real HTTP, real controller):
a bad deploy; an approved rollback executed through the guard; the alert keeps firing. The next
investigation dates the restored revision from the rollback, not from its old ReplicaSet's creation,
so it is not "a new revision right before the onset"; and the guard refuses to roll back again, to
the broken image, saying why (DESIGN §3.4 invariant 9)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kubernetes import client
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agent.incident import Incident
from agent.planners.classify import classify
from agent.planners.findings import Findings, add_kube_facts, candidates_from_rank
from agent.state import Budget, PlannerView, Step, ToolCall, Usage
from evals.sandbox.kube import run_in_thread
from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from policies.guard import Guard
from policies.guard_graph import build_guard_graph
from policies.guard_record import GuardRecord
from policies.loader import parse_policy
from tests.evals.sandbox.rollback_world import BAD, GOOD, NS, bad_deploy_world
from tests.policies.factories import request
from tests.policies.guard_fixtures import ENFORCE, clock
from tests.policies.test_guard import approve
from tools.action_request import ActionRequest
from tools.actions import Executor
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.contract import ToolResult
from tools.kube.client import KubernetesReader
from tools.registry import default_registry

TARGET = f"{NS}/deployment/checkout"
RESTARTS_ALLOWED = """
version: 1
mode: enforce
rules:
  - name: restarts
    kinds: [rollout_restart]
    effect: allow
  - name: the-rest
    kinds: ["*"]
    effect: require_approval
    approval: {roles: [sre], max_age: 30m}
"""


@dataclass
class Cluster:
    api: client.ApiClient
    reader: KubernetesReader
    audit_path: Path
    onset: datetime

    def guard(self, policy_text: str = ENFORCE) -> Guard:
        audit = AuditLog(SqliteAuditStore(self.audit_path), clock)
        policy = parse_policy(policy_text, "policy.yaml")
        return Guard(Executor(self.api), policy, audit, clock, kube=self.reader, verify_within_s=5)

    def workload(self, as_of: datetime) -> ToolResult:
        ctx = ToolContext(as_of=as_of, kube=self.reader, config=ToolsConfig())
        result = default_registry().run("kube_workload", {"namespace": NS, "name": "checkout"}, ctx)
        assert result.status == "ok", result.summary
        return result

    def investigate(self, as_of: datetime) -> Findings:
        """What the rules planner knows about checkout after reading its workload at `as_of`: the
        ranking's onset and errors (stated), and the rollout history (read from the cluster)."""
        workload = self.workload(as_of)
        signal = {"signal": "error_ratio", "score": 1.0, "sigmas": 60.0, "baseline": 0.0, "peak": 0.3}
        row = {"entity": "checkout", "entity_kind": "service", "service": "checkout", "score": 60.0}
        rank = {"onset": self.onset.isoformat(), "candidates": [{**row, "signals": [signal]}]}
        steps = [
            Step(call=ToolCall(id="r1-rank", tool="rank_root_causes", args={}), status="ok", summary="", data=rank),
            Step(
                call=ToolCall(id="r2-workload", tool="kube_workload", args={"namespace": NS, "name": "checkout"}),
                status="ok",
                summary=workload.summary,
                data=workload.data,
                evidence=[e.id for e in workload.evidence],
            ),
        ]  # fmt: skip
        incident = Incident(id="inc-x", as_of=as_of, source="alert", title="checkout 5xx", namespace=NS)
        view = PlannerView(incident=incident, steps=steps, evidence={}, usage=Usage(), budget=Budget())
        (found,) = candidates_from_rank(view)
        add_kube_facts(found, view)
        return found


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    now = datetime.now(UTC).replace(microsecond=0)
    deployed = now - timedelta(minutes=20)
    with run_in_thread(bad_deploy_world(deployed)) as running:
        config = client.Configuration()
        config.host = running.url
        api = client.ApiClient(config)
        yield Cluster(
            api, KubernetesReader(api, timeout_s=5), tmp_path / "audit.db", deployed + timedelta(minutes=2)
        )
        api.close()


def guarded(cluster: Cluster, action: ActionRequest, policy_text: str = ENFORCE) -> GuardRecord:
    """The guard's answer to `action`; an approval from an SRE is given when one is asked for."""
    graph = build_guard_graph(cluster.guard(policy_text), InMemorySaver())
    config = {"configurable": {"thread_id": str(action.action_id)}}
    out = graph.invoke({"action": action}, config)
    if out.get("__interrupt__"):
        out = graph.invoke(Command(resume=[approve(action)]), config)
    record = out["guard"]
    assert isinstance(record, GuardRecord)
    return record


def image(cluster: Cluster) -> str:
    deployment = client.AppsV1Api(cluster.api).read_namespaced_deployment("checkout", NS)
    return str(deployment.spec.template.spec.containers[0].image)


def test_the_restored_revision_is_not_a_fresh_deploy_and_no_rollback_goes_back_to_the_broken_one(
    cluster: Cluster,
) -> None:
    first = cluster.investigate(datetime.now(UTC))
    assert first.revision_age_s == -120  # v2 went out two minutes before the onset
    verdict = classify(first)
    assert verdict.kind == "bad_deploy" and any("before the onset" in why for why in verdict.because)

    rollback = request("rollback", TARGET, incident_id="inc-1")
    assert guarded(cluster, rollback).stage == "executed"
    assert image(cluster) == "shop/checkout:v1"
    rolled_back_at = datetime.now(UTC)

    # The alert keeps firing: a new investigation, after the rollback.
    as_of = datetime.now(UTC) + timedelta(seconds=1)
    rows = cluster.workload(as_of).data["revisions"]
    assert isinstance(rows, list) and isinstance(rows[-1], dict)
    assert [(r["revision"], r["replicaset"], r["restores"]) for r in rows] == [
        (1, GOOD, None),
        (2, BAD, None),
        (3, GOOD, 1),
    ]
    assert rows[-1]["became_current_from"] == "event" and rows[-1]["created"] != rows[-1]["became_current"]
    again = cluster.investigate(as_of)
    assert again.revision_age_s is not None
    assert abs(again.revision_age_s - (rolled_back_at - cluster.onset).total_seconds()) < 10
    after = classify(again)  # errors still, but no rollout to blame them on
    assert not any("before the onset" in why for why in after.because), after
    assert after.confidence < verdict.confidence

    for params in ({}, {"to_revision": 2}):  # `rollout undo` and naming the broken revision alike
        flip = request("rollback", TARGET, params=params, incident_id="inc-2")
        record = guarded(cluster, flip)
        assert record.stage == "denied", record.detail
        assert (
            "history.restore: would bring back the template of revision 2, rolled away from by revision 3"
            in (record.detail)
        )
        assert "within the 24h window: no rollback flip-flop" in record.detail
    assert image(cluster) == "shop/checkout:v1"


def test_a_second_action_before_the_first_was_rechecked_asks_people_first(cluster: Cluster) -> None:
    assert guarded(cluster, request("rollback", TARGET, incident_id="inc-1")).stage == "executed"
    restart = request("rollout_restart", TARGET, incident_id="inc-2")
    graph = build_guard_graph(cluster.guard(RESTARTS_ALLOWED), InMemorySaver())
    out = graph.invoke({"action": restart}, {"configurable": {"thread_id": "restart"}})
    record = out["guard"]
    assert record.stage == "awaiting_approval", record.detail  # a rule allows restarts outright
    (why,) = [m.why for m in record.decision.matched if m.rule == "history.followup"]
    assert why.startswith(f"rollback executed on {TARGET} at ")
    assert why.endswith("; its symptom was not re-checked: another action on it needs a fresh approval")
