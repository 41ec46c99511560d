"""POST /v1/alertmanager: Alertmanager's webhook (version 4), one incident per alert group.

The group key decides the incident; each alert's fingerprint is remembered, so a repeat notification
adds to the timeline and starts nothing; when every alert of the group has resolved, the incident is
resolved and a pending approval is withdrawn (approving it is refused from then on: its symptom is
gone). A resolution older than the firing episode we know (out of order) is noted and changes nothing.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agent.incident import AlertmanagerAlert, incident_from_alert
from server.deps import AlertSender, ServicesDep
from server.store.models import AlertNote

router = APIRouter(prefix="/v1/alertmanager", tags=["alertmanager"])


class WebhookAlert(AlertmanagerAlert):
    generatorURL: str | None = None


class Webhook(BaseModel):
    """Alertmanager's webhook payload, version 4."""

    version: Literal["4"]
    groupKey: str = Field(min_length=1, max_length=1024)
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    truncatedAlerts: int = 0
    alerts: list[WebhookAlert] = Field(min_length=1, max_length=1000)


class WebhookResult(BaseModel):
    incident_id: str
    created: bool
    state: str
    alerts: list[AlertNote]


def fingerprint_of(alert: AlertmanagerAlert) -> str:
    if alert.fingerprint:
        return alert.fingerprint
    text = "|".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@router.post("", status_code=202, response_model=WebhookResult)
def receive(body: Webhook, caller: AlertSender, svc: ServicesDep) -> WebhookResult:
    firing = sorted((a for a in body.alerts if a.status == "firing"), key=lambda a: a.startsAt)
    seed = firing[0] if firing else min(body.alerts, key=lambda a: a.startsAt)
    incident = incident_from_alert(seed)
    incident = incident.model_copy(update={"id": _group_incident_id(body.groupKey, incident.id, seed)})
    store = svc.store
    existing = store.find_group(body.groupKey)
    if existing is None and not firing:
        # A resolution for a group we never saw firing (or already closed): nothing to investigate.
        return WebhookResult(incident_id="", created=False, state="ignored", alerts=[])
    record, created = (
        (existing, False)
        if existing is not None
        else store.open(incident, opened_by=caller.subject, group_key=body.groupKey)
    )
    notes = [
        store.note_alert(
            record.id, fingerprint_of(a), status=a.status, starts_at=a.startsAt, ends_at=a.endsAt
        )
        for a in body.alerts
    ]
    summary = ", ".join(f"{n.fingerprint} {n.outcome}" for n in notes)
    if not created:
        store.add_event(record.id, "alert", f"notification ({body.status}): {summary}", {"alerts": summary})
    for note in notes:
        if note.outcome == "stale":
            store.add_event(
                record.id, "note", f"alert {note.fingerprint}: an out-of-order notification, ignored"
            )
    if store.firing_alerts(record.id) == 0 and any(n.outcome == "resolved" for n in notes):
        store.resolve_group(record.id)
        withdrawn = " ; the pending approval is withdrawn" if record.pending else ""
        store.add_event(record.id, "resolved", f"every alert of the group resolved{withdrawn}")
    return WebhookResult(
        incident_id=record.id, created=created, state=store.get(record.id).state, alerts=notes
    )


def _group_incident_id(group_key: str, alert_id: str, seed: AlertmanagerAlert) -> str:
    """Stable for one firing episode of one group: re-deliveries land on the same thread."""
    name = alert_id.rsplit("-", 1)[0]
    digest = hashlib.sha256(f"{group_key}|{seed.startsAt.isoformat()}".encode()).hexdigest()[:12]
    return f"{name}-{digest}"[:128]
