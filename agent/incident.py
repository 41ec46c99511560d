"""Intake: an Alertmanager alert or a free-text question becomes an `Incident` with its `as_of`.

The incident id is the LangGraph thread id, so it must be stable for the same alert (Alertmanager
re-sends firing alerts; a re-delivery must resume the same investigation, not start a second one).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SERVICE_LABELS = ("service", "service_name", "app", "job", "deployment", "container")


class Incident(BaseModel):
    """What is being investigated, and the instant every tool queries relative to (DESIGN §3.2)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
    as_of: AwareDatetime
    source: Literal["alert", "question"]
    title: str = Field(max_length=500)
    namespace: str | None = None
    services: list[str] = Field(default_factory=list, description="services the alert or question names")
    labels: dict[str, str] = Field(default_factory=dict, description="the alert's labels")
    annotations: dict[str, str] = Field(default_factory=dict, description="world text: never trusted")
    requested_by: str = "alertmanager"


class AlertmanagerAlert(BaseModel):
    """One alert of an Alertmanager webhook (version 4) payload."""

    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: AwareDatetime | None = None
    fingerprint: str | None = None


def incident_from_alert(alert: AlertmanagerAlert) -> Incident:
    """An alert's incident: as_of is its startsAt; the id is stable across re-deliveries."""
    labels = alert.labels
    key = alert.fingerprint or "|".join(f"{k}={v}" for k, v in sorted(labels.items()))
    digest = hashlib.sha256(f"{key}|{alert.startsAt.isoformat()}".encode()).hexdigest()[:12]
    name = _slug(labels.get("alertname", "alert"))
    services = [labels[k] for k in SERVICE_LABELS if k in labels][:1]
    return Incident(
        id=f"{name}-{digest}",
        as_of=alert.startsAt.astimezone(UTC),
        source="alert",
        title=(alert.annotations.get("summary") or labels.get("alertname", "alert"))[:500],
        namespace=labels.get("namespace"),
        services=services,
        labels=labels,
        annotations=alert.annotations,
    )


def incident_from_question(
    question: str, *, as_of: datetime, namespace: str | None, known_services: list[str], asked_by: str
) -> Incident:
    """A free-text question's incident. Services are those of `known_services` the text names."""
    words = set(re.findall(r"[a-z0-9][a-z0-9-]*", question.lower()))
    services = [s for s in known_services if s.lower() in words]
    digest = hashlib.sha256(f"{question}|{as_of.isoformat()}|{asked_by}".encode()).hexdigest()[:12]
    return Incident(
        id=f"question-{digest}",
        as_of=as_of.astimezone(UTC),
        source="question",
        title=question.strip()[:500] or "question",
        namespace=namespace,
        services=services,
        requested_by=asked_by,
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "alert"
