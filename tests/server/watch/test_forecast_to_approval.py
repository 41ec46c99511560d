"""A saturation forecast from the watch, end to end: opened through the alert intake before anything
has failed, investigated, and its action proposed, dry-run by the API server, held for a person's
approval by the guard, then executed once approved. The sandbox is a leak 11 minutes old whose pods
have not yet been OOM-killed: only the forecast says anything is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from kubernetes import client, config

from agent.runbook import load_runbook
from evals.scenario import Scenario, load_scenario
from server.watch.detection import Detection
from server.watch.intake import webhook_of
from server.watch.proposal import forecast_proposal
from tests.server.service_fixture import Service, auth, running_service

LEAK = """
id: leak-ahead-of-the-limit
title: a working set climbing, no pod killed yet
seed: 31
topology: sock-shop
end: "2026-03-03T14:41:00Z"
history: 2h
step: 15s
faults:
  - kind: memory_leak
    target: carts
    start: -11m
    params: {time_to_oom: 20m}
expect:
  root_cause: {service: carts, kind: memory_leak}
"""


@pytest.fixture
def leaking(tmp_path: Path, tsdb_cache: Path) -> Iterator[Service]:
    path = tmp_path / "leak.yaml"
    path.write_text(LEAK)
    with running_service(tmp_path, tsdb_cache, scenario=load_scenario(path)) as running:
        yield running


def _forecast(scenario: Scenario) -> Detection:
    """What the watch opens for this world (`medic watch --scenario` replays it at 79% of the limit)."""
    proposal = forecast_proposal(load_runbook(), "memory", "sock-shop", "carts", replicas=3, utilization=0.79)
    return Detection(
        opened_at=scenario.end_utc - timedelta(seconds=15),
        namespace="sock-shop",
        service="carts",
        kind="saturation_forecast",
        reason="memory of its busiest pod at 79% of the limit, forecast to reach 95% in 17 min",
        time_to_limit_s=17 * 60,
        resource="memory",
        proposal=proposal,
    )


def _restarted_at(svc: Service) -> str | None:
    api = config.new_client_from_config(str(svc.info.kubeconfig))
    try:
        dep = client.AppsV1Api(api).read_namespaced_deployment("carts", "sock-shop")
        return (dep.spec.template.metadata.annotations or {}).get("kubectl.kubernetes.io/restartedAt")
    finally:
        api.close()


@pytest.mark.sandbox
def test_a_forecast_leak_is_restarted_ahead_of_the_crash_only_once_a_person_approves(
    leaking: Service,
) -> None:
    svc = leaking
    hook = webhook_of(_forecast(svc.scenario)).model_dump(mode="json")
    opened = svc.client.post("/v1/alertmanager", json=hook, headers=auth("alertmanager"))
    assert opened.status_code == 202 and opened.json()["created"], opened.text
    incident_id = opened.json()["incident_id"]

    waiting = svc.wait_for(incident_id, {"awaiting_approval", "finished", "failed"})
    assert waiting["incident"]["state"] == "awaiting_approval", waiting["timeline"]
    pending = waiting["incident"]["pending"]["action"]
    assert (pending["kind"], pending["target"]) == ("rollout_restart", "sock-shop/deployment/carts")
    assert pending["requested_by"] == "agent:rules"  # proposed by the investigation, not taken from the alert
    assert _restarted_at(svc) is None  # dry-run only so far: nothing changed

    url = f"/v1/incidents/{incident_id}/actions/{waiting['incident']['pending']['action_id']}/approval"
    approved = svc.client.post(url, json={"verdict": "approve"}, headers=auth("approver"))
    assert approved.status_code == 202, approved.text
    done = svc.wait_for(incident_id, {"finished", "failed"})
    assert done["incident"]["state"] == "finished", done["timeline"]
    top = done["incident"]["report"]["diagnosis"]["hypotheses"][0]
    assert (top["service"], top["fault_kind"], top["label"]) == ("carts", "memory_leak", "LIKELY")
    assert _restarted_at(svc) is not None
