"""What the world simulator produces: the contract between the simulator and the sandbox.

A `World` is everything a real cluster would show for a scenario, fully materialised in memory:
metric series on a shared time grid, the Kubernetes objects as the API server would return them at
`end`, pod logs, and trace spans. The sandbox writes each part where real tools read it
(OpenMetrics → Prometheus TSDB, objects and logs → the Kubernetes emulator, spans → OTLP JSON lines).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from evals.scenario import Scenario

MetricType = Literal["counter", "gauge", "histogram"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Series:
    """One time series. `values[i]` is the sample at `World.timestamps[i]`; NaN means no sample
    (the series did not exist yet, or no longer did: a pod that was replaced)."""

    name: str  # full sample name, e.g. "http_server_request_duration_seconds_bucket"
    labels: tuple[tuple[str, str], ...]  # sorted by label name
    values: FloatArray


@dataclass(frozen=True)
class MetricFamily:
    """Series that share a metric family (for a histogram: its _bucket, _sum and _count series)."""

    name: str  # family name, e.g. "http_server_request_duration_seconds"
    type: MetricType
    help: str
    series: list[Series]


@dataclass(frozen=True)
class PodLog:
    """Log lines of one container of one pod, each line starting with an RFC 3339 timestamp."""

    namespace: str
    pod: str
    container: str
    lines: list[str]
    previous: bool = False  # the log of the previous (terminated) instance of the container


@dataclass(frozen=True)
class SpanRecord:
    """One span, as plain data. The trace writer turns these into OpenTelemetry SDK spans."""

    trace_id: int  # 128-bit
    span_id: int  # 64-bit
    parent_span_id: int | None
    service: str
    pod: str
    name: str  # e.g. "GET /cart" (server) or "cartservice/GetCart" (client)
    kind: Literal["server", "client", "internal"]
    start_ns: int
    end_ns: int
    error: bool
    attributes: dict[str, str | int | float | bool] = field(default_factory=dict)


@dataclass
class World:
    scenario: Scenario
    timestamps: npt.NDArray[np.int64]  # unix milliseconds, ascending, one per `step`, last = `end`
    families: list[MetricFamily]
    objects: list[dict[str, Any]]  # Kubernetes objects (apiVersion, kind, metadata, spec, status)
    logs: list[PodLog]
    spans: list[SpanRecord]

    @property
    def sample_count(self) -> int:
        return sum(int(np.count_nonzero(~np.isnan(s.values))) for f in self.families for s in f.series)
