"""Reading a simulated World the way PromQL would: select series by labels, take counter increases."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from evals.world.model import FloatArray, Series, World


def select(world: World, name: str, **labels: str) -> list[Series]:
    wanted = set(labels.items())
    return [s for f in world.families for s in f.series if s.name == name and wanted <= set(s.labels)]


def label(series: Series, key: str) -> str:
    return dict(series.labels)[key]


def increase(values: FloatArray, start: int, stop: int) -> float:
    """Counter increase over samples [start, stop], counting a drop as a reset (like PromQL's increase)."""
    window = values[start : stop + 1]
    window = window[~np.isnan(window)]
    if window.size < 2:
        return 0.0
    steps = np.diff(window)
    return float(np.where(steps < 0, window[1:], steps).sum())


def total_increase(series: list[Series], start: int, stop: int) -> float:
    return sum(increase(s.values, start, stop) for s in series)


def index_at(world: World, offset_s: float) -> int:
    """Sample index `offset_s` seconds relative to `end` (negative = before)."""
    return int(np.searchsorted(world.timestamps, world.timestamps[-1] + int(offset_s * 1000)))


def error_ratio(world: World, service: str, start: int, stop: int, pod: str | None = None) -> float:
    extra = {"pod": pod} if pod else {}
    name = "http_server_request_duration_seconds_count"
    failed = total_increase(
        select(world, name, service=service, http_response_status_code="500", **extra), start, stop
    )
    total = total_increase(select(world, name, service=service, **extra), start, stop)
    return failed / total if total else float("nan")


def mean_latency_s(world: World, family: str, start: int, stop: int, **labels: str) -> float:
    seconds = total_increase(select(world, f"{family}_sum", **labels), start, stop)
    count = total_increase(select(world, f"{family}_count", **labels), start, stop)
    return seconds / count if count else float("nan")


def cpu_cores(world: World, service: str, start: int, stop: int) -> float:
    """Mean cores used per running pod over the window."""
    series = select(world, "container_cpu_usage_seconds_total", service=service)
    seconds = (world.timestamps[stop] - world.timestamps[start]) / 1000.0
    used = [
        increase(s.values, start, stop) / seconds
        for s in series
        if not np.isnan(s.values[start : stop + 1]).all()
    ]
    live = [u for u in used if u > 0]
    return float(np.mean(live)) if live else 0.0


def throttled_share(world: World, service: str, start: int, stop: int) -> float:
    throttled = total_increase(
        select(world, "container_cpu_cfs_throttled_periods_total", service=service), start, stop
    )
    periods = total_increase(select(world, "container_cpu_cfs_periods_total", service=service), start, stop)
    return throttled / periods if periods else 0.0


def objects(world: World, kind: str) -> list[dict[str, Any]]:
    return [o for o in world.objects if o["kind"] == kind]


def fingerprint(world: World) -> tuple[list[tuple[str, tuple[tuple[str, str], ...], bytes]], str, str, str]:
    """Everything the world holds, as comparable values: series bytes, objects, logs and spans."""
    series = [(s.name, s.labels, s.values.tobytes()) for f in world.families for s in f.series]
    logs = json.dumps([(log.pod, log.container, log.previous, log.lines) for log in world.logs])
    spans = json.dumps([vars(s) for s in world.spans], default=str)
    return series, json.dumps(world.objects, sort_keys=True), logs, spans
