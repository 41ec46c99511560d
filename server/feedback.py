"""A responder's feedback on an incident: was the verdict right, what was the true cause, what fixed it.

Every door (the HTTP API, Slack, the CLI through the API) sends the same `FeedbackIn`; it is kept in
the incident store (`medic_feedback`), shown on the incident's timeline, and read back by the memory
of past incidents (`server.store.memory`), where a correction is surfaced when a similar incident
returns.
"""

from __future__ import annotations

import re
from typing import get_args

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from agent.diagnosis import FaultKind
from server.auth import Principal
from server.store.incidents import IncidentStore

KINDS: tuple[str, ...] = get_args(FaultKind)
_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,252}$")


class CauseIn(BaseModel):
    """The true cause: a service (or `node/<name>`) and, when known, the fault kind."""

    model_config = ConfigDict(extra="forbid")

    service: str = Field(min_length=1, max_length=253, description="e.g. checkout, or node/worker-2")
    kind: FaultKind | None = Field(None, description="one of medic's fault kinds; omit when none fits")

    @field_validator("service")
    @classmethod
    def _a_name(cls, value: str) -> str:
        if not _SERVICE.match(value):
            raise ValueError("a service name: letters, digits and . _ / -, e.g. checkout or node/worker-2")
        return value

    def text(self) -> str:
        return f"{self.service}:{self.kind}" if self.kind else self.service


class FeedbackIn(BaseModel):
    """What a responder says about an incident's verdict."""

    model_config = ConfigDict(extra="forbid")

    verdict: str = Field(description="right | wrong: was medic's verdict right?")
    cause: CauseIn | None = Field(None, description="the true cause (for a wrong verdict: what it was)")
    true_cause: str | None = Field(
        None, max_length=500, description="the true cause in free text (older clients); prefer `cause`"
    )
    fixed_by: str = Field("", max_length=1000, description="what fixed it, e.g. rolled back checkout")
    notes: str = Field("", max_length=4000)

    @field_validator("verdict")
    @classmethod
    def _right_or_wrong(cls, value: str) -> str:
        if value not in ("right", "wrong"):
            raise ValueError("say `right` or `wrong`: was medic's verdict right?")
        return value


def parse_cause(text: str) -> CauseIn:
    """`SERVICE[:KIND]` as the CLI and Slack take it; ValueError says how to write it."""
    service, _, kind = text.strip().partition(":")
    if kind and kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind[:40]!r}: one of {', '.join(KINDS)}")
    try:
        return CauseIn.model_validate({"service": service, "kind": kind or None})
    except ValueError:
        raise ValueError(f"{text[:80]!r} is not SERVICE[:KIND], e.g. checkout:bad_deploy") from None


def feedback_line(body: FeedbackIn) -> str:
    """e.g. `the verdict was wrong; true cause: payments:memory_leak; fixed by restarted payments`"""
    line = f"the verdict was {body.verdict}"
    if body.cause is not None or body.true_cause:
        line += f"; true cause: {body.cause.text() if body.cause else body.true_cause}"
    if body.fixed_by:
        line += f"; fixed by {body.fixed_by}"
    return line + (f"; notes: {body.notes}" if body.notes else "")


def record_feedback(store: IncidentStore, incident_id: str, body: FeedbackIn, *, by: Principal) -> str:
    """Keep the feedback and put it on the incident's timeline; returns the timeline line."""
    store.add_feedback(
        incident_id,
        by=by.subject,
        verdict=body.verdict,
        true_cause=body.true_cause or (body.cause.text() if body.cause else None),
        notes=body.notes,
        cause_service=body.cause.service if body.cause else None,
        cause_kind=body.cause.kind if body.cause else None,
        fixed_by=body.fixed_by or None,
    )
    line = f"{by.subject}: {feedback_line(body)}"
    data: dict[str, JsonValue] = {"by": by.subject, **body.model_dump(mode="json")}
    store.add_event(incident_id, "feedback", line, data)
    return line
