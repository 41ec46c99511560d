"""Actions proposed through a door (MCP), on their way to the guard of their incident's thread.

A door never runs the guard itself: it queues the action here and asks for work, and whichever
worker claims the incident hands the action to the guard in the runbook's place (check, dry-run,
then the approval pause). Only an incident at rest (`finished`) takes a proposal, and taking it moves
the incident back to `queued` in the same transaction, so two proposals never race for one thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from policies.model import ApprovalRequirement
from server.store.queue import idle_to_ready
from server.store.schema import incidents, proposals
from tools.action_request import ActionRequest

# What a door's proposal waits for where the policy would allow it outright: one person holding the
# approver role (the API's and Slack's approvers) who is not the proposer. A door proposes; people decide.
DOOR_APPROVAL = ApprovalRequirement(roles=["approver"], min_approvers=1, allow_self_approval=False)


class Busy(Exception):
    """The incident cannot take a proposal now; the message says why and what to do."""


def _now() -> datetime:
    return datetime.now(UTC)


class ProposalStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _now) -> None:
        self.engine = engine
        self.clock = clock

    def submit(self, request: ActionRequest) -> None:
        """Queue `request` for its incident's guard and ask for work; Busy unless the incident rests."""
        now = self.clock()
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(incidents)
                .where(incidents.c.id == request.incident_id, incidents.c.state == "finished")
                .values(
                    state="queued",
                    updated_at=now,
                    wanted=incidents.c.wanted + 1,
                    work_state=idle_to_ready(),
                )
            )
            if moved.rowcount != 1:
                state = conn.execute(
                    select(incidents.c.state).where(incidents.c.id == request.incident_id)
                ).scalar_one_or_none()
                raise Busy(_why_busy(request.incident_id, state))
            conn.execute(
                insert(proposals).values(
                    incident_id=request.incident_id,
                    action_id=request.action_id,
                    action=request.model_dump(mode="json"),
                    proposed_at=now,
                    taken=0,
                )
            )

    def take(self, incident_id: str) -> ActionRequest | None:
        """The oldest proposal not yet handed to the guard, now marked taken; None when there is none."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(proposals.c.seq, proposals.c.action)
                .where(proposals.c.incident_id == incident_id, proposals.c.taken == 0)
                .order_by(proposals.c.seq)
                .limit(1)
            ).first()
            if row is None:
                return None
            won = conn.execute(
                update(proposals).where(proposals.c.seq == row.seq, proposals.c.taken == 0).values(taken=1)
            )
            if won.rowcount != 1:
                return None
        return ActionRequest.model_validate(row.action)

    def taken(self, incident_id: str, action_id: str) -> bool:
        """Whether a worker has handed this action to the guard."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(proposals.c.seq).where(
                    proposals.c.incident_id == incident_id,
                    proposals.c.action_id == action_id,
                    proposals.c.taken == 1,
                )
            ).first()
        return found is not None


def _why_busy(incident_id: str, state: str | None) -> str:
    if state is None:
        return f"no incident {incident_id!r}"
    if state in ("queued", "investigating"):
        return f"incident {incident_id} is {state}: propose once it rests (get_incident shows its state)"
    if state == "awaiting_approval":
        return (
            f"incident {incident_id} already waits for an approval: an approver answers it first "
            "(get_incident shows the pending action)"
        )
    if state == "resolved":
        return f"incident {incident_id} is resolved: its alerts stopped firing; open a new incident"
    return f"incident {incident_id} is {state}: it takes no proposal; open a new incident"
