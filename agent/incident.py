"""Intake: an Alertmanager alert or a free-text question becomes an `Incident` with its `as_of`.

The incident id is the LangGraph thread id, so it must be stable for the same alert (Alertmanager
re-sends firing alerts; a re-delivery must resume the same investigation, not start a second one).
`Incident.restarted` is the explicit way to investigate the same alert again from scratch.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

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

    def restarted(self, at: datetime) -> Incident:
        """The same incident as a new investigation (a thread of its own), started at `at`."""
        return self.model_copy(update={"id": f"{self.id[:100]}-fresh-{at.astimezone(UTC):%Y%m%dT%H%M%S%f}"})


class AlertmanagerAlert(BaseModel):
    """One alert of an Alertmanager webhook (version 4) payload."""

    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: AwareDatetime | None = None
    fingerprint: str | None = None


class AlertmanagerWebhook(BaseModel):
    """An Alertmanager webhook (version 4) payload: the part medic reads."""

    alerts: list[AlertmanagerAlert] = Field(min_length=1)


class AlertPayloadError(ValueError):
    """A webhook payload that cannot be read, said in one line that names the file and the field."""


def read_webhook_alert(path: Path) -> AlertmanagerAlert:
    """The first firing alert of the webhook payload in the file `path`."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise AlertPayloadError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AlertPayloadError(f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    return webhook_alert(text, source=str(path))


def webhook_alert(text: str, source: str = "the payload") -> AlertmanagerAlert:
    """The first firing alert of a webhook payload given as JSON text."""
    try:
        payload = json.loads(text)
    except ValueError as exc:
        where = (
            f" (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise AlertPayloadError(f"{source}: not JSON{where}") from None
    if not isinstance(payload, dict):
        raise AlertPayloadError(
            f"{source}: not an Alertmanager webhook payload (a JSON object with `alerts`)"
        )
    try:
        webhook = AlertmanagerWebhook.model_validate(payload)
    except ValidationError as exc:
        raise AlertPayloadError(f"{source}: {_first_problem(exc)}") from None
    firing = [a for a in webhook.alerts if a.status == "firing"]
    if not firing:
        raise AlertPayloadError(f"{source}: no firing alert in the webhook payload")
    return firing[0]


def _first_problem(exc: ValidationError) -> str:
    """`alerts[0].startsAt: <problem> (got 'x')`: the field in the payload's own words, and no library
    links (pydantic's own message ends with one)."""
    errors = exc.errors(include_url=False)
    error = errors[0]
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    message = "required field is missing" if error["type"] == "missing" else error["msg"]
    given = error.get("input")
    if error["type"] != "missing" and isinstance(given, str | int | float | bool | None):
        message += f" (got {json.dumps(given)[:80]})"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{field or 'payload'}: {message}{more}"


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
