"""Alertmanager's webhook (v4): one incident per group, repeats and resolutions on its timeline,
out-of-order notifications ignored, malformed payloads refused naming the field, storms bounded."""

from __future__ import annotations

import copy
import time

import pytest
from fastapi.testclient import TestClient

from tests.server.api_fixture import services_of
from tests.server.service_fixture import Service, auth

AM = auth("alertmanager")


def payload(
    status: str = "firing", group: str = "g1", fingerprints: tuple[str, ...] = ("a1",), **alert: object
) -> dict:
    alerts = [
        {
            "status": status,
            "labels": {"alertname": "HighErrorRate", "namespace": "shop", "service": "checkout", "pod": fp},
            "annotations": {"summary": "checkout 5xx above 5%"},
            "startsAt": "2026-03-02T13:40:00Z",
            "endsAt": "2026-03-02T14:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
            "fingerprint": fp,
            "generatorURL": "http://prometheus/graph",
            **alert,
        }
        for fp in fingerprints
    ]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="HighErrorRate", group="{group}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "medic",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager",
        "alerts": alerts,
    }


def kinds(api: TestClient, incident_id: str) -> list[str]:
    return [
        e["kind"] for e in api.get(f"/v1/incidents/{incident_id}", headers=auth("viewer")).json()["timeline"]
    ]


def test_a_group_is_one_incident_and_a_repeat_starts_nothing(api: TestClient) -> None:
    first = api.post("/v1/alertmanager", json=payload(fingerprints=("a1", "a2")), headers=AM)
    assert first.status_code == 202, first.text
    body = first.json()
    assert body["created"] and [a["outcome"] for a in body["alerts"]] == ["new", "new"]
    incident = services_of(api).store.get(body["incident_id"])
    assert incident.incident.as_of.isoformat() == "2026-03-02T13:40:00+00:00"
    assert incident.incident.services == ["checkout"] and incident.incident.namespace == "shop"
    repeat = api.post("/v1/alertmanager", json=payload(fingerprints=("a1", "a2")), headers=AM).json()
    assert repeat["incident_id"] == body["incident_id"] and not repeat["created"]
    assert [a["outcome"] for a in repeat["alerts"]] == ["repeat", "repeat"]
    assert services_of(api).queue.depth() == 1  # queued once: the repeat asked for no second run
    assert kinds(api, body["incident_id"]) == ["opened", "alert"]


def test_resolution_closes_the_loop_when_every_alert_resolved(api: TestClient) -> None:
    opened = api.post("/v1/alertmanager", json=payload(fingerprints=("a1", "a2")), headers=AM).json()
    half = api.post("/v1/alertmanager", json=payload("resolved", fingerprints=("a1",)), headers=AM).json()
    assert half["state"] != "resolved"
    done = api.post("/v1/alertmanager", json=payload("resolved", fingerprints=("a2",)), headers=AM).json()
    assert done["incident_id"] == opened["incident_id"] and done["state"] == "resolved"
    assert kinds(api, opened["incident_id"])[-1] == "resolved"
    # the group is free again: a new firing episode is a new incident
    later = payload(startsAt="2026-03-02T16:00:00Z")
    again = api.post("/v1/alertmanager", json=later, headers=AM).json()
    assert again["created"] and again["incident_id"] != opened["incident_id"]


def test_a_resolution_withdraws_the_pending_approval(api: TestClient) -> None:
    opened = api.post("/v1/alertmanager", json=payload(), headers=AM).json()
    store = services_of(api).store
    store.set_state(opened["incident_id"], "awaiting_approval", pending={"action_id": "act-x", "exact": {}})
    api.post("/v1/alertmanager", json=payload("resolved"), headers=AM)
    timeline = api.get(f"/v1/incidents/{opened['incident_id']}", headers=auth("viewer")).json()["timeline"]
    assert "pending approval is withdrawn" in timeline[-1]["text"]
    refused = api.post(
        f"/v1/incidents/{opened['incident_id']}/actions/act-x/approval",
        json={"verdict": "approve"},
        headers=auth("approver"),
    )
    assert refused.status_code == 409 and "withdrawn" in refused.json()["detail"]


def test_an_out_of_order_resolution_changes_nothing(api: TestClient) -> None:
    newer = payload(startsAt="2026-03-02T13:50:00Z")
    opened = api.post("/v1/alertmanager", json=newer, headers=AM).json()
    old = payload("resolved", startsAt="2026-03-02T13:00:00Z")  # the end of an earlier episode, late
    late = api.post("/v1/alertmanager", json=old, headers=AM).json()
    assert late["incident_id"] == opened["incident_id"]
    assert late["alerts"][0]["outcome"] == "stale" and late["state"] != "resolved"
    assert (
        "out-of-order"
        in api.get(f"/v1/incidents/{opened['incident_id']}", headers=auth("viewer")).json()["timeline"][-1][
            "text"
        ]
    )


def test_a_resolution_for_an_unknown_group_opens_nothing(api: TestClient) -> None:
    ignored = api.post("/v1/alertmanager", json=payload("resolved", group="never-seen"), headers=AM).json()
    assert ignored["state"] == "ignored"
    assert api.get("/v1/incidents", headers=auth("viewer")).json()["incidents"] == []


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.pop("groupKey"), "groupKey"),
        (lambda p: p.update(version="3"), "version"),
        (lambda p: p.update(alerts=[]), "alerts"),
        (lambda p: p["alerts"][0].pop("startsAt"), "alerts.0.startsAt"),
        (lambda p: p["alerts"][0].update(startsAt="yesterday"), "alerts.0.startsAt"),
        (lambda p: p["alerts"][0].update(status="burning"), "alerts.0.status"),
        (lambda p: p["alerts"][0].update(labels="x"), "alerts.0.labels"),
    ],
)
def test_malformed_payloads_name_the_field(api: TestClient, mutate: object, field: str) -> None:
    body = copy.deepcopy(payload())
    mutate(body)  # type: ignore[operator]
    refused = api.post("/v1/alertmanager", json=body, headers=AM)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"].startswith(f"{field}:"), refused.json()


def test_the_webhook_needs_the_alerts_scope(api: TestClient) -> None:
    assert api.post("/v1/alertmanager", json=payload(), headers=auth("responder")).status_code == 403
    assert api.post("/v1/alertmanager", json=payload()).status_code == 401


def test_an_alert_storm_opens_one_investigation_per_group_within_the_bound(service: Service) -> None:
    svc, groups, per_group = service, 3, 100
    alert = svc.scenario.alert
    assert alert is not None
    started = time.monotonic()
    ids: set[str] = set()
    peak = 0
    for i in range(per_group):
        for g in range(groups):
            body = payload(
                group=f"storm-{g}", fingerprints=(f"s{g}-{i}",), labels={**alert.labels, "i": str(i)}
            )
            body["alerts"][0]["startsAt"] = svc.scenario.at(alert.starts_at).isoformat()
            sent = svc.client.post("/v1/alertmanager", json=body, headers=AM)
            assert sent.status_code == 202, sent.text
            ids.add(sent.json()["incident_id"])
        if i % 10 == 0:
            running = svc.client.get("/v1/incidents?state=investigating", headers=auth("viewer")).json()
            peak = max(peak, len(running["incidents"]))
    assert time.monotonic() - started < 60  # hundreds of alerts in a minute
    assert len(ids) == groups
    for incident_id in ids:
        done = svc.wait_for(incident_id, {"awaiting_approval", "finished", "failed"}, timeout_s=180)
        timeline = [e["kind"] for e in done["timeline"]]
        assert timeline.count("diagnosis") == 1 and timeline.count("opened") == 1
    assert peak <= 2  # the worker's concurrency bound (service fixture)
