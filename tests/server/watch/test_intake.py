"""A detected incident enters through the Alertmanager intake: opened once, labelled as medic's,
deduplicated while it stays open, a new incident once it is resolved."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient

from server.watch.detection import Detection, SeriesEvidence
from server.watch.intake import open_detected
from tests.server.api_fixture import services_of
from tests.server.watch.synthetic import at


def detection(step: int) -> Detection:
    return Detection(
        opened_at=at(step),
        namespace="shop",
        service="checkout",
        kind="anomaly",
        reason="error_ratio 0.21 (was 0.0118): over the detector's threshold since 2026-03-02T10:45:00Z",
        evidence=[
            SeriesEvidence(
                signal="error_ratio",
                score=1.0,
                steps_over=4,
                since=at(step - 3),
                value=0.21,
                calm_value=0.0118,
            )
        ],
    )


def test_a_detection_opens_one_incident_and_repeats_are_deduplicated(api: TestClient) -> None:
    svc = services_of(api)
    first = open_detected(svc, detection(330))
    assert first.created and first.state == "queued"
    record = svc.store.get(first.incident_id)
    incident = record.incident
    assert (
        incident.labels["alertname"] == "MedicDetectedAnomaly" and incident.labels["source"] == "medic-watch"
    )
    assert incident.services == ["checkout"] and incident.namespace == "shop"
    assert incident.as_of == at(330)
    assert json.loads(incident.annotations["evidence"])[0]["signal"] == "error_ratio"
    again = open_detected(svc, detection(340))  # the loop (or another replica) reports it again
    assert again.incident_id == first.incident_id and not again.created
    assert svc.queue.depth() == 1  # investigated once

    svc.store.resolve_group(first.incident_id)
    later = open_detected(svc, detection(340).model_copy(update={"opened_at": at(340) + timedelta(hours=1)}))
    assert later.created and later.incident_id != first.incident_id
