"""Property, through the whole chain (Kubernetes emulator → rollout history read from ReplicaSets,
events and conditions → template digests → `evaluate` → guard): over random sequences of rollouts and
rollbacks by people and by medic, the guard executes a rollback exactly when it does not bring back an
image that was rolled away from (everything here happens within seconds: inside the 24 h window).
The oracle watches only the Deployment's image, as a person at a terminal would."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes import client
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from evals.sandbox.kube import run_in_thread
from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from policies.guard import Guard
from policies.guard_graph import build_guard_graph
from tests.evals.sandbox.kube_world import NS, small_world
from tests.policies.factories import request
from tests.policies.guard_fixtures import clock, enforce_policy
from tests.policies.test_guard import approve
from tools.actions import Executor
from tools.kube.client import KubernetesReader

TARGET = f"{NS}/deployment/checkout"
_runs = itertools.count()

operations = st.lists(
    st.tuples(st.sampled_from(["rollout", "undo_by_a_person", "rollback_by_medic"]), st.integers(0, 9)),
    min_size=2,
    max_size=5,
)


class Watcher:
    """The oracle: the images the Deployment ran, stint after stint, and those rolled away from."""

    def __init__(self, image: str) -> None:
        self.stints = ["shop/checkout:v1", image]
        self.rolled_away: set[str] = set()

    def saw(self, image: str) -> None:
        current = self.stints[-1]
        if image == current:
            return
        if image in self.stints[:-1]:
            self.rolled_away.add(current)
        self.stints.append(image)


def _revisions(apps: client.AppsV1Api) -> dict[int, str]:
    """Revision number → image, for the ReplicaSets' current numbers (what `--to-revision` can name)."""
    out = {}
    for rs in apps.list_namespaced_replica_set(NS, label_selector="app=checkout").items:
        out[int(rs.metadata.annotations["deployment.kubernetes.io/revision"])] = (
            rs.spec.template.spec.containers[0].image
        )
    return out


def _set_image(apps: client.AppsV1Api, image: str) -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "server", "image": image}]}}}}
    apps.patch_namespaced_deployment("checkout", NS, patch)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=operations)
def test_the_guard_executes_a_rollback_exactly_when_it_brings_back_nothing_rolled_away_from(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, int]]
) -> None:
    run = next(_runs)
    audit_path = tmp_path_factory.mktemp(f"audit{run}") / "audit.db"
    with run_in_thread(small_world()) as running:
        config = client.Configuration()
        config.host = running.url
        api = client.ApiClient(config)
        apps = client.AppsV1Api(api)
        audit = AuditLog(SqliteAuditStore(audit_path), clock)
        guard = Guard(Executor(api), enforce_policy(), audit, clock, kube=KubernetesReader(api, timeout_s=5))
        watcher = Watcher(
            apps.read_namespaced_deployment("checkout", NS).spec.template.spec.containers[0].image
        )
        new_images = itertools.count(3)
        for step, (what, pick) in enumerate(ops):
            revisions = _revisions(apps)
            current = max(revisions)
            earlier = sorted(r for r in revisions if r != current)
            if what == "rollout":
                _set_image(apps, f"shop/checkout:v{next(new_images)}")
            elif what == "undo_by_a_person":
                _set_image(apps, revisions[earlier[pick % len(earlier)]])
            else:
                to = earlier[pick % len(earlier)]
                action = request(
                    "rollback", TARGET, params={"to_revision": to}, incident_id=f"inc-{run}-{step}"
                )
                graph = build_guard_graph(guard, InMemorySaver())
                thread = {"configurable": {"thread_id": action.action_id}}
                out = graph.invoke({"action": action}, thread)
                if out.get("__interrupt__"):  # a fresh approval: given after any earlier action
                    fresh_approval = approve(action, approved_at=clock().isoformat())
                    out = graph.invoke(Command(resume=[fresh_approval]), thread)
                record = out["guard"]
                flip_flop = revisions[to] in watcher.rolled_away
                assert record.executed == (not flip_flop), (record.stage, record.detail, ops)
                if flip_flop:
                    assert "history.restore" in record.detail and "no rollback flip-flop" in record.detail
            watcher.saw(
                apps.read_namespaced_deployment("checkout", NS).spec.template.spec.containers[0].image
            )
        api.close()
