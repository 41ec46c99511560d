"""The incident store: incidents, their timeline, the alerts of their group, approvals and feedback.

Every door (API, Alertmanager, Slack, MCP) and every replica reads and writes incidents here; the
LangGraph checkpointer holds the investigation itself. Methods are small transactions, safe to call
from many threads and processes at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import JsonValue
from sqlalchemy import Engine, Row, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from agent.incident import Incident
from policies.approvals import Approval
from server.store.engine import utc
from server.store.models import AlertNote, EventKind, IncidentRecord, IncidentState, TimelineEntry
from server.store.schema import alerts, approvals, feedback, incidents, timeline

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class NotFound(LookupError):
    """No incident with that id."""


class IncidentStore:
    def __init__(self, engine: Engine, clock: Clock = _now) -> None:
        self.engine = engine
        self.clock = clock

    # -- incidents -------------------------------------------------------------------------------
    def open(
        self, incident: Incident, *, opened_by: str, group_key: str | None = None
    ) -> tuple[IncidentRecord, bool]:
        """Open the incident (queued for investigation), or return the one already open for its id or
        group key. The second value says whether it was created now."""
        existing = self._find(incident.id, group_key)
        if existing is not None:
            return existing, False
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(incidents).values(
                        id=incident.id,
                        title=incident.title,
                        source=incident.source,
                        namespace=incident.namespace,
                        state="queued",
                        group_key=group_key,
                        opened_by=opened_by,
                        incident=incident.model_dump(mode="json"),
                        created_at=now,
                        updated_at=now,
                        work_state="ready",
                        wanted=1,
                        done=0,
                        attempts=0,
                    )
                )
                conn.execute(insert(timeline).values(**_event(incident.id, now, "opened", _opened(incident))))
        except IntegrityError:  # a concurrent request opened it first
            found = self._find(incident.id, group_key)
            if found is None:
                raise
            return found, False
        return self.get(incident.id), True

    def _find(self, incident_id: str, group_key: str | None) -> IncidentRecord | None:
        query = select(incidents).where(incidents.c.id == incident_id)
        if group_key is not None:
            query = select(incidents).where(
                (incidents.c.group_key == group_key) | (incidents.c.id == incident_id)
            )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return record_of(row) if row is not None else None

    def get(self, incident_id: str) -> IncidentRecord:
        found = self._find(incident_id, None)
        if found is None:
            raise NotFound(incident_id)
        return found

    def page(
        self, *, state: IncidentState | None = None, limit: int = 50, before: str | None = None
    ) -> list[IncidentRecord]:
        """Newest first; `before` is the id of the last incident of the previous page."""
        query = select(incidents).order_by(incidents.c.created_at.desc(), incidents.c.id.desc())
        if state is not None:
            query = query.where(incidents.c.state == state)
        if before is not None:
            cursor = self.get(before)
            query = query.where(
                (incidents.c.created_at < cursor.created_at)
                | ((incidents.c.created_at == cursor.created_at) & (incidents.c.id < cursor.id))
            )
        with self.engine.connect() as conn:
            return [record_of(row) for row in conn.execute(query.limit(limit))]

    def set_state(
        self,
        incident_id: str,
        state: IncidentState,
        *,
        report: dict[str, JsonValue] | None = None,
        pending: dict[str, JsonValue] | None = None,
    ) -> None:
        """Move the incident on; a resolved incident stays resolved (its report may still change)."""
        keep_resolved = case((incidents.c.state == "resolved", "resolved"), else_=state)
        values: dict[str, object] = {"state": keep_resolved, "updated_at": self.clock(), "pending": pending}
        if report is not None:
            values["report"] = report
        with self.engine.begin() as conn:
            conn.execute(update(incidents).where(incidents.c.id == incident_id).values(**values))

    def find_group(self, group_key: str) -> IncidentRecord | None:
        """The open incident of an alert group (a resolved one has let its group key go)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(incidents).where(incidents.c.group_key == group_key)).first()
        return record_of(row) if row is not None else None

    def resolve_group(self, incident_id: str) -> None:
        """Every alert resolved: the incident is resolved and its group free for a new episode."""
        with self.engine.begin() as conn:
            conn.execute(
                update(incidents)
                .where(incidents.c.id == incident_id)
                .values(state="resolved", group_key=None, updated_at=self.clock())
            )

    # -- timeline --------------------------------------------------------------------------------
    def add_event(
        self, incident_id: str, kind: EventKind, text: str, data: dict[str, JsonValue] | None = None
    ) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(timeline).values(**_event(incident_id, self.clock(), kind, text, data or {}))
            )
            conn.execute(
                update(incidents).where(incidents.c.id == incident_id).values(updated_at=self.clock())
            )
        return int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0

    def timeline(self, incident_id: str, *, after: int = 0, limit: int = 500) -> list[TimelineEntry]:
        query = (
            select(timeline)
            .where(timeline.c.incident_id == incident_id, timeline.c.seq > after)
            .order_by(timeline.c.seq)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                TimelineEntry(seq=r.seq, at=utc(r.at), kind=r.kind, text=r.text, data=r.data or {})
                for r in conn.execute(query)
            ]

    # -- alerts of the incident's group ------------------------------------------------------------
    def note_alert(
        self,
        incident_id: str,
        fingerprint: str,
        *,
        status: str,
        starts_at: datetime,
        ends_at: datetime | None,
    ) -> AlertNote:
        """Record one alert of a notification. A resolution older than what is known is `stale`."""
        now = self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(alerts).where(alerts.c.incident_id == incident_id, alerts.c.fingerprint == fingerprint)
            ).first()
            if row is None:
                conn.execute(
                    insert(alerts).values(
                        incident_id=incident_id,
                        fingerprint=fingerprint,
                        status=status,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        updated_at=now,
                    )
                )
                return AlertNote(
                    fingerprint=fingerprint, outcome="resolved" if status == "resolved" else "new"
                )
            known_start = utc(row.starts_at)
            if known_start is not None and starts_at < known_start:
                return AlertNote(fingerprint=fingerprint, outcome="stale")  # an older episode, out of order
            conn.execute(
                update(alerts)
                .where(alerts.c.incident_id == incident_id, alerts.c.fingerprint == fingerprint)
                .values(status=status, starts_at=starts_at, ends_at=ends_at, updated_at=now)
            )
        return AlertNote(fingerprint=fingerprint, outcome="resolved" if status == "resolved" else "repeat")

    def firing_alerts(self, incident_id: str) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(alerts)
                .where(alerts.c.incident_id == incident_id, alerts.c.status == "firing")
            ).scalar_one()
        return int(count)

    # -- approvals and feedback --------------------------------------------------------------------
    def add_approval(self, incident_id: str, approval: Approval) -> bool:
        """Keep one answer per person and action; False when this person already answered."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(approvals).values(
                        incident_id=incident_id,
                        action_id=approval.action_id,
                        approver=approval.approver.strip().casefold(),
                        approval=approval.model_dump(mode="json"),
                        consumed=0,
                    )
                )
        except IntegrityError:
            return False
        return True

    def approvals_for(self, incident_id: str, action_id: str) -> list[Approval]:
        query = select(approvals.c.approval).where(
            approvals.c.incident_id == incident_id, approvals.c.action_id == action_id
        )
        with self.engine.connect() as conn:
            return [
                Approval.model_validate(r.approval) for r in conn.execute(query.order_by(approvals.c.seq))
            ]

    def add_feedback(
        self,
        incident_id: str,
        *,
        by: str,
        verdict: str,
        true_cause: str | None,
        notes: str,
        cause_service: str | None = None,
        cause_kind: str | None = None,
        fixed_by: str | None = None,
    ) -> None:
        self.get(incident_id)
        with self.engine.begin() as conn:
            conn.execute(
                insert(feedback).values(
                    incident_id=incident_id,
                    at=self.clock(),
                    by=by,
                    verdict=verdict,
                    true_cause=true_cause,
                    notes=notes,
                    cause_service=cause_service,
                    cause_kind=cause_kind,
                    fixed_by=fixed_by,
                )
            )


def _opened(incident: Incident) -> str:
    scope = f" in {incident.namespace}" if incident.namespace else ""
    return (
        f"opened from {'an alert' if incident.source == 'alert' else 'a question'}{scope}: {incident.title}"
    )


def _event(
    incident_id: str, at: datetime, kind: EventKind, text: str, data: dict[str, JsonValue] | None = None
) -> dict[str, object]:
    return {"incident_id": incident_id, "at": at, "kind": kind, "text": text[:4000], "data": data or {}}


def record_of(row: Row[tuple[object, ...]]) -> IncidentRecord:
    """An incident row (or a joined row that holds its columns) as the API shows it."""
    m = row._mapping
    return IncidentRecord(
        id=m["id"],
        title=m["title"],
        source=m["source"],
        namespace=m["namespace"],
        state=m["state"],
        opened_by=m["opened_by"],
        created_at=utc(m["created_at"]),
        updated_at=utc(m["updated_at"]),
        incident=Incident.model_validate(m["incident"]),
        report=m["report"],
        pending=m["pending"],
    )
