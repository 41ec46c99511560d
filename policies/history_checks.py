"""The policy's history rules (DESIGN §3.4 invariant 9), as pure checks over the target state.

- `history.restore`: no action brings back a pod template that was rolled away from within the
  window: no rollback flip-flop, whoever made the first rollback (the cluster's rollout history says,
  not medic's audit log). A rollback whose history or target template is unknown is denied.
- `history.followup`: a second action on a target whose earlier one (from the audit log) was not seen
  to fix its symptom needs a fresh approval (given after that earlier action was sent), even where a
  rule allows it; the decision names the earlier action.

"Rolled away from" means left by a rollback: revision N+1 brought back the template of a revision
before N, so N's template was rolled away from when N+1 became current. A normal rollout that
replaces a template does not count, or no rollback could ever undo a bad deploy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from policies.approvals import Approval, tally
from policies.decision import ApprovalStatus, RejectedApproval, RuleMatch
from policies.model import ApprovalRequirement, History
from policies.target_state import Revision, TargetState
from tools.action_request import ActionRequest

# Kinds that can bring back an earlier template: a restart re-stamps the running one (the same state),
# scale, delete_pod and cordon leave templates alone.
RESTORING_KINDS = ("rollback",)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def span(duration: timedelta) -> str:
    """A duration as the policy file writes it: 24h, 30m, 90s, 2d."""
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and (unit != "d" or seconds >= 2 * size):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class RolledAway:
    """Revision `left` was rolled away from when revision `by` (a rollback) became current."""

    template: str
    left: int
    by: int
    at: datetime | None
    not_before: datetime | None  # bounds on `at` when it is unknown: the history's known times
    not_after: datetime | None


def rolled_away(revisions: Sequence[Revision]) -> list[RolledAway]:
    history = sorted(revisions, key=lambda r: r.revision)
    out = []
    for i in range(1, len(history)):
        left, by = history[i - 1], history[i]
        if by.revision != left.revision + 1 or by.template == left.template:
            continue  # a gap (that ReplicaSet is gone, so no rollback can restore it) or no change
        if by.template not in {r.template for r in history[: i - 1]}:
            continue  # a new template: a rollout, not a rollback
        before = [r.became_current for r in history[:i] if r.became_current is not None]
        after = [r.became_current for r in history[i + 1 :] if r.became_current is not None]
        bounds = (max(before, default=None), min(after, default=None))
        out.append(RolledAway(left.template, left.revision, by.revision, by.became_current, *bounds))
    return out


def _within(event: RolledAway, window: timedelta, now: datetime) -> bool | None:
    """Whether the roll-away happened less than `window` before `now`; None: cannot tell."""
    if event.at is not None:
        return now - event.at < window
    if event.not_before is not None and now - event.not_before < window:
        return True
    if event.not_after is not None and now - event.not_after >= window:
        return False
    return None


def restore_check(request: ActionRequest, history: History, state: TargetState, now: datetime) -> RuleMatch:
    rule, window = "history.restore", span(history.window)

    def deny(why: str) -> RuleMatch:
        return RuleMatch(rule=rule, effect="deny", why=why)

    if state.revisions is None:
        return deny("target state lacks the rollout history, needed to tell what the rollback brings back")
    if state.action_template is None:
        return deny("target state lacks the template the rollback would restore")
    for event in rolled_away(state.revisions):
        if event.template != state.action_template:
            continue
        within = _within(event, history.window, now)
        what = (
            f"would bring back the template of revision {event.left}, rolled away from by revision {event.by}"
        )
        moment = event.at or event.not_before
        if within and moment is not None:  # within is only True with a known time or lower bound
            when = f"{'at' if event.at else 'after'} {stamp(moment)}"
            return deny(f"{what} {when}, within the {window} window: no rollback flip-flop")
        if within is None:
            return deny(f"{what} at an unknown time: cannot tell it was more than {window} ago")
    return RuleMatch(
        rule=rule, effect="allow", why=f"brings back no template rolled away from within {window}"
    )


@dataclass(frozen=True)
class Followup:
    """A fresh approval is needed: `match` says why, approvals given up to `after` do not count."""

    match: RuleMatch
    requirement: ApprovalRequirement
    after: datetime

    def status(self, approvals: Sequence[Approval], request: ActionRequest, now: datetime) -> ApprovalStatus:
        fresh = [a for a in approvals if a.verdict == "reject" or a.approved_at > self.after]
        stale = [
            RejectedApproval(
                approver=a.approver, why=f"given before the earlier action at {stamp(self.after)}"
            )
            for a in approvals
            if a not in fresh and a.action_id == request.action_id
        ]
        counted = tally(self.match.rule, self.requirement, fresh, request, now)
        return counted.model_copy(update={"rejected": [*counted.rejected, *stale]})


def followup_check(
    request: ActionRequest, history: History, state: TargetState, now: datetime
) -> Followup | None:
    """The latest earlier action on the same target, within the window, that may have changed it and
    was not seen to fix its symptom; None when there is none (or no audit history: rate limits deny)."""
    earlier = [
        a
        for a in state.recent_actions or []
        if a.target == request.target
        and a.action_id != request.action_id
        and a.applied is not False
        and a.recovered is not True
        and now - a.at < history.window
    ]
    if not earlier:
        return None
    last = max(earlier, key=lambda a: a.at)
    symptom = "had not receded when re-checked" if last.recovered is False else "was not re-checked"
    why = (
        f"{last.kind} executed on {last.target} at {stamp(last.at)}; its symptom {symptom}: "
        "another action on it needs a fresh approval"
    )
    match = RuleMatch(rule="history.followup", effect="require_approval", why=why)
    return Followup(match, history.followup_approval, last.at)
