"""The loop's benchmarks: series scored per second (one process, so per core) by the scoring half of
a step, and the memory the loop's per-series state takes, scaled to 10,000 series. Synthetic series
(noisy levels with a daily swing): the read half is Prometheus's cost, not the loop's."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from pydantic import BaseModel

from server.watch.config import WatchConfig
from server.watch.loop import WatchLoop
from server.watch.signals import SIGNALS, Reading, series_key, service_key
from server.watch.store import MemoryStateStore
from tools.metrics.client import ApiAlert, InstantSeries, RangeSeries


class _NoReads:
    """The benchmark scores readings it made itself: any query would be a bug."""

    def _refuse(self) -> None:
        raise AssertionError("the throughput benchmark reads nothing")

    def instant(self, promql: str, at: datetime) -> list[InstantSeries]:
        self._refuse()
        return []

    def range(self, promql: str, start: datetime, end: datetime, step_s: float) -> list[RangeSeries]:
        self._refuse()
        return []

    def label_values(
        self, label: str, start: datetime, end: datetime, match: Sequence[str] = ()
    ) -> list[str]:
        self._refuse()
        return []

    def series(self, match: Sequence[str], start: datetime, end: datetime) -> list[dict[str, str]]:
        self._refuse()
        return []

    def alerts(self) -> list[ApiAlert]:
        self._refuse()
        return []


class Throughput(BaseModel):
    series: int
    steps: int
    series_per_s_per_core: float
    bytes_per_series: float
    mib_per_10k_series: float
    checkpoint_bytes_per_series: float


def _readings(services: int, steps: int, seed: int) -> list[Reading]:
    rng = np.random.default_rng(seed)
    keys = [series_key(service_key("bench", f"svc-{i}"), s) for i in range(services) for s in SIGNALS]
    base = rng.uniform(0.2, 100.0, size=len(keys))
    out = []
    for step in range(steps):
        swing = 1.0 + 0.2 * np.sin(2 * np.pi * step / 2880)
        values = base * swing * (1.0 + 0.05 * rng.standard_normal(len(keys)))
        out.append(Reading(values=dict(zip(keys, values.tolist(), strict=True)), pods={}))
    return out


def measure(services: int = 200, steps: int = 300) -> Throughput:
    """Scores `services` × 5 series for `steps` steps; memory from tracemalloc around the states."""
    readings = _readings(services, steps, seed=7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    loop = WatchLoop(WatchConfig(), _NoReads(), MemoryStateStore())
    loop.score(start, readings[0])
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    clock = time.process_time()
    for i, reading in enumerate(readings[1:], start=1):
        loop.score(start + timedelta(seconds=30 * i), reading)
    cpu = time.process_time() - clock
    series = len(readings[0].values)
    checkpoint = sum(len(v) for v in loop.states().values())
    per_series = held / series
    return Throughput(
        series=series,
        steps=steps,
        series_per_s_per_core=round(series * (steps - 1) / cpu, 1),
        bytes_per_series=round(per_series),
        mib_per_10k_series=round(per_series * 10_000 / 2**20, 1),
        checkpoint_bytes_per_series=round(checkpoint / series),
    )
