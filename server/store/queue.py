"""The work queue: which incidents' threads need running, claimed under leases.

Any number of replicas share one PostgreSQL queue. A worker claims a ready incident (or one whose
holder's lease ran out: that replica died) with `FOR UPDATE SKIP LOCKED`, so two replicas never pick
the same row and neither waits for the other; the claim itself is a conditional UPDATE, which keeps
SQLite (one replica, many threads) just as exclusive. While it runs, the worker renews its lease; a
worker that lost its lease must stop. One row per incident: one thread never runs twice at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Engine, and_, case, func, or_, select, update

from server.store.schema import incidents

Clock = Callable[[], datetime]


class Claim(BaseModel):
    incident_id: str
    owner: str
    generation: int  # the requests for work this claim serves (incidents.wanted at claim time)
    attempts: int


def _now() -> datetime:
    return datetime.now(UTC)


class WorkQueue:
    def __init__(self, engine: Engine, clock: Clock = _now) -> None:
        self.engine = engine
        self.clock = clock

    def request(self, incident_id: str) -> None:
        """Ask for the incident's thread to run (again): a new alert, an approval, a restart."""
        with self.engine.begin() as conn:
            conn.execute(
                update(incidents)
                .where(incidents.c.id == incident_id)
                .values(
                    wanted=incidents.c.wanted + 1,
                    work_state=idle_to_ready(),
                )
            )

    def claim(self, owner: str, lease: timedelta) -> Claim | None:
        """The oldest claimable incident, leased to `owner`; None when there is nothing to do."""
        now = self.clock()
        claimable = or_(
            incidents.c.work_state == "ready",
            and_(incidents.c.work_state == "running", incidents.c.lease_until < now),
        )
        pick = (
            select(incidents.c.id, incidents.c.wanted, incidents.c.attempts)
            .where(claimable)
            .order_by(incidents.c.updated_at, incidents.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        with self.engine.begin() as conn:
            row = conn.execute(pick).first()
            if row is None:
                return None
            taken = conn.execute(
                update(incidents)
                .where(incidents.c.id == row.id, claimable)
                .values(
                    work_state="running",
                    lease_owner=owner,
                    lease_until=now + lease,
                    attempts=incidents.c.attempts + 1,
                )
            )
            if taken.rowcount != 1:  # another thread of this process won the row (SQLite)
                return None
        return Claim(incident_id=row.id, owner=owner, generation=row.wanted, attempts=row.attempts + 1)

    def renew(self, claim: Claim, lease: timedelta) -> bool:
        """Extend the lease; False when it was lost (expired and taken over): stop working then."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(incidents)
                .where(
                    incidents.c.id == claim.incident_id,
                    incidents.c.lease_owner == claim.owner,
                    incidents.c.work_state == "running",
                )
                .values(lease_until=self.clock() + lease)
            )
        return result.rowcount == 1

    def finish(self, claim: Claim) -> None:
        """Release the claim: idle, or ready again if more work was requested meanwhile."""
        with self.engine.begin() as conn:
            conn.execute(
                update(incidents)
                .where(incidents.c.id == claim.incident_id, incidents.c.lease_owner == claim.owner)
                .values(
                    done=claim.generation,
                    work_state=_case_more_work(claim.generation),
                    lease_owner=None,
                    lease_until=None,
                    attempts=0,
                )
            )

    def depth(self) -> int:
        """Incidents waiting for a worker."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(incidents).where(incidents.c.work_state == "ready")
                ).scalar_one()
            )


def idle_to_ready() -> ColumnElement[str]:
    """An idle row becomes ready; one running or ready stays so (its `wanted` count carries the request)."""
    return case((incidents.c.work_state == "idle", "ready"), else_=incidents.c.work_state)


def _case_more_work(generation: int) -> ColumnElement[str]:
    return case((incidents.c.wanted > generation, "ready"), else_="idle")
