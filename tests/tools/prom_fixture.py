"""A real Prometheus (Debian's 2.42) over a small hand-made TSDB, for the metric tool tests.

The data (`write_openmetrics`) covers 90 minutes before `AS_OF` at a 15 s step, in namespace `boutique`:
- frontend, checkout, cart: OTel server histograms (2 pods each); frontend's client histograms towards
  checkout and cart;
- checkout has an error burst: 30 % 5xx and slower responses from `BURST_START` (AS_OF - 20m) on;
- cAdvisor CPU/memory/throttling and kube-state-metrics limits, restarts, replicas; one cart pod has been
  OOM-killed three times in the last 30 minutes with memory at its limit;
- `fixture_wide_gauge`: 300 series, to exercise truncation.

Backfilled with `promtool tsdb create-blocks-from openmetrics`, served on 127.0.0.1 (a free port),
stopped by pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

AS_OF = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
BURST_START = AS_OF - timedelta(minutes=20)
HISTORY = timedelta(minutes=90)
STEP_S = 15
NAMESPACE = "boutique"
SERVICES = {"frontend": 40.0, "checkout": 10.0, "cart": 25.0}  # requests per second per pod
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
WIDE_SERIES = 300


def pods_of(service: str) -> list[str]:
    return [f"{service}-7c9d8f6b5-{suffix}" for suffix in ("abcde", "fghij")]


def _times() -> list[int]:
    start = int((AS_OF - HISTORY).timestamp())
    return list(range(start, int(AS_OF.timestamp()) + 1, STEP_S))


def _in_burst(ts: int) -> bool:
    return ts >= BURST_START.timestamp()


def _latency_share(le: float, slow: bool) -> float:
    """Share of requests at or under `le` seconds: median ~20 ms normally, ~300 ms when slow."""
    table = {0.005: 0.05, 0.01: 0.2, 0.025: 0.6, 0.05: 0.9, 0.1: 0.97, 0.25: 0.995, 0.5: 0.999, 1.0: 1.0}
    slow_table = {0.005: 0.0, 0.01: 0.01, 0.025: 0.05, 0.05: 0.1, 0.1: 0.2, 0.25: 0.4, 0.5: 0.8, 1.0: 0.97}
    return (slow_table if slow else table)[le]


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _histogram(
    lines: list[str],
    name: str,
    base: dict[str, str],
    rps: float,
    err_ratio_at: Callable[[int], float],
    slow_at: Callable[[int], bool],
) -> None:
    times = _times()
    for code in ("200", "500"):
        labels = {**base, "http_response_status_code": code}
        counts: list[float] = []
        total = 0.0
        for ts in times:
            err = err_ratio_at(ts)
            total += rps * STEP_S * (err if code == "500" else 1 - err)
            counts.append(total)
        for le in (*BUCKETS, float("inf")):
            le_text = "+Inf" if le == float("inf") else repr(le)
            for ts, count in zip(times, counts, strict=True):
                share = 1.0 if le == float("inf") else _latency_share(le, slow_at(ts))
                lines.append(f"{name}_bucket{_labels(**labels, le=le_text)} {count * share:.3f} {ts}")
        for ts, count in zip(times, counts, strict=True):
            lines.append(f"{name}_count{_labels(**labels)} {count:.3f} {ts}")
        for ts, count in zip(times, counts, strict=True):
            lines.append(f"{name}_sum{_labels(**labels)} {count * 0.03:.3f} {ts}")


def _series(lines: list[str], name: str, labels: dict[str, str], value_at: Callable[[int], float]) -> None:
    lines.extend(f"{name}{_labels(**labels)} {value_at(ts):.6g} {ts}" for ts in _times())


def _linear(start: int, per_second: float) -> Callable[[int], float]:
    """A counter growing at a constant rate from `start`."""
    return lambda ts: (ts - start) * per_second


def _constant(value: float) -> Callable[[int], float]:
    return lambda ts: value


def write_openmetrics(path: Path) -> None:
    """The fixture data as one OpenMetrics file (series whole and in time order, as promtool needs)."""
    lines: list[str] = []
    start = _times()[0]

    def checkout_errors(ts: int) -> float:
        return 0.3 if _in_burst(ts) else 0.001

    lines.append("# TYPE http_server_request_duration_seconds histogram")
    for svc, rps in SERVICES.items():
        bad = svc == "checkout"
        for pod in pods_of(svc):
            base = {"namespace": NAMESPACE, "service": svc, "pod": pod}
            _histogram(
                lines,
                "http_server_request_duration_seconds",
                base,
                rps,
                checkout_errors if bad else (lambda ts: 0.001),
                (lambda ts: _in_burst(ts)) if bad else (lambda ts: False),
            )
    lines.append("# TYPE http_client_request_duration_seconds histogram")
    for callee in ("checkout", "cart"):
        bad = callee == "checkout"
        for pod in pods_of("frontend"):
            base = {"namespace": NAMESPACE, "service": "frontend", "pod": pod, "server_address": callee}
            _histogram(
                lines,
                "http_client_request_duration_seconds",
                base,
                10.0,
                checkout_errors if bad else (lambda ts: 0.001),
                (lambda ts: _in_burst(ts)) if bad else (lambda ts: False),
            )

    oom_pod = pods_of("cart")[0]
    oom_times = [int((AS_OF - timedelta(minutes=m)).timestamp()) for m in (25, 15, 5)]

    def restarts(pod: str) -> Callable[[int], float]:
        return lambda ts: sum(1 for t in oom_times if ts >= t) if pod == oom_pod else 0

    families = {
        "container_cpu_usage_seconds_total": "counter",
        "container_cpu_cfs_periods_total": "counter",
        "container_cpu_cfs_throttled_periods_total": "counter",
        "container_memory_working_set_bytes": "gauge",
        "kube_pod_container_resource_limits": "gauge",
        "kube_pod_container_status_restarts_total": "counter",
        "kube_pod_container_status_last_terminated_reason": "gauge",
    }
    for family, kind in families.items():
        lines.append(f"# TYPE {family.removesuffix('_total')} {kind}")
        for svc in SERVICES:
            for pod in pods_of(svc):
                base = {"namespace": NAMESPACE, "pod": pod, "container": svc}
                hog = svc == "frontend"  # frontend runs hot: 0.9 cores of 1, throttled 40 %
                if family == "container_cpu_usage_seconds_total":
                    _series(lines, family, base, _linear(start, 0.9 if hog else 0.2))
                elif family == "container_cpu_cfs_periods_total":
                    _series(lines, family, base, lambda ts: (ts - start) * 10.0)
                elif family == "container_cpu_cfs_throttled_periods_total":
                    _series(lines, family, base, _linear(start, 4.0 if hog else 0.0))
                elif family == "container_memory_working_set_bytes":
                    full = pod == oom_pod
                    _series(lines, family, base, _constant(530_000_000 if full else 200_000_000))
                elif family == "kube_pod_container_resource_limits":
                    _series(lines, family, {**base, "resource": "cpu", "unit": "core"}, lambda ts: 1)
                    _series(
                        lines, family, {**base, "resource": "memory", "unit": "byte"}, lambda ts: 536_870_912
                    )
                elif family == "kube_pod_container_status_restarts_total":
                    _series(lines, family, base, restarts(pod))
                elif pod == oom_pod:
                    _series(
                        lines,
                        family,
                        {**base, "reason": "OOMKilled"},
                        lambda ts: 1 if ts >= oom_times[0] else 0,
                    )
    lines.append("# TYPE kube_deployment_spec_replicas gauge")
    for svc in SERVICES:
        _series(
            lines, "kube_deployment_spec_replicas", {"namespace": NAMESPACE, "deployment": svc}, lambda ts: 2
        )
    lines.append("# TYPE fixture_wide_gauge gauge")
    recent = [t for t in _times() if t >= AS_OF.timestamp() - 600]
    for shard in range(WIDE_SERIES):
        lines.extend(f'fixture_wide_gauge{{shard="s{shard:03d}"}} {shard} {ts}' for ts in recent)
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class RunningPrometheus:
    url: str
    pid: int


def _binary(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if found is None:
        raise RuntimeError(f"{name} is not installed: run `make system-deps` (apt-get install prometheus)")
    return found


@contextmanager
def running_prometheus(workdir: Path) -> Iterator[RunningPrometheus]:
    """Backfill the fixture data into `workdir` and serve it; stops the server (by pid) on exit."""
    data, tsdb = workdir / "fixture.om", workdir / "tsdb"
    write_openmetrics(data)
    subprocess.run(
        [_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", str(data), str(tsdb)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    config = workdir / "prometheus.yml"
    config.write_text("global: {}\nscrape_configs: []\n")
    port = free_port()
    log = (workdir / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            _binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tsdb}",
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Prometheus did not start; see {workdir / 'prometheus.log'}")
            time.sleep(0.1)
        yield RunningPrometheus(url=url, pid=proc.pid)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
