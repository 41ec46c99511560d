"""Nezha's Train Ticket data (IntelligentDDS/Nezha) in the common case model, from its own layout.

Every day under `rca_data/` with its fault list (`nezha_layout` reads the layout: `inject_time` as
UTC, never the wrong `inject_timestamp`), `construct_data/<day>/` as the fault-free reference. Per
fault, as `medic import nezha` builds its recordings:
- the fault window runs from the injection for 5 minutes, or to the next injection if sooner; earlier
  faults' windows are blanked (NaN, no spans, no lines) so the history is never another fault's;
- `latest` is when one alert rule on the entry (`nezha_alert`, fed by `metric/front_service.csv`)
  fires within the window, else the window's end; everything is cut at `latest`;
- the grid is the shipped tool's default: 15-s points over a 2-h lookback ending at `latest`; a metric
  row (one a minute) holds the points after it until the next, as a range query reads a gauge; trace
  and log rows count what happened in the 15 s before each point, and a metric row's baseline is
  judged on its samples (`SeriesKey.repeats`). With the metrics alone the grid is their samples' (a
  point a minute). Both as the tool ranks them (`tools.anomaly.resolution`);
- metric rows per pod (`<pod>_metric.csv`), entity = the pod's workload, in the shipped vocabulary:
  server latency p99 → `latency_p99` (p90/p95 → `latency_p90/p95`, not ranked); client latency
  (the pod's own outgoing calls, no callee named) → `outbound_latency_p*` (no ranked signal means
  this); workload → `request_rate`; CPU → `cpu` cores and, as the tool's fetch derives it,
  `cpu_per_request` (`tools.anomaly.signals.cpu_per_request`); CPU and memory usage rates (percent of the limit) → `cpu_vs_limit`,
  `memory_vs_limit`; success rate → `error_ratio` = 1 − rate/100, only where the table ever reports
  it above 0 (the published column is 0 throughout: not reported); other pod columns by their own
  snake-case names; the node's columns are left out (node usage is not a signal the tool ranks);
- trace rows (`tools.traces.signals.trace_signals`) and log rows (`tools.logs.signals`) from the
  window's minute files, with the construct stretch's spans and lines as their reference, joined
  in `case_model.joined`; minutes no file covers stay NaN (not read is not zero);
- calls from the spans (construct stretch and the window's own), as the tool reads them from traces.
Healthy windows: every 10 minutes of the day, a 5-minute window lying 10 minutes clear of every fault
window (and its 5-minute tail), built the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from evals.bench.rca.case_model import (
    Calls,
    CaseWindow,
    FloatArray,
    RcaCase,
    Source,
    joined,
    matrix_from_rows,
    merge_calls,
)
from evals.bench.rca.nezha_sources import SourceRows, read_sources
from evals.recordings.importers.nezha_alert import AlertRule, EntrySignals, first_firing
from evals.recordings.importers.nezha_layout import (
    Day,
    Table,
    find_days,
    front_table,
    pod_tables,
    read_faults,
    workload_of,
)
from evals.recordings.importers.nezha_metrics import front_p99, front_success, success_reported
from tools.anomaly.rank import SeriesKey, SignalKind, SignalMatrix
from tools.anomaly.resolution import on_ranking_grid
from tools.anomaly.signals import cpu_per_request, metric_key

STEP_S = 15.0  # the shipped tool's default range-query step
MAX_SAMPLE_AGE_S = 90.0  # a 60-s row stands for the points until the next one, a missing one leaves a gap
LOOKBACK_S = 2 * 3600.0  # the shipped tool's default lookback
FAULT_WINDOW_S = 300.0
HEALTHY_STRIDE_S = 600.0
HEALTHY_CLEARANCE_S = 600.0
_LATENCY = re.compile(r"^Pod(Server|Client)LatencyP(\d+)\(s\)$")
_FIXED: dict[str, tuple[str, SignalKind, float]] = {
    "PodWorkload(Ops)": ("request_rate", "traffic", 1.0),
    "CpuUsage(m)": ("cpu", "resource", 1e-3),
    "CpuUsageRate(%)": ("cpu_vs_limit", "resource", 0.01),
    "MemoryUsageRate(%)": ("memory_vs_limit", "resource", 0.01),
    "MemoryUsage(Mi)": ("memory_bytes", "resource", 2.0**20),
}
_SUCCESS = "PodSuccessRate(%)"


@dataclass(frozen=True)
class DayData:
    day: Day
    injections: tuple[float, ...]
    pods: tuple[Table, ...]
    front: Table | None


@lru_cache(maxsize=2)
def day_data(day: Day) -> DayData:
    faults = read_faults(day)
    pods = pod_tables(day)
    if not pods:
        raise FileNotFoundError(f"{day.folder / 'metric'}: no <pod>_metric.csv files")
    return DayData(day, tuple(f.at.timestamp() for f in faults), tuple(pods), front_table(day))


def _snake(column: str) -> str:
    text = re.sub(r"\(%\)", "_percent", column)
    text = re.sub(r"\((\w+)\)", r"_\1", text)
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _signal(column: str) -> tuple[str, SignalKind, float] | None:
    latency = _LATENCY.match(column)
    if latency:
        side = "latency" if latency[1] == "Server" else "outbound_latency"
        return f"{side}_p{latency[2]}", "latency", 1.0
    if column.startswith("Node"):
        return None
    return _FIXED.get(column) or (_snake(column), "resource", 1.0)


def _placer(
    table: Table, ends: FloatArray, latest: float, blocked: list[tuple[float, float]]
) -> Callable[[FloatArray], FloatArray]:
    """Puts a column of `table` on the grid as a range query at `STEP_S` reads a gauge: each point holds
    the latest sample taken at or before it (none older than `MAX_SAMPLE_AGE_S`), samples taken after
    `latest` or inside an earlier fault's window left out."""
    taken = table.times <= latest
    for lo, hi in blocked:
        taken &= ~((table.times >= lo) & (table.times < hi))
    times = table.times[taken]
    index = np.searchsorted(times, ends, side="right") - 1
    fresh = (
        (index >= 0) & (ends - times[np.maximum(index, 0)] <= MAX_SAMPLE_AGE_S)
        if times.size
        else np.zeros(ends.size, dtype=bool)
    )

    def on_grid(values: FloatArray) -> FloatArray:
        out = np.full(ends.size, np.nan)
        out[fresh] = values[taken][index[fresh]]
        return out

    return on_grid


def metric_matrices(
    data: DayData, ends: FloatArray, latest: float, blocked: list[tuple[float, float]]
) -> tuple[SignalMatrix, SignalMatrix]:
    """(rows in the shipped vocabulary, raw columns) of every pod on `ends`."""
    rows: list[tuple[SeriesKey, FloatArray]] = []
    raw: list[tuple[SeriesKey, FloatArray]] = []
    for table in data.pods:
        service = workload_of(table.label)
        on_grid = _placer(table, ends, latest, blocked)
        for column, values in table.columns.items():
            if column.startswith("Node"):
                continue
            raw.append((SeriesKey(service, column), on_grid(values)))
            if column == _SUCCESS:
                if success_reported(table):
                    rows.append((metric_key(service, "error_ratio", "errors"), on_grid(1.0 - values / 100.0)))
                continue
            named = _signal(column)
            if named is not None:
                signal, kind, scale = named
                rows.append((metric_key(service, signal, kind), on_grid(values * scale)))
        load, cpu = table.columns.get("PodWorkload(Ops)"), table.columns.get("CpuUsage(m)")
        if load is not None and cpu is not None:
            per_request = cpu_per_request(on_grid(cpu / 1000.0), on_grid(load))
            rows.append((metric_key(service, "cpu_per_request", "resource"), per_request))
    return matrix_from_rows(ends, rows), matrix_from_rows(ends, raw)


def alert_time(
    data: DayData, injected: float, until: float, blocked: list[tuple[float, float]]
) -> float | None:
    """When the entry's alert rule fires in (injected, until], on samples outside earlier faults."""
    front = data.front
    if front is None:
        return None
    kept = np.ones(front.times.size, dtype=bool)
    for lo, hi in blocked:
        kept &= ~((front.times >= lo) & (front.times < hi))
    firing = first_firing(
        AlertRule(), EntrySignals(front.times, front_p99(front), front_success(front), kept), injected, until
    )
    return float(firing.at) if firing else None


def build_window(day: Day, injected: float, until: float, sources: frozenset[Source]) -> CaseWindow:
    """The window of a fault injected at `injected` (or a healthy window starting there)."""
    data = day_data(day)
    blocked = [(t, min(t + FAULT_WINDOW_S, injected)) for t in data.injections if t < injected]
    latest = alert_time(data, injected, until, blocked) or until
    first = min(float(t.times[0]) for t in data.pods)
    start = max(np.ceil((latest - LOOKBACK_S) / STEP_S), np.ceil(first / STEP_S)) * STEP_S
    ends = np.arange(start, np.floor(latest / STEP_S) * STEP_S + 1.0, STEP_S)
    blank = np.zeros(ends.size, dtype=bool)
    for lo, hi in blocked:
        blank |= (ends > lo) & (ends - STEP_S < hi)
    metrics, raw = metric_matrices(data, ends, latest, blocked)
    metrics.values[:, blank] = np.nan  # a sample from before an earlier fault must not run into it
    raw.values[:, blank] = np.nan
    extra: SourceRows = read_sources(day, ends, STEP_S, latest, blocked, blank, sources)
    events = [rows for rows in extra.rows if rows.keys]
    metrics, _ = on_ranking_grid(metrics, bool(events))  # the grid the tool ranks these rows on
    calls: Calls = merge_calls(*extra.calls)
    return CaseWindow(
        matrix=joined([metrics, *events]),
        raw=raw,
        calls=calls,
        injected=injected,
        latest=latest,
        reference=joined(extra.reference) if extra.reference else None,
    )


def fault_window(day: Day, index: int, sources: frozenset[Source]) -> CaseWindow:
    injections = day_data(day).injections
    injected = injections[index]
    later = [t for t in injections if t > injected]
    return build_window(day, injected, min([injected + FAULT_WINDOW_S, *later]), sources)


def nezha_cases(root: Path) -> Iterator[RcaCase]:
    """Every fault of every day, in injection order."""
    for day in _days(root):
        for index, fault in enumerate(read_faults(day)):
            name = f"{day.name}/{fault.at:%H%M%S}-{fault.service}"
            yield RcaCase(
                name, fault.service, fault.type, partial(fault_window, day, index), {"day": day.name}
            )


def healthy_onsets(data: DayData) -> list[float]:
    """Onsets every `HEALTHY_STRIDE_S` whose 5-minute window lies `HEALTHY_CLEARANCE_S` clear of every
    fault window and its tail, with half an hour of data before it."""
    first = min(float(t.times[0]) for t in data.pods) + 1800.0
    last = max(float(t.times[-1]) for t in data.pods) - FAULT_WINDOW_S
    faulty = [
        (t - HEALTHY_CLEARANCE_S, t + 2 * FAULT_WINDOW_S + HEALTHY_CLEARANCE_S) for t in data.injections
    ]
    onsets = np.arange(np.ceil(first / HEALTHY_STRIDE_S) * HEALTHY_STRIDE_S, last, HEALTHY_STRIDE_S)
    return [float(o) for o in onsets if not any(lo < o + FAULT_WINDOW_S and o < hi for lo, hi in faulty)]


def nezha_healthy(root: Path) -> Iterator[RcaCase]:
    for day in _days(root):
        for onset in healthy_onsets(day_data(day)):
            name = f"{day.name}/healthy-{int(onset)}"
            yield RcaCase(
                name,
                None,
                "healthy",
                partial(build_window, day, onset, onset + FAULT_WINDOW_S),
                {"day": day.name},
            )


def _days(root: Path) -> list[Day]:
    if not root.is_dir():
        raise FileNotFoundError(
            f"{root}: not a folder (expected the Nezha data: rca_data/<day>/<day>-fault_list.json)"
        )
    return find_days(root)
