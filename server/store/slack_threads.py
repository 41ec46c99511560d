"""Which Slack message shows which incident, and which incident changed since its message was drawn.

A thread is claimed (a row without `ts`) before its parent message is posted, so two replicas never
post two parents for one incident; a failed post releases the claim. Refreshes are taken with a
compare-and-set on `synced_at`, so replicas do not redraw the same change twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Engine, RowMapping, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from server.store.engine import utc
from server.store.incidents import record_of
from server.store.models import IncidentRecord
from server.store.schema import incidents, slack_threads

Clock = Callable[[], datetime]
NO_ROUTE = ""  # the channel of an alert incident that no route posts
CLAIM_S = 60  # a claim not followed by a post within this long was abandoned


def _now() -> datetime:
    return datetime.now(UTC)


class SlackThread(BaseModel):
    incident_id: str
    channel: str
    ts: str | None
    synced_at: datetime | None = None
    shown: str | None = None
    chart_file: str | None = None


class SlackThreads:
    def __init__(self, engine: Engine, clock: Clock = _now) -> None:
        self.engine = engine
        self.clock = clock

    def claim(self, incident_id: str, channel: str) -> bool:
        """Reserve the incident's thread in `channel`; False when it already has one (or a live claim)."""
        if self._insert(incident_id, channel):
            return True
        abandoned = self.clock() - timedelta(seconds=CLAIM_S)
        with self.engine.begin() as conn:
            # a claim whose replica died before posting, or an alert no route took, is free again
            freed = conn.execute(
                delete(slack_threads).where(
                    slack_threads.c.incident_id == incident_id,
                    slack_threads.c.ts.is_(None),
                    or_(slack_threads.c.channel == NO_ROUTE, slack_threads.c.claimed_at < abandoned),
                )
            )
        return freed.rowcount == 1 and self._insert(incident_id, channel)

    def _insert(self, incident_id: str, channel: str) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(slack_threads).values(
                        incident_id=incident_id, channel=channel, ts=None, claimed_at=self.clock()
                    )
                )
        except IntegrityError:
            return False
        return True

    def no_route(self, incident_id: str) -> None:
        """An alert incident no channel route takes: not looked at again (`/medic triage` may still post it)."""
        self._insert(incident_id, NO_ROUTE)

    def posted(self, incident_id: str, ts: str, shown: str, synced_at: datetime) -> None:
        """The parent message is `ts`, drawn from the incident as of `synced_at` (its updated_at)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(slack_threads)
                .where(slack_threads.c.incident_id == incident_id)
                .values(ts=ts, shown=shown, synced_at=synced_at)
            )

    def release(self, incident_id: str) -> None:
        """The parent message could not be posted: let a later attempt claim the thread again."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(slack_threads).where(
                    slack_threads.c.incident_id == incident_id, slack_threads.c.ts.is_(None)
                )
            )

    def of(self, incident_id: str) -> SlackThread | None:
        """The incident's thread, if it was posted (or is being posted)."""
        return self._one(
            and_(slack_threads.c.incident_id == incident_id, slack_threads.c.channel != NO_ROUTE)
        )

    def at(self, channel: str, ts: str) -> SlackThread | None:
        """The thread whose parent message is `ts` in `channel`."""
        return self._one(and_(slack_threads.c.channel == channel, slack_threads.c.ts == ts))

    def latest_in(self, channel: str) -> SlackThread | None:
        query = (
            select(slack_threads)
            .where(slack_threads.c.channel == channel, slack_threads.c.ts.is_not(None))
            .order_by(slack_threads.c.claimed_at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _thread(row._mapping) if row is not None else None

    def _one(self, where: ColumnElement[bool]) -> SlackThread | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(slack_threads).where(where)).first()
        return _thread(row._mapping) if row is not None else None

    # -- refreshing ----------------------------------------------------------------------------------
    def due(self, limit: int = 20) -> list[tuple[SlackThread, IncidentRecord]]:
        """Posted threads whose incident changed since their message was drawn, oldest change first."""
        query = (
            select(slack_threads, incidents)
            .join(incidents, incidents.c.id == slack_threads.c.incident_id)
            .where(
                slack_threads.c.ts.is_not(None),
                or_(slack_threads.c.synced_at.is_(None), incidents.c.updated_at > slack_threads.c.synced_at),
            )
            .order_by(incidents.c.updated_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        return [(_thread(row._mapping), record_of(row)) for row in rows]

    def take(self, thread: SlackThread, seen: datetime) -> bool:
        """Claim the redraw of the incident as of `seen` (its updated_at); False when another replica
        took it first."""
        was = slack_threads.c.synced_at
        unchanged = was.is_(None) if thread.synced_at is None else was == thread.synced_at
        with self.engine.begin() as conn:
            result = conn.execute(
                update(slack_threads)
                .where(slack_threads.c.incident_id == thread.incident_id, unchanged)
                .values(synced_at=seen)
            )
        return result.rowcount == 1

    def give_back(self, thread: SlackThread) -> None:
        """The redraw failed (Slack did not answer): the next pass tries again."""
        with self.engine.begin() as conn:
            conn.execute(
                update(slack_threads)
                .where(slack_threads.c.incident_id == thread.incident_id)
                .values(synced_at=thread.synced_at)
            )

    def shown_now(self, incident_id: str, shown: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(slack_threads).where(slack_threads.c.incident_id == incident_id).values(shown=shown)
            )

    def chart_uploaded(self, incident_id: str, file_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(slack_threads)
                .where(slack_threads.c.incident_id == incident_id)
                .values(chart_file=file_id)
            )

    # -- alert incidents without a thread ------------------------------------------------------------
    def unposted_alerts(self, since: datetime, limit: int = 20) -> list[IncidentRecord]:
        """Alert incidents with no thread yet: opened since `since`, or waiting for an approver."""
        query = (
            select(incidents)
            .outerjoin(slack_threads, slack_threads.c.incident_id == incidents.c.id)
            .where(
                slack_threads.c.incident_id.is_(None),
                incidents.c.source == "alert",
                or_(incidents.c.created_at >= since, incidents.c.state == "awaiting_approval"),
            )
            .order_by(incidents.c.created_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [record_of(row) for row in conn.execute(query)]


def _thread(mapping: RowMapping) -> SlackThread:
    return SlackThread(
        incident_id=mapping["incident_id"],
        channel=mapping["channel"],
        ts=mapping["ts"],
        synced_at=utc(mapping["synced_at"]),
        shown=mapping["shown"],
        chart_file=mapping["chart_file"],
    )
