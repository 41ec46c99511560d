"""The load locust puts on the service (run by `medic bench service`, in its own process).

BENCH_MODE=alerts: Alertmanager webhooks, each a new alert in one of a few hundred groups.
BENCH_MODE=get: reads of one incident. BENCH_TOKEN and BENCH_INCIDENT come from the driver.
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime

from locust import FastHttpUser, constant, task

MODE = os.environ.get("BENCH_MODE", "alerts")
TOKEN = os.environ.get("BENCH_TOKEN", "")
INCIDENT = os.environ.get("BENCH_INCIDENT", "")
_counter = itertools.count()


def webhook(n: int) -> dict[str, object]:
    group = n % 200
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="Bench{group}"}}',
        "status": "firing",
        "receiver": "medic",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": f"Bench{group}", "namespace": "bench", "service": f"svc{group % 20}"},
                "annotations": {"summary": "bench"},
                "startsAt": datetime(2026, 3, 2, 13, 40, tzinfo=UTC).isoformat(),
                "fingerprint": f"fp-{n}",
            }
        ],
    }


class Sender(FastHttpUser):
    wait_time = constant(0)

    @task
    def send(self) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if MODE == "alerts":
            self.client.post(
                "/v1/alertmanager", json=webhook(next(_counter)), headers=headers, name="alertmanager"
            )
        else:
            self.client.get(f"/v1/incidents/{INCIDENT}", headers=headers, name="get incident")
