"""A replica that dies after its thread reached the guard's pause but before it recorded that rest
point: whoever takes the incident over records it, so the action can still be approved."""

from __future__ import annotations

from tests.server.service_fixture import Service, auth


def test_a_lost_rest_point_is_recorded_by_the_next_claim(service: Service) -> None:
    svc = service
    alert = svc.scenario.alert
    assert alert is not None
    body = {
        "alert": {"labels": alert.labels, "startsAt": svc.scenario.at(alert.starts_at).isoformat()},
        "as_of": svc.scenario.end_utc.isoformat(),
    }
    incident_id = svc.client.post("/v1/incidents", json=body, headers=auth("responder")).json()["id"]
    first = svc.wait_for(incident_id, {"awaiting_approval", "finished", "failed"})
    pending = first["incident"]["pending"]
    assert first["incident"]["state"] == "awaiting_approval" and pending

    # As the store looks when the replica died between the checkpoint and recording the rest point:
    store, queue = svc.client.app.state.services.store, svc.client.app.state.services.queue  # type: ignore[attr-defined]
    store.set_state(incident_id, "investigating", pending=None)
    queue.request(incident_id)  # its lease ran out: claimable again

    again = svc.wait_for(incident_id, {"awaiting_approval"}, timeout_s=60)
    assert again["incident"]["pending"]["action_id"] == pending["action_id"]
    url = f"/v1/incidents/{incident_id}/actions/{pending['action_id']}/approval"
    assert svc.client.post(url, json={"verdict": "approve"}, headers=auth("approver")).status_code == 202
    done = svc.wait_for(incident_id, {"finished", "failed"})
    assert done["incident"]["report"]["guard"]["stage"] == "executed"
