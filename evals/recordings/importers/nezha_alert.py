"""When a real alerting rule on the entry service would have fired: the alert of an imported fault.

The rule, written once and the same for every fault (as a Prometheus rule over the entry's gauges):

    EntryLatencyHigh:     p99 > 2 × quantile_over_time(0.5, p99[1h] offset 10m)   for 2 evaluations
    EntrySuccessRateLow:  success ratio < 0.95                                     for 2 evaluations

Evaluated at each of the entry's samples (one a minute): the alert fires at the sample that completes
the run of `for_samples` consecutive true evaluations, all after the injection, and no later than the
end of the fault's window (5 min after the injection, or the next injection if sooner): a rule that
fires later is answering something else. The baseline sees only the samples the recording keeps
(earlier faults' windows are left out, so it is fault-free) and needs `min_baseline` of them; with
fewer the latency arm cannot fire. A success ratio the source never reports above 0 (Nezha's column is
0 throughout) is not reported at all, and that arm is off. If neither arm fires, the importer asks a
question instead, and the provenance says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class AlertRule:
    latency_factor: float = 2.0
    success_below: float = 0.95
    for_samples: int = 2
    baseline: timedelta = timedelta(hours=1)
    baseline_offset: timedelta = timedelta(minutes=10)
    min_baseline: int = 10

    def describe(self) -> str:
        return (
            f"entry p99 above {self.latency_factor:g}x the median of its fault-free samples over "
            f"{_minutes(self.baseline)} ending {_minutes(self.baseline_offset)} earlier, or entry success ratio "
            f"below {self.success_below:g}, for {self.for_samples} consecutive samples after the injection"
        )


@dataclass(frozen=True)
class Firing:
    alertname: str
    at: float  # unix seconds: the sample that completed the run
    value: float  # the entry's p99 (s) or success ratio at that sample
    baseline: float | None  # the p99 baseline (s), for EntryLatencyHigh


@dataclass(frozen=True)
class EntrySignals:
    times: npt.NDArray[np.float64]  # unix s, ascending
    p99: npt.NDArray[np.float64] | None  # seconds
    success: npt.NDArray[np.float64] | None  # 0..1, None when the source does not report it
    kept: npt.NDArray[np.bool_]  # False inside earlier faults' windows: not in the recording


def first_firing(rule: AlertRule, entry: EntrySignals, injected: float, until: float) -> Firing | None:
    """The first time in (injected, until] the rule fires, or None."""
    arms: list[Firing] = []
    if entry.p99 is not None:
        late = _latency_firing(rule, entry, entry.p99, injected, until)
        if late is not None:
            arms.append(late)
    if entry.success is not None:
        low = entry.kept & (entry.success < rule.success_below)
        at = _run_end(rule, entry.times, low, injected, until)
        if at is not None:
            arms.append(Firing("EntrySuccessRateLow", entry.times[at], float(entry.success[at]), None))
    return min(arms, key=lambda f: f.at) if arms else None


def _latency_firing(
    rule: AlertRule, entry: EntrySignals, p99: npt.NDArray[np.float64], injected: float, until: float
) -> Firing | None:
    window, offset = rule.baseline.total_seconds(), rule.baseline_offset.total_seconds()
    baselines = np.full(len(entry.times), np.nan)
    for i, t in enumerate(entry.times):
        if injected < t <= until:
            inside = (
                entry.kept
                & (entry.times > t - offset - window)
                & (entry.times <= t - offset)
                & ~np.isnan(p99)
            )
            if inside.sum() >= rule.min_baseline:
                baselines[i] = float(np.median(p99[inside]))
    with np.errstate(invalid="ignore"):
        high = entry.kept & (p99 > rule.latency_factor * baselines)
    at = _run_end(rule, entry.times, high, injected, until)
    if at is None:
        return None
    return Firing("EntryLatencyHigh", entry.times[at], float(p99[at]), float(baselines[at]))


def _run_end(
    rule: AlertRule,
    times: npt.NDArray[np.float64],
    true: npt.NDArray[np.bool_],
    injected: float,
    until: float,
) -> int | None:
    run = 0
    for i, t in enumerate(times):
        if t <= injected:
            continue
        if t > until:
            return None
        run = run + 1 if true[i] else 0
        if run >= rule.for_samples:
            return i
    return None


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:g}m"
