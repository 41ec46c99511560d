"""A small World built by hand, so the metrics path is tested independently of the simulator."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from evals.scenario import Scenario
from evals.world.model import MetricFamily, Series, World

END = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # on a 2h boundary: the last sample opens a new block
STEP_S = 15
HISTORY_S = 5 * 3600


def handmade_scenario(history: str = "5h") -> Scenario:
    return Scenario.model_validate(
        {
            "id": "handmade",
            "title": "hand-made metrics",
            "seed": 1,
            "topology": {"namespace": "shop", "nodes": ["node-a"], "services": {"web": {"entry": True}}},
            "end": END.isoformat(),
            "history": history,
            "step": f"{STEP_S}s",
            "expect": {"root_cause": {"service": None}},
        }
    )


def handmade_world() -> World:
    """Counters, a gauge with a gap, a pod that disappears, a histogram and awkward label values."""
    end_ms = int(END.timestamp() * 1000)
    timestamps = np.arange(end_ms - HISTORY_S * 1000, end_ms + 1, STEP_S * 1000, dtype=np.int64)
    n = len(timestamps)
    rng = np.random.default_rng(7)
    requests = np.cumsum(rng.integers(50, 60, n)).astype(np.float64)
    cpu = np.cumsum(rng.random(n) * 0.3)
    memory = 2e8 + rng.random(n) * 1e6
    memory[100:140] = np.nan  # a scrape gap
    replaced = np.cumsum(np.ones(n))
    replaced[n // 2 :] = np.nan  # the pod was replaced half-way
    pod = (("namespace", "shop"), ("pod", "web-1"), ("service", "web"))
    buckets = []
    for le, share in (("0.1", 0.5), ("0.5", 0.9), ("+Inf", 1.0)):
        labels = tuple(sorted((*pod, ("le", le))))
        buckets.append(
            Series("http_server_request_duration_seconds_bucket", labels, np.floor(requests * share))
        )
    return World(
        scenario=handmade_scenario(),
        timestamps=timestamps,
        families=[
            MetricFamily(
                "http_server_request_duration_seconds",
                "histogram",
                "Duration of HTTP server requests.",
                [
                    *buckets,
                    Series("http_server_request_duration_seconds_sum", pod, requests * 0.042),
                    Series("http_server_request_duration_seconds_count", pod, requests),
                ],
            ),
            MetricFamily(
                "container_cpu_usage_seconds_total",
                "counter",
                "Cumulative cpu time consumed.\nIn seconds \\ cores.",
                [
                    Series("container_cpu_usage_seconds_total", pod, cpu),
                    Series("container_cpu_usage_seconds_total", (("pod", "web-0"),), replaced),
                ],
            ),
            MetricFamily(
                "container_memory_working_set_bytes",
                "gauge",
                "",
                [
                    Series(
                        "container_memory_working_set_bytes",
                        tuple(sorted((("note", 'say "hi"\\\nbye'), *pod))),
                        memory,
                    )
                ],
            ),
        ],
        objects=[],
        logs=[],
        spans=[],
    )
