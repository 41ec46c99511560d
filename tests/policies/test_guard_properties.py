"""Property: over random approval sequences and modes, the guard sends a real request only with an
enforcing policy and a matching, current approval from a qualified approver who is not the requester;
and with one, it does execute. The oracle below is written independently of `evaluate`."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from policies.approvals import Approval
from policies.guard_graph import build_guard_graph
from policies.loader import parse_policy
from tests.evals.sandbox.kube_world import NS
from tests.policies.factories import request
from tests.policies.guard_fixtures import ENFORCE, World, clock

REQUESTER = "agent:rules"
MAX_AGE = timedelta(minutes=30)
_incidents = itertools.count()

approval_specs = st.lists(
    st.fixed_dictionaries(
        {
            "approver": st.sampled_from([REQUESTER, "alice", "bob"]),
            "roles": st.lists(st.sampled_from(["sre", "developer"]), max_size=2, unique=True),
            "names_it": st.booleans(),
            "age_min": st.integers(min_value=0, max_value=90),
            "ttl_min": st.integers(min_value=1, max_value=120),
            "verdict": st.sampled_from(["approve", "approve", "approve", "reject"]),
        }
    ),
    max_size=3,
)


def qualifies(spec: dict) -> bool:
    age, ttl = timedelta(minutes=spec["age_min"]), timedelta(minutes=spec["ttl_min"])
    return (
        spec["verdict"] == "approve"
        and spec["names_it"]
        and spec["approver"] != REQUESTER
        and "sre" in spec["roles"]
        and age < MAX_AGE
        and ttl > age + timedelta(minutes=1)  # still valid, with a margin for the test's own run time
    )


def vetoes(spec: dict) -> bool:
    """A current refusal of this action by a qualified approver, or by the requester withdrawing it."""
    age, ttl = timedelta(minutes=spec["age_min"]), timedelta(minutes=spec["ttl_min"])
    withdrawn = spec["approver"] == REQUESTER
    qualified = "sre" in spec["roles"] and age < MAX_AGE
    current = ttl > age + timedelta(minutes=1)
    return spec["verdict"] == "reject" and spec["names_it"] and current and (withdrawn or qualified)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(specs=approval_specs, enforce=st.booleans())
def test_execution_needs_a_qualifying_approval(world: World, specs: list[dict], enforce: bool) -> None:
    action = request(
        "rollout_restart",
        f"{NS}/deployment/checkout",
        requested_by=REQUESTER,
        incident_id=f"inc-{next(_incidents)}",
    )
    other = request("rollout_restart", f"{NS}/deployment/redis", requested_by=REQUESTER)
    policy = parse_policy(ENFORCE if enforce else ENFORCE.replace("mode: enforce", "mode: dry_run"), "p.yaml")
    # An audit log per example: an earlier example's execution on the same target would otherwise make
    # this one a follow-up, which needs an approval given after it (see test_history.py).
    own = dataclasses.replace(world, audit_path=world.audit_path.with_name(f"{action.incident_id}.db"))
    graph = build_guard_graph(own.guard(policy, verify_within_s=2), InMemorySaver())
    config = {"configurable": {"thread_id": action.action_id}}
    out = graph.invoke({"action": action}, config)
    now = clock()
    approvals = [
        Approval(
            approver=s["approver"],
            roles=s["roles"],
            verdict=s["verdict"],
            action=(action if s["names_it"] else other).exact(),
            approved_at=now - timedelta(minutes=s["age_min"]),
            expires_at=now - timedelta(minutes=s["age_min"]) + timedelta(minutes=s["ttl_min"]),
            channel="api",
        ).model_dump(mode="json")
        for s in specs
    ]
    if out.get("__interrupt__"):
        out = graph.invoke(Command(resume=approvals), config)
    executed = out["guard"].executed
    should = enforce and any(qualifies(s) for s in specs) and not any(vetoes(s) for s in specs)
    assert executed == should, (out["guard"].stage, out["guard"].detail, specs)
