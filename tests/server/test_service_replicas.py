"""Two replicas on one PostgreSQL share the work: every alert group is investigated once, and when
one replica is killed mid-run the other takes its incidents over once their leases run out."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from evals.sandbox.sandbox import SandboxInfo
from evals.scenario import Scenario
from tests.server.serve_process import service_env, start_serve
from tests.server.service_fixture import auth

GROUPS = 6  # both replicas hold some (two at a time each) when one is killed; each is a whole triage
REST = {"awaiting_approval", "finished", "failed"}


def webhook(scenario: Scenario, i: int) -> dict:
    alert = scenario.alert
    assert alert is not None
    labels = {**alert.labels, "alertname": f"{alert.labels['alertname']}{i}"}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{labels["alertname"]}"}}',
        "status": "firing",
        "receiver": "medic",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": alert.annotations,
                "startsAt": scenario.at(alert.starts_at).isoformat(),
                "fingerprint": f"fp-{i}",
            }
        ],
    }


@pytest.mark.timeout(420)  # beyond the test's own 240 s deadline for the takeover, so that one speaks
def test_two_replicas_share_the_queue_and_take_over(
    own_sandbox: tuple[Scenario, SandboxInfo],
    tmp_path: Path,
    fresh_postgres_dsn: str,
) -> None:
    scenario, info = own_sandbox
    env = service_env(info, tmp_path / "run", fresh_postgres_dsn, MEDIC_WORKER_CONCURRENCY="2")
    a = start_serve(env, tmp_path / "a.log")
    b = start_serve(env, tmp_path / "b.log")
    try:
        ids = []
        for i in range(GROUPS):
            target = (a, b)[i % 2].url
            sent = httpx.post(
                f"{target}/v1/alertmanager", json=webhook(scenario, i), headers=auth("alertmanager")
            )
            assert sent.status_code == 202, sent.text
            ids.append(sent.json()["incident_id"])
        assert len(set(ids)) == GROUPS
        # A repeat of every group, to the other replica: no second incident, no second investigation.
        for i in range(GROUPS):
            again = httpx.post(
                f"{(b, a)[i % 2].url}/v1/alertmanager",
                json=webhook(scenario, i),
                headers=auth("alertmanager"),
            )
            assert again.json() | {"alerts": None} == {
                "incident_id": ids[i],
                "created": False,
                "state": again.json()["state"],
                "alerts": None,
            }

        time.sleep(1.5)  # let replica a claim some incidents, then kill it in the middle of them
        a.kill9()
        deadline = time.monotonic() + 240
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            listed = httpx.get(f"{b.url}/v1/incidents?limit=200", headers=auth("viewer"), timeout=10).json()
            states = {i["id"]: i["state"] for i in listed["incidents"]}
            if len(states) == GROUPS and set(states.values()) <= REST:
                break
            time.sleep(0.5)
        assert len(states) == GROUPS and set(states.values()) <= {"awaiting_approval", "finished"}, states

        for incident_id in ids:
            timeline = httpx.get(f"{b.url}/v1/incidents/{incident_id}", headers=auth("viewer")).json()[
                "timeline"
            ]
            kinds = [e["kind"] for e in timeline]
            assert kinds.count("opened") == 1
            assert kinds.count("diagnosis") == 1, (incident_id, kinds)  # one investigation, whoever ran it
        taken_over = b.log.read_text().count("lease")  # informative only: how many b took from a
        print(f"replica b logged {taken_over} lease lines")
    finally:
        a.stop()
        b.stop()
