"""The service's memory of past incidents, read from its incident store (`IncidentMemory`).

An investigation's report keeps the incident's signature (`Report.signature`, made at diagnosis time)
and its verdict; the worker stores the report when the incident finishes and a resolved incident
keeps it. Responders' feedback is in `medic_feedback`. So the memory needs no table of its own:
it reads the newest finished or resolved incidents that have a report, with their feedback.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from pydantic import JsonValue, ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from agent.diagnosis import Diagnosis
from agent.incident import Incident
from agent.planners.memory_signature import past_incident
from server.store.engine import utc
from server.store.schema import feedback, incidents
from tools.errors import BackendError
from tools.memory.model import Cause, IncidentSignature, PastFeedback, PastIncident

REMEMBERED_STATES = ("finished", "resolved")


def feedback_of(engine: Engine, incident_ids: list[str]) -> dict[str, list[PastFeedback]]:
    """Every feedback given on these incidents, oldest first, by incident."""
    found: dict[str, list[PastFeedback]] = defaultdict(list)
    if not incident_ids:
        return found
    query = select(feedback).where(feedback.c.incident_id.in_(incident_ids)).order_by(feedback.c.seq)
    with engine.connect() as conn:
        for row in conn.execute(query):
            cause = None
            if row.cause_service:
                cause = Cause(service=row.cause_service, kind=row.cause_kind)
            found[row.incident_id].append(
                PastFeedback(
                    verdict="right" if row.verdict == "right" else "wrong",
                    cause=cause,
                    fixed_by=row.fixed_by or "",
                    notes=row.notes or "",
                    by=row.by,
                    at=utc(row.at),
                )
            )
    return found


def _remembered(incident: Incident, report: dict[str, JsonValue]) -> PastIncident | None:
    """The past incident a stored report describes; None for a report made before signatures."""
    try:
        signature = IncidentSignature.model_validate(report.get("signature"))
        raw = report.get("diagnosis")
        diagnosis = Diagnosis.model_validate(raw) if raw is not None else None
    except ValidationError:
        return None
    return past_incident(incident, str(report.get("verdict") or ""), diagnosis, signature)


class StoreMemory:
    """Past incidents from the incident store, newest first."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def past_incidents(self, *, until: datetime, limit: int) -> list[PastIncident]:
        query = (
            select(incidents.c.id, incidents.c.incident, incidents.c.report)
            .where(incidents.c.state.in_(REMEMBERED_STATES), incidents.c.report.is_not(None))
            .order_by(incidents.c.created_at.desc())
            .limit(limit)
        )
        try:
            with self.engine.connect() as conn:
                rows = [(r.id, r.incident, r.report) for r in conn.execute(query)]
            found = self._read(rows, until)
            given = feedback_of(self.engine, [p.incident_id for p in found])
        except SQLAlchemyError as exc:
            raise BackendError(f"the incident store did not answer: {type(exc).__name__}") from exc
        found = [p.model_copy(update={"feedback": given.get(p.incident_id, [])}) for p in found]
        return sorted(found, key=lambda p: p.at, reverse=True)

    @staticmethod
    def _read(rows: Iterable[tuple[str, JsonValue, JsonValue]], until: datetime) -> list[PastIncident]:
        """Incidents as of `until` or before whose report has a signature (older reports have none)."""
        found: list[PastIncident] = []
        for _id, raw_incident, report in rows:
            incident = Incident.model_validate(raw_incident)
            if incident.as_of > until or not isinstance(report, dict) or not report.get("signature"):
                continue
            past = _remembered(incident, report)
            if past is not None:
                found.append(past)
        return found
