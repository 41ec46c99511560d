"""An alert to an executed, verified action through the service, on a real sandbox in enforce mode."""

from __future__ import annotations

from kubernetes import client, config

from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from tests.policies.guard_fixtures import clock
from tests.server.service_fixture import Service, auth


def _alert(svc: Service) -> dict:
    alert = svc.scenario.alert
    assert alert is not None
    return {
        "status": "firing",
        "labels": alert.labels,
        "annotations": alert.annotations,
        "startsAt": svc.scenario.at(alert.starts_at).isoformat(),
        "fingerprint": "fp-1",
    }


def _image(svc: Service, name: str) -> str:
    api = config.new_client_from_config(str(svc.info.kubeconfig))
    try:
        dep = client.AppsV1Api(api).read_namespaced_deployment(name, svc.scenario.topology.namespace)
        return str(dep.spec.template.spec.containers[0].image)
    finally:
        api.close()


def test_alert_to_approved_rollback_executed_once(service: Service) -> None:
    svc = service
    body = {"alert": _alert(svc), "as_of": svc.scenario.end_utc.isoformat()}
    opened = svc.client.post("/v1/incidents", json=body, headers=auth("responder"))
    assert opened.status_code == 202, opened.text
    incident_id = opened.json()["id"]

    waiting = svc.wait_for(incident_id, {"awaiting_approval", "finished", "failed"})
    assert waiting["incident"]["state"] == "awaiting_approval", waiting["timeline"]
    pending = waiting["incident"]["pending"]
    assert pending["action"]["kind"] == "rollback"
    kinds = [e["kind"] for e in waiting["timeline"]]
    assert kinds[0] == "opened" and "tool" in kinds and "diagnosis" in kinds and "proposal" in kinds
    before = _image(svc, "checkoutservice")
    _chat_answers_from_the_evidence(svc, incident_id)
    _events_stream_the_timeline(svc, incident_id, len(waiting["timeline"]))

    url = f"/v1/incidents/{incident_id}/actions/{pending['action_id']}/approval"
    viewer = svc.client.post(url, json={"verdict": "approve"}, headers=auth("viewer"))
    assert viewer.status_code == 403 and viewer.headers["content-type"] == "application/problem+json"
    stale = svc.client.post(
        f"/v1/incidents/{incident_id}/actions/not-this-one/approval",
        json={"verdict": "approve"},
        headers=auth("approver"),
    )
    assert stale.status_code == 409

    ok = svc.client.post(url, json={"verdict": "approve", "comment": "go"}, headers=auth("approver"))
    assert ok.status_code == 202, ok.text
    assert ok.json()["approver"] == "carol"
    again = svc.client.post(url, json={"verdict": "approve"}, headers=auth("approver"))
    assert again.status_code == 409

    done = svc.wait_for(incident_id, {"finished", "failed"})
    assert done["incident"]["state"] == "finished", done["timeline"]
    guard = done["incident"]["report"]["guard"]
    assert guard["execution"] and "executed" in guard["execution"]
    assert _image(svc, "checkoutservice") != before

    _metrics_count_what_happened(svc)
    ready = svc.client.get("/readyz").json()
    assert ready == {
        "ready": True,
        "degraded": False,
        "checks": {"database": "ok", "prometheus": "ok", "kubernetes": "ok"},
    }

    log = AuditLog(SqliteAuditStore(svc.agent.audit_url), clock)
    approvals = [r for r in log.show() if r.kind == "approval"]
    assert [r.actor for r in approvals] == ["carol"]  # the token's subject, verified
    sends = [r for r in log.show() if r.kind == "execution" and r.payload.get("phase") == "sending"]
    assert len(sends) == 1


def _say(svc: Service, incident_id: str, text: str) -> dict:
    reply = svc.client.post(
        f"/v1/incidents/{incident_id}/messages", json={"text": text}, headers=auth("responder")
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def _chat_answers_from_the_evidence(svc: Service, incident_id: str) -> None:
    status = _say(svc, incident_id, "status?")
    assert status["intent"] == "status" and "awaiting_approval" in status["text"]
    evidence = _say(svc, incident_id, "what is the evidence for checkoutservice?")
    assert evidence["intent"] == "evidence_for" and evidence["evidence"]
    assert all(f"[{e}]" in evidence["text"] for e in evidence["evidence"])
    plan = _say(svc, incident_id, "What would you do?")
    assert plan["intent"] == "what_would_you_do" and "rollback" in plan["text"]
    other = _say(svc, incident_id, "why not adservice")
    assert other["intent"] == "why_not" and "adservice" in other["text"]
    unknown = _say(svc, incident_id, "tell me a joke")
    assert unknown["intent"] == "unknown" and "cannot answer" in unknown["text"]
    viewer = svc.client.post(
        f"/v1/incidents/{incident_id}/messages", json={"text": "status"}, headers=auth("viewer")
    )
    assert viewer.status_code == 403
    timeline = svc.client.get(f"/v1/incidents/{incident_id}", headers=auth("viewer")).json()["timeline"]
    assert [e["kind"] for e in timeline[-10:]].count("reply") == 5


def _events_stream_the_timeline(svc: Service, incident_id: str, known: int) -> None:
    """Server-sent events from Last-Event-ID on; the stream ends while the incident waits."""
    with svc.client.stream(
        "GET", f"/v1/incidents/{incident_id}/events", headers={**auth("viewer"), "Last-Event-ID": "3"}
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    ids = [int(line[4:]) for line in text.splitlines() if line.startswith("id: ")]
    assert ids and ids[0] == 4 and ids == sorted(ids)
    assert "event: tool" in text and text.rstrip().endswith('data: {"state": "awaiting_approval"}')


def _sample(exposition: str, name: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(name + " ") or (line.startswith(name + "{") and line.split("}")[0] + "}" == name):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def _metrics_count_what_happened(svc: Service) -> None:
    text = svc.client.get("/metrics").text
    assert _sample(text, 'medic_investigations_total{outcome="awaiting_approval"}') == 1
    assert _sample(text, 'medic_investigations_total{outcome="finished"}') == 1
    assert _sample(text, 'medic_approvals_total{verdict="approve"}') == 1
    assert _sample(text, 'medic_tool_seconds_count{tool="rank_root_causes"}') >= 1
    assert _sample(text, "medic_queue_depth") == 0
    assert (
        'medic_actions_total{decision="require_approval"}' in text
        or 'medic_actions_total{decision="allow"}' in text
    )
