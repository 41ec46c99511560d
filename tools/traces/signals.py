"""Spans turned into per-service rows on the ranking's time grid: the trace source of the ranking.

Each service's requests (`tools/traces/requests.py`) are placed in the grid's left-closed buckets
[t, t + step) by their start, and summarised per bucket (noise: how the ranking judges the row):

| signal                     | kind     | noise    | what it shows                                     |
|----------------------------|----------|----------|---------------------------------------------------|
| trace_latency_p90          | latency  | relative | its response time (its entry spans); propagates   |
| trace_callers_latency_p90  | latency  | relative | its response time as its callers waited for it    |
|                            |          |          | (their client spans): network delay shows here,   |
|                            |          |          | not above                                         |
| trace_self_time_p50        | resource | relative | time in its own code per request, calls excluded: |
|                            |          |          | a CPU-starved service; local to it                |
| trace_requests             | traffic  | count    | requests it served per step, of the traces read   |
| trace_error_ratio          | errors   | ratio    | share of its requests with an error span; only    |
|                            |          |          | when the spans carry a status (Nezha's do not)    |
| trace_calls_to:<callee>    | other    | level    | share of the requests of the operations that      |
|                            |          |          | always call the callee that did (1 = as usual):   |
|                            |          |          | an early return makes the calls vanish, whatever  |
|                            |          |          | the mix of operations served (`usual.py`)         |
| trace_unseen_patterns      | other    | count    | requests per step whose pattern (operation, local |
|                            |          |          | operations, calls) is not in the `reference`      |

Self time is a median: a CPU-starved service slows every request, and the median of a few requests
ignores one slow call. Statistics of a handful of requests are pooled (`tools/traces/pooled.py`): a
bucket reads its own requests, or the latest `min_requests` up to its end (a p90 reads at least 10, so
it is never just the slowest one), none older than `pool_s`, else NaN. New patterns are counted, not
shared out, so one odd request of an idle service is one event, not a jump from 0 % to 20 %. A bucket
in which no span at all was seen is NaN in every row: a gap in collection never reads as traffic
stopping.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tools.anomaly.baseline import NoiseModel
from tools.anomaly.signal_matrix import SeriesKey, SignalKind, SignalMatrix
from tools.traces.backend import Span, Trace
from tools.traces.graph import dependency_graph
from tools.traces.pooled import FloatArray, IntArray, Stream
from tools.traces.requests import CallerView, Request, ServiceOf, all_requests, by_trace
from tools.traces.usual import Usual, new_patterns


@dataclass(frozen=True)
class TraceSignalConfig:
    """Round defaults, one for every data set."""

    latency_quantile: float = 0.9
    self_time_quantile: float = 0.5
    min_requests: int = 5  # fewer in a bucket: pool the latest ones; fewer within `pool_s`: NaN
    pool_s: float = 300.0
    pattern_items: int = 24  # most local operations / calls one request's pattern keeps
    max_reference_patterns: int = 50_000  # bound on the distinct reference patterns kept in memory

    def need(self, quantile: float) -> int:
        """Requests a quantile reads at least: `min_requests`, and 1/(1-q) so a p90 is not the maximum."""
        return max(self.min_requests, math.ceil(round(1 / (1 - quantile), 6))) if quantile < 1 else 10**9


DEFAULT_TRACE_SIGNALS = TraceSignalConfig()


def _own_service(span: Span) -> str:
    return span.service


def trace_calls(spans: Iterable[Span], service_of: ServiceOf | None = None) -> dict[str, list[str]]:
    """Caller -> callees seen in `spans` (the `calls` of the ranking), from the dependency graph."""

    def renamed(span: Span) -> Span:
        service = service_of(span) if service_of is not None else span.service
        return span if service == span.service else span.model_copy(update={"service": service})

    traces = [
        Trace(trace_id=tid, spans=[renamed(s) for s in group]) for tid, group in by_trace(list(spans)).items()
    ]
    calls: dict[str, list[str]] = defaultdict(list)
    for edge in dependency_graph(traces, window_s=1.0):
        calls[edge.caller].append(edge.callee)
    return {caller: sorted(callees) for caller, callees in calls.items()}


def _buckets(times: FloatArray, step_s: float, start_ns: Iterable[int]) -> IntArray:
    """The left-closed bucket [t, t + step) holding each start, or -1 outside the grid."""
    t = np.fromiter(start_ns, dtype=np.float64) / 1e9
    if times.size == 0:
        return np.full(t.size, -1, dtype=np.int64)
    i = np.searchsorted(times, t, side="right").astype(np.int64) - 1
    inside = (i >= 0) & (t < times[np.maximum(i, 0)] + step_s)
    return np.where(inside, i, -1)


def _requests(
    spans: list[Span], of: ServiceOf, cfg: TraceSignalConfig
) -> tuple[list[Request], list[CallerView]]:
    requests: list[Request] = []
    views: list[CallerView] = []
    for trace_requests, trace_views in all_requests(spans, of, cfg.pattern_items):
        requests += trace_requests
        views += trace_views
    return requests, views


def unseen_patterns(
    spans: Iterable[Span],
    reference: Iterable[Span],
    service_of: ServiceOf | None = None,
    *,
    top: int = 3,
    config: TraceSignalConfig = DEFAULT_TRACE_SIGNALS,
) -> dict[str, list[tuple[str, int]]]:
    """Per service of the reference, its most frequent request patterns in `spans` that the reference
    never shows, described for a person, with how many requests had each (what the
    `trace_unseen_patterns` row counted)."""
    of = service_of or _own_service
    usual = Usual.of(_requests(list(reference), of, config)[0], config.max_reference_patterns)
    return new_patterns(_requests(list(spans), of, config)[0], usual, top)


def trace_signals(
    spans: Iterable[Span],
    times: npt.ArrayLike,
    step_s: float,
    service_of: ServiceOf | None = None,
    reference: Iterable[Span] = (),
    *,
    config: TraceSignalConfig = DEFAULT_TRACE_SIGNALS,
) -> SignalMatrix:
    """Per-service trace rows (see the module docstring) on `times`, buckets of `step_s` seconds.

    `reference` holds fault-free spans (the same system when healthy): which patterns are known and
    which callees each operation always calls. Without it the unseen-pattern rows are left out and
    the first half of the window stands for the usual fan-out. Rows NaN everywhere are left out.
    """
    of = service_of or _own_service
    grid = np.asarray(times, dtype=np.float64)
    span_list, reference_list = list(spans), list(reference)
    covered = np.zeros(grid.size, dtype=bool)
    seen = _buckets(grid, step_s, (s.start_ns for s in span_list))
    covered[seen[seen >= 0]] = True

    requests, views = _requests(span_list, of, config)
    rows = _Rows(grid, step_s, covered, config)
    request_buckets = _buckets(grid, step_s, (r.start_ns for r in requests))
    by_service: dict[str, list[int]] = defaultdict(list)
    for i in np.flatnonzero(request_buckets >= 0):
        by_service[requests[i].service].append(int(i))
    view_buckets = _buckets(grid, step_s, (v.start_ns for v in views))
    by_callee: dict[str, list[int]] = defaultdict(list)
    for i in np.flatnonzero(view_buckets >= 0):
        by_callee[views[i].callee].append(int(i))
    limit = config.max_reference_patterns
    known = Usual.of(_requests(reference_list, of, config)[0], limit) if reference_list else None
    # without a reference, the first half of the window is taken as usual: the ranking's baseline
    # lies there, and a fault in the second half must not redefine what "always" means
    half = (grid[0] + (grid[-1] + step_s - grid[0]) / 2) * 1e9 if grid.size else 0.0
    window = Usual.of((r for r in requests if r.start_ns < half), limit)
    has_status = any(s.error for s in span_list) or any(s.error for s in reference_list)
    for service in sorted(set(by_service) | set(by_callee)):
        picked = [requests[i] for i in by_service.get(service, [])]
        buckets = request_buckets[by_service.get(service, [])]
        judged = known is not None and service in known.patterns
        usual = known if known is not None and judged else window
        rows.service(service, picked, buckets, has_status, usual.always_calls.get(service, {}))
        if known is not None and judged:
            rows.unseen(service, [float(known.is_new(r)) for r in picked], buckets)
        waited = [views[i] for i in by_callee.get(service, [])]
        rows.callers(service, waited, view_buckets[by_callee.get(service, [])])
    return rows.matrix()


class _Rows:
    """The rows being built, in a stable order (per service: latency, self time, traffic, errors,
    fan-out, patterns, callers' view). Details are fixed texts: a row matches the same row of another
    period (a reference day) by entity, signal and detail."""

    def __init__(
        self, times: FloatArray, step_s: float, covered: npt.NDArray[np.bool_], cfg: TraceSignalConfig
    ):
        self.times, self.step_s, self.covered, self.cfg = times, step_s, covered, cfg
        self.ends = times + step_s
        self.keys: list[SeriesKey] = []
        self.values: list[FloatArray] = []

    def add(
        self,
        key: tuple[str, str, SignalKind, NoiseModel | None],
        detail: str,
        row: FloatArray,
        rises_only: bool | None = None,
    ) -> None:
        service, signal, kind, noise = key
        row = np.where(self.covered, row, np.nan)
        if not np.all(np.isnan(row)):
            self.keys.append(
                SeriesKey(
                    entity=service,
                    signal=signal,
                    kind=kind,
                    source="traces",
                    detail=detail,
                    noise=noise,
                    rises_only=rises_only,
                )
            )
            self.values.append(row)

    def _stream(self, starts_ns: list[int], buckets: IntArray) -> Stream:
        starts = np.asarray(starts_ns, dtype=np.float64) / 1e9
        return Stream(starts, np.asarray(buckets, dtype=np.int64), self.ends)

    def service(
        self,
        service: str,
        requests: list[Request],
        buckets: IntArray,
        has_status: bool,
        usual_calls: dict[str, frozenset[str]],
    ) -> None:
        if not requests:
            return
        cfg, pool_s, need = self.cfg, self.cfg.pool_s, self.cfg.min_requests
        stream = self._stream([r.start_ns for r in requests], buckets)
        q, q_self = cfg.latency_quantile, cfg.self_time_quantile
        p, p_self = f"p{round(q * 100)}", f"p{round(q_self * 100)}"
        latency = stream.quantile(np.asarray([r.latency_ms for r in requests]), q, cfg.need(q), pool_s)
        self.add(
            (service, f"trace_latency_{p}", "latency", "relative"),
            f"{p} response time of {service}'s requests (its server spans), ms",
            latency,
        )
        own = np.asarray([r.self_ms for r in requests])
        self.add(
            (service, f"trace_self_time_{p_self}", "resource", "relative"),
            f"{p_self} time per request in {service}'s own spans (the calls it made excluded), ms",
            stream.quantile(own, q_self, cfg.need(q_self), pool_s),
            rises_only=True,  # a service whose own work got faster is not at fault
        )
        counts = np.bincount(buckets, minlength=self.times.size).astype(np.float64)
        self.add(
            (service, "trace_requests", "traffic", "count"),
            f"requests {service} served per {self.step_s:g} s, in the traces read",
            counts,
        )
        if has_status:
            errors = np.asarray([float(r.error) for r in requests])
            self.add(
                (service, "trace_error_ratio", "errors", "ratio"),
                f"share of {service}'s requests with an error span",
                stream.mean(errors, need, pool_s),
            )
        for callee in sorted({c for callees in usual_calls.values() for c in callees}):
            # the requests of the operations that always call `callee`: did they?
            picked = [i for i, r in enumerate(requests) if callee in usual_calls.get(r.pattern[0], ())]
            called = np.asarray([float(callee in requests[i].calls) for i in picked])
            subset = self._stream([requests[i].start_ns for i in picked], buckets[picked])
            self.add(
                (service, f"trace_calls_to:{callee}", "other", "level"),
                f"share of {service}'s requests calling {callee}, of the operations that always do"
                " (1 = as usual, 0 = the calls vanished)",
                subset.mean(called, need, pool_s),
            )

    def unseen(self, service: str, new: list[float], buckets: IntArray) -> None:
        self.add(
            (service, "trace_unseen_patterns", "other", "count"),
            f"requests of {service} per {self.step_s:g} s whose pattern (operation, local operations,"
            " calls) never appears in the fault-free reference",
            np.bincount(buckets, weights=np.asarray(new), minlength=self.times.size).astype(np.float64),
        )

    def callers(self, service: str, views: list[CallerView], buckets: IntArray) -> None:
        if not views:
            return
        q = self.cfg.latency_quantile
        p = f"p{round(q * 100)}"
        stream = self._stream([v.start_ns for v in views], buckets)
        waited = stream.quantile(np.asarray([v.ms for v in views]), q, self.cfg.need(q), self.cfg.pool_s)
        self.add(
            (service, f"trace_callers_latency_{p}", "latency", "relative"),
            f"{p} time callers waited for {service} (their client spans, network included), ms",
            waited,
        )

    def matrix(self) -> SignalMatrix:
        values = np.vstack(self.values) if self.values else np.empty((0, self.times.size))
        return SignalMatrix(times=self.times, keys=self.keys, values=values)
