"""The history rules of `evaluate` (DESIGN §3.4 invariant 9): no action brings back a template rolled
away from within the window, whoever rolled it away; a second action on a target whose first one was
not seen to fix its symptom needs a fresh approval."""

from __future__ import annotations

from datetime import timedelta

import pytest

from policies.evaluate import evaluate
from policies.target_state import RecentAction, TargetState
from tests.policies.factories import NOW, approval, history, policy, request, state

ALLOW_ALL = [{"name": "all", "kinds": ["*"], "effect": "allow"}]
ROLLBACK = request("rollback", params={"to_revision": 2})
TARGET = ROLLBACK.target


def flip_flop(rolled_back_ago: timedelta | None, **fields: object) -> TargetState:
    """v1 for days, v2 (bad) 2 h ago, a rollback to v1 `rolled_back_ago`; the action brings back v2."""
    revisions = history(("v1", timedelta(days=3)), ("v2", timedelta(hours=2)), ("v1", rolled_back_ago))
    return state(revisions=revisions, action_template="v2", **fields)  # type: ignore[arg-type]


def decide(req: object, st: TargetState, **policy_fields: object) -> tuple[str, list[str]]:
    fields = {"rules": ALLOW_ALL, **policy_fields}
    decision = evaluate(req, policy(**fields), st, [], NOW)  # type: ignore[arg-type]
    return decision.outcome, decision.reasons


def test_rolling_back_to_a_template_rolled_away_from_is_denied_with_the_reason() -> None:
    outcome, reasons = decide(ROLLBACK, flip_flop(timedelta(minutes=30)))
    assert outcome == "deny"
    assert reasons == [
        "history.restore: would bring back the template of revision 2, rolled away from by revision 3 "
        "at 2026-03-02 13:30:00Z, within the 24h window: no rollback flip-flop"
    ]


def test_an_ordinary_rollback_after_a_bad_deploy_is_allowed() -> None:
    assert decide(ROLLBACK.model_copy(update={"params": {}}), state())[0] == "allow"


@pytest.mark.parametrize(
    ("ago", "window", "expected"),
    [
        (timedelta(hours=24), None, "allow"),  # exactly the window ago: outside it
        (timedelta(hours=24) - timedelta(seconds=1), None, "deny"),
        (timedelta(hours=2), "2h", "allow"),
        (timedelta(hours=2) - timedelta(seconds=1), "2h", "deny"),
        (timedelta(minutes=-5), None, "deny"),  # clock skew: a future roll-away counts as recent
    ],
)
def test_the_window_boundary(ago: timedelta, window: str | None, expected: str) -> None:
    extra = {} if window is None else {"history": {"window": window}}
    revisions = history(("v1", timedelta(days=30)), ("v2", timedelta(days=29)), ("v1", ago))
    assert decide(ROLLBACK, state(revisions=revisions, action_template="v2"), **extra)[0] == expected


def test_an_unknown_roll_away_time_is_bounded_by_its_neighbours_or_denied() -> None:
    # Revision 3's own time expired, but revision 4 (created 2 days ago) came after it: long ago.
    old = history(("v1", None), ("v2", timedelta(days=3)), ("v1", None), ("v3", timedelta(days=2)))
    assert decide(ROLLBACK, state(revisions=old, action_template="v2"))[0] == "allow"
    # Revision 2 became current an hour ago, so the roll-away after it was within the hour.
    recent = history(("v1", None), ("v2", timedelta(hours=1)), ("v1", None))
    outcome, reasons = decide(ROLLBACK, state(revisions=recent, action_template="v2"))
    assert outcome == "deny" and "after 2026-03-02 13:00:00Z, within the 24h window" in reasons[0]
    # Nothing bounds it: cannot tell, so no.
    unknown = history(("v1", None), ("v2", timedelta(days=3)), ("v1", None))
    outcome, reasons = decide(ROLLBACK, state(revisions=unknown, action_template="v2"))
    assert outcome == "deny" and "at an unknown time" in reasons[0]


@pytest.mark.parametrize(
    "st",
    [state(revisions=None), state(action_template=None)],
    ids=["no rollout history", "no target template"],
)
def test_missing_history_facts_deny_rollbacks_only(st: TargetState) -> None:
    outcome, reasons = decide(ROLLBACK, st)
    assert outcome == "deny" and reasons[0].startswith("history.restore: target state lacks")
    assert decide(request("rollout_restart"), st)[0] == "allow"


def test_only_templates_left_by_a_rollback_count() -> None:
    # v1 → v2 → v3 (two rollouts, no rollback): going back to v2 restores nothing rolled away from.
    rollouts = history(("v1", timedelta(days=3)), ("v2", timedelta(hours=2)), ("v3", timedelta(hours=1)))
    assert decide(ROLLBACK, state(revisions=rollouts, action_template="v2"))[0] == "allow"
    # Re-stamped by restarts (same template digest): v2 was still rolled away from at revision 4.
    restarted = history(
        ("v1", timedelta(days=3)), ("v2", timedelta(hours=3)), ("v2", timedelta(hours=2)), ("v1", timedelta(hours=1))
    )  # fmt: skip
    assert decide(ROLLBACK, state(revisions=restarted, action_template="v2"))[0] == "deny"


def executed(
    ago: timedelta, recovered: bool | None = None, applied: bool | None = True, **kw: str
) -> RecentAction:
    fields = {"action_id": "act-1", "kind": "rollback", "target": TARGET, "at": NOW - ago}
    return RecentAction.model_validate({**fields, "recovered": recovered, "applied": applied, **kw})


def test_a_second_action_before_the_first_was_rechecked_needs_a_fresh_approval() -> None:
    restart = request("rollout_restart")
    st = state(recent=[executed(timedelta(minutes=20))])
    decision = evaluate(restart, policy(rules=ALLOW_ALL), st, [], NOW)
    assert decision.outcome == "require_approval"
    assert decision.reasons == [
        "history.followup: rollback executed on boutique/deployment/checkoutservice at 2026-03-02 13:40:00Z; "
        "its symptom was not re-checked: another action on it needs a fresh approval"
    ]
    assert [s.source for s in decision.approvals] == ["history.followup"]
    before = approval(restart, at=NOW - timedelta(minutes=25))  # given before the rollback executed
    after = approval(restart, at=NOW - timedelta(minutes=5))
    stale = evaluate(restart, policy(rules=ALLOW_ALL), st, [before], NOW)
    assert stale.outcome == "require_approval"
    assert "given before the earlier action" in stale.approvals[0].rejected[0].why
    assert evaluate(restart, policy(rules=ALLOW_ALL), st, [before, after], NOW).outcome == "allow"


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        (executed(timedelta(minutes=20), recovered=True), "allow"),  # its symptom receded
        (executed(timedelta(minutes=20), recovered=False), "require_approval"),  # re-checked: still there
        (executed(timedelta(minutes=20), applied=None), "require_approval"),  # no answer: may have applied
        (executed(timedelta(minutes=20), applied=False), "allow"),  # refused: it changed nothing
        (executed(timedelta(hours=24)), "allow"),  # outside the window
        (executed(timedelta(minutes=20), target="boutique/deployment/frontend"), "allow"),
    ],
)
def test_which_earlier_actions_make_a_follow_up(earlier: RecentAction, expected: str) -> None:
    st = state(recent=[earlier])
    assert decide(request("rollout_restart"), st, limits={"per_target": {"max_actions": 9}})[0] == expected


def test_the_follow_up_rule_never_loosens_a_decision() -> None:
    st = state(recent=[executed(timedelta(minutes=20))])
    assert (
        decide(request("rollout_restart"), st, rules=[{"name": "no", "kinds": ["*"], "effect": "deny"}])[0]
        == "deny"
    )
    assert decide(request("rollout_restart"), st, mode="dry_run")[0] == "dry_run_only"
