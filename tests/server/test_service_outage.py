"""A backend outage during an investigation: the service answers 200 with a report that names the
evidence that is missing and why, never a 500."""

from __future__ import annotations

import time
from pathlib import Path

from tests.server.service_fixture import Service, auth
from tests.server.test_degraded_runs import _kill_prometheus


def test_prometheus_stopped_mid_investigation(service: Service, tmp_path: Path) -> None:
    svc = service
    alert = svc.scenario.alert
    assert alert is not None
    body = {
        "alert": {"labels": alert.labels, "startsAt": svc.scenario.at(alert.starts_at).isoformat()},
        "as_of": svc.scenario.end_utc.isoformat(),
    }
    incident_id = svc.client.post("/v1/incidents", json=body, headers=auth("responder")).json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # stop Prometheus once the investigation has begun
        timeline = svc.client.get(f"/v1/incidents/{incident_id}", headers=auth("viewer")).json()["timeline"]
        if any(e["kind"] in ("plan", "tool") for e in timeline):
            break
        time.sleep(0.05)
    _kill_prometheus(tmp_path / "sandbox")

    done = svc.wait_for(incident_id, {"awaiting_approval", "finished", "failed"})
    assert done["incident"]["state"] in ("awaiting_approval", "finished"), done["timeline"][-3:]
    answer = svc.client.get(f"/v1/incidents/{incident_id}", headers=auth("viewer"))
    assert answer.status_code == 200
    diagnosis = answer.json()["incident"]["report"]["diagnosis"]
    assert diagnosis["degraded"] is True
    [metrics] = [m for m in diagnosis["missing"] if m["source"] == "metrics"]
    assert "MEDIC_PROMETHEUS_URL" in metrics["why"]
    assert all(h["label"] != "CONFIRMED" for h in diagnosis["hypotheses"])
    ready = svc.client.get("/readyz")  # still ready (alerts and approvals must get in), but degraded
    assert ready.status_code == 200 and ready.json()["degraded"] is True
    assert "MEDIC_PROMETHEUS_URL" in ready.json()["checks"]["prometheus"]
    assert ready.json()["checks"]["kubernetes"] == "ok"
