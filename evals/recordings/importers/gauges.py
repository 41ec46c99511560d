"""Imported metrics as OpenMetrics text: the names of the percentile-gauge convention and a writer.

Datasets such as PetShop (CloudWatch/X-Ray) and Nezha (pod percentiles) carry latency percentiles,
request rates and success rates as gauges, not OpenTelemetry histograms. The importers write them
under the names the "percentile-gauges" metric profile reads (`tools.metrics.conventions`): every
family carries `namespace` and `service`; per-pod series add `pod`; percentiles add `quantile`
("0.5", "0.9", "0.95", "0.99", as the profile's templates render them).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evals.sandbox.openmetrics import escape_label_value

# read by the percentile-gauges profile
LATENCY = "request_latency_seconds"  # {quantile}: latency of the requests the service served
SUCCESS = "request_success_ratio"  # 0..1: share of its requests that succeeded
REQUESTS = "requests_per_second"  # requests served per second
# kept for the planner and people; no profile template reads them (yet)
LATENCY_AVERAGE = "request_latency_average_seconds"  # mean latency, when the source has one
CLIENT_LATENCY = "client_request_latency_seconds"  # {quantile}: latency of the calls a pod made

HELP = {
    LATENCY: "latency percentile of the requests the service served, seconds",
    LATENCY_AVERAGE: "mean latency of the requests the service served, seconds",
    CLIENT_LATENCY: "latency percentile of the calls the pod made to other services, seconds",
    REQUESTS: "requests the service served per second",
    SUCCESS: "share of the service's requests that succeeded (0 to 1)",
}

Labels = tuple[tuple[str, str], ...]


@dataclass
class _Family:
    kind: str
    help: str
    series: dict[Labels, dict[float, float]] = field(default_factory=lambda: defaultdict(dict))


class MetricsFile:
    """Samples collected in any order, written as one OpenMetrics file: each family's lines together,
    each series in time order, one sample per instant (the first added wins), NaN left out (a value
    the data lacks is not a gap: `write` marks the gaps)."""

    def __init__(self) -> None:
        self._families: dict[str, _Family] = {}

    def add(
        self,
        name: str,
        labels: dict[str, str],
        at: float,
        value: float,
        *,
        kind: str = "gauge",
        help: str = "",
    ) -> None:
        """`at` in unix seconds. A counter's `name` ends in `_total`, as its samples do."""
        if math.isnan(value):
            return
        family = self._families.get(name)
        if family is None:
            family = self._families[name] = _Family(kind, help or HELP.get(name, ""))
        samples = family.series[tuple(sorted(labels.items()))]
        samples.setdefault(at, value)

    def __len__(self) -> int:
        return sum(len(s) for f in self._families.values() for s in f.series.values())

    def latest(self) -> float | None:
        """The latest sample time, or None when empty."""
        times = [max(s) for f in self._families.values() for s in f.series.values() if s]
        return max(times) if times else None

    def write(self, path: Path, gaps: Sequence[float] = ()) -> int:
        """Write every sample; returns how many. `gaps` are where stretches of the data were left out:
        each series with a sample before one gets a NaN there, as a scrape that stops leaves its
        series stale. Backfilled samples carry no staleness, and without the NaN a query would read the
        last sample before the gap for five minutes into it, as if it had been measured there."""
        path.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with path.open("w", encoding="utf-8") as out:
            for name in sorted(self._families):
                family = self._families[name]
                declared = name.removesuffix("_total") if family.kind == "counter" else name
                out.write(f"# TYPE {declared} {family.kind}\n")
                if family.help:
                    out.write(f"# HELP {declared} {family.help}\n")
                for labels in sorted(family.series):
                    prefix = name + _label_text(labels)
                    measured = family.series[labels]
                    first = min(measured, default=math.inf)
                    samples = {**{g: math.nan for g in gaps if g > first}, **measured}
                    out.writelines(f"{prefix} {_number(samples[t])} {_stamp(t)}\n" for t in sorted(samples))
                    written += len(samples)
            out.write("# EOF\n")
        return written


def _label_text(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels) + "}"


def _stamp(seconds: float) -> str:
    """Whole milliseconds (what the TSDB keeps), rounded DOWN: a sample at as_of must not move past it."""
    ms = round(seconds * 1e6) // 1000
    return f"{ms / 1000:.3f}".rstrip("0").rstrip(".")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return f"{value:.12g}"
