"""The load locust puts on the service (run by `medic bench service`, in its own process).

--bench-mode alerts: Alertmanager webhooks, each a new alert in one of a few hundred groups.
--bench-mode get: reads of one incident. The token and the incident id come from the driver.
--bench-rate R: each user paces itself to R requests/s (0: as fast as the server answers).
"""

from __future__ import annotations

import itertools
from argparse import ArgumentParser
from datetime import UTC, datetime

from locust import FastHttpUser, constant, constant_throughput, events, task

_counter = itertools.count()


@events.init_command_line_parser.add_listener
def _options(parser: ArgumentParser) -> None:
    parser.add_argument("--bench-mode", choices=["alerts", "get"], default="alerts")
    parser.add_argument("--bench-token", default="")
    parser.add_argument("--bench-incident", default="")
    parser.add_argument("--bench-rate", type=float, default=0.0, help="requests/s per user; 0: flat out")


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
    def wait_time(self) -> float:
        rate = float(self.environment.parsed_options.bench_rate)
        pace: float = constant_throughput(rate)(self) if rate > 0 else constant(0)(self)
        return pace

    @task
    def send(self) -> None:
        options = self.environment.parsed_options
        headers = {"Authorization": f"Bearer {options.bench_token}"}
        if options.bench_mode == "alerts":
            self.client.post(
                "/v1/alertmanager", json=webhook(next(_counter)), headers=headers, name="alertmanager"
            )
        else:
            self.client.get(f"/v1/incidents/{options.bench_incident}", headers=headers, name="get incident")
