"""`open_detected`: a detected incident enters exactly as an Alertmanager alert does.

The detection becomes a one-alert webhook (version 4) and goes through the Alertmanager route's own
function, so grouping, deduplication, the timeline and the queue are the alert intake's. Its group
key names the service and the kind, so while that incident is open a repeat detection is a repeat
notification on its timeline, not a second incident; once it is resolved the group is free again.
Labels say it came from medic (`alertname`, `source=medic-watch`); the annotations carry the
evidence and, for a forecast, the runbook's proposal (which the guard checks like any other).
"""

from __future__ import annotations

import hashlib
import json

from server.api.alertmanager import Webhook, WebhookAlert, WebhookResult, receive
from server.auth import Principal
from server.deps import Services
from server.watch.detection import Detection

SOURCE = "medic-watch"
ALERTNAMES = {"anomaly": "MedicDetectedAnomaly", "saturation_forecast": "MedicSaturationForecast"}
# The alert intake asks of its caller what Alertmanager is granted: viewer, with the alerts scope.
WATCH_PRINCIPAL = Principal(subject=SOURCE, roles=["viewer"], scopes=["alerts"])


def group_key(detection: Detection) -> str:
    return f"{SOURCE}:{detection.namespace}/{detection.service}/{detection.kind}"


def webhook_of(detection: Detection) -> Webhook:
    """The Alertmanager payload a detection would have been."""
    key = group_key(detection)
    labels = {
        "alertname": ALERTNAMES[detection.kind],
        "source": SOURCE,
        "namespace": detection.namespace,
        "service": detection.service,
        "kind": detection.kind,
        "severity": "warning",
    }
    if detection.resource:
        labels["resource"] = detection.resource
    annotations = {
        "summary": f"{detection.service}: {detection.reason}"[:500],
        "reason": detection.reason,
        "evidence": json.dumps([e.model_dump(mode="json") for e in detection.evidence]),
    }
    if detection.time_to_limit_s is not None:
        annotations["time_to_limit_s"] = f"{detection.time_to_limit_s:.0f}"
    if detection.proposal is not None:
        annotations["proposal"] = detection.proposal.model_dump_json()
    alert = WebhookAlert(
        status="firing",
        labels=labels,
        annotations=annotations,
        startsAt=detection.opened_at,
        fingerprint=hashlib.sha256(key.encode()).hexdigest()[:16],  # one alert per group: repeats dedupe
    )
    return Webhook(
        version="4",
        groupKey=key,
        status="firing",
        receiver=SOURCE,
        groupLabels={"alertname": labels["alertname"]},
        commonLabels=labels,
        commonAnnotations={},
        alerts=[alert],
    )


def open_detected(svc: Services, detection: Detection, *, by: Principal = WATCH_PRINCIPAL) -> WebhookResult:
    """Open (or, while one is open, add to) the incident of a detection, through the alert intake."""
    return receive(webhook_of(detection), by, svc)
