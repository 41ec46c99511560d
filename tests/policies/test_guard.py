"""The guard end to end against the Kubernetes emulator: one test per safety invariant (DESIGN §3.4)."""

from __future__ import annotations

import json
from datetime import timedelta

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from policies.approvals import Approval
from policies.guard_graph import build_guard_graph
from policies.loader import load_default_policy, parse_policy
from policies.model import Policy
from tests.evals.sandbox.kube_world import NS
from tests.policies.factories import INJECTIONS, request
from tests.policies.guard_fixtures import ENFORCE, World, clock, enforce_policy
from tools.action_request import ActionRequest

ROLLBACK = request("rollback", f"{NS}/deployment/checkout", requested_by="agent:rules", evidence=["ev-1"])


def approve(
    action: ActionRequest, approver: str = "alice", roles: tuple[str, ...] = ("sre",), **extra: object
) -> dict:
    now = clock()
    data = {
        "approver": approver,
        "roles": list(roles),
        "action": action.exact().model_dump(mode="json"),
        "approved_at": (now - timedelta(seconds=1)).isoformat(),
        "expires_at": (now + timedelta(minutes=10)).isoformat(),
        "channel": "cli",
    }
    data.update(extra)
    return Approval.model_validate(data).model_dump(mode="json")


def cluster_dump(world: World) -> str:
    parts = [
        world.apps.list_deployment_for_all_namespaces(),
        world.apps.list_replica_set_for_all_namespaces(),
        world.core.list_pod_for_all_namespaces(),
        world.core.list_node(),
    ]
    return json.dumps([world.api.sanitize_for_serialization(p)["items"] for p in parts], sort_keys=True)


def image(world: World) -> str:
    return world.apps.read_namespaced_deployment("checkout", NS).spec.template.spec.containers[0].image


def run(world: World, policy: Policy, action: ActionRequest, thread: str = "t") -> tuple[object, dict]:
    graph = build_guard_graph(world.guard(policy), InMemorySaver())
    config = {"configurable": {"thread_id": thread}}
    return graph, graph.invoke({"action": action}, config)


def test_default_policy_only_dry_runs(world: World) -> None:
    before = cluster_dump(world)
    _, out = run(world, load_default_policy(), ROLLBACK)
    record = out["guard"]
    assert record.stage == "dry_run_only"
    assert record.changes == ["container server image: shop/checkout:v2 → shop/checkout:v1"]
    assert record.kubectl == "kubectl -n shop rollout undo deployment/checkout"
    assert cluster_dump(world) == before
    kinds = [r.kind for r in world.audit().show(action_id=ROLLBACK.action_id)]
    assert kinds == ["proposal", "decision", "dry_run"]


def test_approved_action_executes_once_and_verifies(world: World) -> None:
    graph, out = run(world, enforce_policy(), ROLLBACK)
    (pause,) = out["__interrupt__"]
    payload = pause.value
    assert payload["action_id"] == ROLLBACK.action_id
    assert payload["changes"] == ["container server image: shop/checkout:v2 → shop/checkout:v1"]
    assert payload["decision"]["outcome"] == "require_approval"
    assert payload["evidence"] == ["ev-1"]
    assert image(world) == "shop/checkout:v2", "nothing is sent before the approval"
    out = graph.invoke(Command(resume=[approve(ROLLBACK)]), {"configurable": {"thread_id": "t"}})
    record = out["guard"]
    assert (record.stage, record.executed, record.verified) == ("executed", True, True)
    assert image(world) == "shop/checkout:v1"
    kinds = [r.kind for r in world.audit().show(action_id=ROLLBACK.action_id)]
    assert kinds == [
        "proposal",
        "decision",
        "dry_run",
        "approval",
        "decision",
        "dry_run",  # again at execution: the change must still be the one approved
        "execution",
        "execution",
        "verification",
    ]
    assert world.audit().verify().ok


def test_invariant_2_no_real_request_without_approval(world: World) -> None:
    graph, _ = run(world, enforce_policy(), ROLLBACK)
    before = cluster_dump(world)
    out = graph.invoke(Command(resume=[]), {"configurable": {"thread_id": "t"}})
    assert out["guard"].stage == "not_approved"
    assert cluster_dump(world) == before


def test_invariant_2_policy_is_evaluated_again_at_execution(world: World) -> None:
    """The approval came in, but meanwhile the policy was tightened: the new policy decides."""
    graph, _ = run(world, enforce_policy(), ROLLBACK)
    frozen = parse_policy(
        ENFORCE.replace("mode: enforce", "mode: enforce\nprotected_namespaces: [shop]"), "p"
    )
    resumed = build_guard_graph(world.guard(frozen), graph.checkpointer)  # type: ignore[attr-defined]
    out = resumed.invoke(Command(resume=[approve(ROLLBACK)]), {"configurable": {"thread_id": "t"}})
    assert out["guard"].stage == "not_approved"
    assert "protected" in out["guard"].detail
    assert image(world) == "shop/checkout:v2"


def test_invariant_3_a_failing_dry_run_stops_the_action(world: World) -> None:
    ghost = request("rollout_restart", f"{NS}/deployment/ghost")
    before = cluster_dump(world)
    _, out = run(world, enforce_policy(), ghost)
    assert "__interrupt__" not in out, "no approval is asked for an action whose dry-run failed"
    assert out["guard"].stage == "dry_run_failed"
    assert "does not exist" in out["guard"].detail
    missing = request("scale", f"{NS}/deployment/ghost", params={"replicas": 3})
    _, out = run(world, enforce_policy(), missing, thread="t2")
    assert out["guard"].stage in ("dry_run_failed", "denied")
    # No revision 9: what the rollback would bring back is unknown, so the history rule stops it first.
    bad = request("rollback", f"{NS}/deployment/checkout", params={"to_revision": 9})
    _, out = run(world, enforce_policy(), bad, thread="t3")
    assert out["guard"].stage == "denied" and "history.restore" in out["guard"].detail
    assert cluster_dump(world) == before


def test_invariant_4_approvals_must_name_the_action_be_current_and_qualified(world: World) -> None:
    other = request("rollback", f"{NS}/deployment/checkout", params={"to_revision": 1})
    now = clock()
    not_counted = [
        approve(other),  # names another action (other params)
        approve(ROLLBACK, approver="agent:rules"),  # the requester approving their own action
        approve(ROLLBACK, roles=("developer",)),  # no approver role
        approve(
            ROLLBACK,
            approved_at=(now - timedelta(hours=2)).isoformat(),
            expires_at=(now - timedelta(hours=1)).isoformat(),
        ),  # expired
    ]
    graph, _ = run(world, enforce_policy(), ROLLBACK)
    out = graph.invoke(Command(resume=not_counted), {"configurable": {"thread_id": "t"}})
    assert out["guard"].stage == "not_approved"
    assert image(world) == "shop/checkout:v2"
    rejected = " ".join(r.why for s in out["guard"].decision.approvals for r in s.rejected)
    for reason in ("another action", "own action", "approver role", "expired"):
        assert reason in rejected


def test_invariant_5_world_text_cannot_widen_what_is_allowed(world: World) -> None:
    protected = request("rollout_restart", "kube-system/deployment/coredns")
    _, clean = run(world, enforce_policy(), protected)
    for i, text in enumerate(INJECTIONS):
        injected = request(
            "rollout_restart", "kube-system/deployment/coredns", reason=text, evidence=[text[:60]]
        )
        _, out = run(world, enforce_policy(), injected, thread=f"i{i}")
        assert out["guard"].stage == clean["guard"].stage == "denied"
        assert out["guard"].decision.matched == clean["guard"].decision.matched


def test_invariant_6_the_default_policy_is_safe(world: World) -> None:
    policy = load_default_policy()
    assert policy.mode == "dry_run"
    for action, why in [
        (request("rollout_restart", "kube-system/deployment/coredns"), "protected"),
        (request("scale", f"{NS}/deployment/checkout", params={"replicas": 5}), "×2"),
    ]:
        _, out = run(world, policy, action, thread=action.kind)
        assert out["guard"].stage == "denied", out["guard"].detail
        assert why in out["guard"].detail
    _, out = run(world, policy, request("scale", f"{NS}/deployment/checkout", params={"replicas": 4}), "ok")
    assert out["guard"].stage == "dry_run_only"


def test_invariant_7_a_resumed_thread_never_executes_twice(world: World) -> None:
    graph, _ = run(world, enforce_policy(), ROLLBACK)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke(Command(resume=[approve(ROLLBACK)]), config)
    revisions_after_first = len(world.apps.list_namespaced_replica_set(NS).items)
    # Replay the execute step from its checkpoint, as a resumed process would.
    history = list(graph.get_state_history(config))
    before_execute = next(s for s in history if s.next == ("guard_execute",))
    graph.invoke(None, before_execute.config)
    executions = [r for r in world.audit().show(action_id=ROLLBACK.action_id) if r.kind == "execution"]
    assert [r.payload["phase"] for r in executions] == ["sending", "done"]
    assert len(world.apps.list_namespaced_replica_set(NS).items) == revisions_after_first


def test_invariant_9_no_rollback_flip_flop_whoever_rolled_back_first(world: World) -> None:
    """A person rolls checkout back from v2 to v1 (`kubectl rollout undo`); medic's undo would go back."""
    old = world.apps.read_namespaced_replica_set("checkout-aaa111", NS).spec.template
    template = world.api.sanitize_for_serialization(old)
    del template["metadata"]["labels"]["pod-template-hash"]
    undo = [{"op": "replace", "path": "/spec/template", "value": template}]
    world.apps.patch_namespaced_deployment("checkout", NS, undo)
    _, out = run(world, enforce_policy(), ROLLBACK)
    assert out["guard"].stage == "denied" and "no rollback flip-flop" in out["guard"].detail
    assert image(world) == "shop/checkout:v1"


def test_an_approver_answers_the_exact_action_of_the_interrupt(world: World) -> None:
    from policies.approver import Approver

    graph, out = run(world, enforce_policy(), ROLLBACK)
    payload = out["__interrupt__"][0].value
    approval = Approver(identity="bob", roles=["sre"], channel="slack").answer(
        payload, approve=True, now=clock()
    )
    assert approval.action_id == ROLLBACK.action_id
    final = graph.invoke(
        Command(resume=[approval.model_dump(mode="json")]), {"configurable": {"thread_id": "t"}}
    )
    assert final["guard"].executed
    refusal = Approver(identity="bob", roles=["sre"]).answer(payload, approve=False, now=clock())
    assert refusal.verdict == "reject"


def test_a_target_that_changed_after_the_approved_dry_run_is_not_touched(world: World) -> None:
    """Approved: 'roll back to v1'. Meanwhile someone deploys v3: 'the previous revision' is now v2."""
    graph, _ = run(world, enforce_policy(), ROLLBACK)
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "server", "image": "shop/checkout:v3"}]}}}
    }
    world.apps.patch_namespaced_deployment("checkout", NS, patch)
    out = graph.invoke(Command(resume=[approve(ROLLBACK)]), {"configurable": {"thread_id": "t"}})
    assert out["guard"].stage == "changed" and not out["guard"].executed
    assert "v3 → shop/checkout:v2" in out["guard"].detail
    assert image(world) == "shop/checkout:v3"


def test_only_one_of_two_concurrent_resumes_sends_the_action(world: World) -> None:
    """Two replicas run the execute step of the same approved action at once (each with its own guard
    and connection to the audit log): the store lets exactly one claim the action id and send it."""
    import threading

    from policies.guard_record import parse_approvals

    checked = world.guard(enforce_policy()).check({"action": ROLLBACK})["guard"]
    state = {"guard": checked, "approvals": parse_approvals([approve(ROLLBACK)])}
    results: list[object] = []
    barrier = threading.Barrier(2)

    def replica() -> None:
        guard = world.guard(enforce_policy())
        barrier.wait()
        results.append(guard.execute(state)["guard"])  # type: ignore[arg-type]

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    sends = [r for r in world.audit().show() if r.kind == "execution" and r.payload.get("phase") == "sending"]
    assert len(sends) == 1, "exactly one replica claimed the action id"
    sent = [r for r in results if r.executed and "not sent again" not in r.detail]  # type: ignore[attr-defined]
    assert len(sent) == 1
    assert image(world) == "shop/checkout:v1"


def test_a_resume_after_an_unconfirmed_send_is_in_doubt_and_sends_nothing(world: World) -> None:
    graph, _ = run(world, enforce_policy(), ROLLBACK)
    world.audit().append(
        "execution",
        action_id=ROLLBACK.action_id,
        actor="medic",
        channel="guard",
        payload={"phase": "sending"},
    )  # a process died right after claiming
    out = graph.invoke(Command(resume=[approve(ROLLBACK)]), {"configurable": {"thread_id": "t"}})
    assert out["guard"].stage == "in_doubt" and not out["guard"].executed
    assert image(world) == "shop/checkout:v2"
