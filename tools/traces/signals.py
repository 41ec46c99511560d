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
| trace_calls_to:<callee>    | other    | ratio    | share of the requests of the operations that      |
|                            |          |          | always call the callee that did (1 = as usual):   |
|                            |          |          | an early return makes the calls vanish, whatever  |
|                            |          |          | the mix of operations served (`usual.py`)         |
| trace_unseen_patterns      | other    | count    | requests per step whose pattern (operation, local |
|                            |          |          | operations, calls) is not in the `reference`      |
| trace_log_statements:<op>  | other    | ratio    | share of an operation's requests logging as       |
|                            |          |          | usual: every statement it always writes, no error |
|                            |          |          | or warning it never writes (log lines joined to   |
|                            |          |          | their spans by span id, `span_logs.py`): an       |
|                            |          |          | exception thrown before a statement, or an early  |
|                            |          |          | return saying why, shows per request, whatever    |
|                            |          |          | the load                                          |

Self time is a median: a CPU-starved service slows every request, and the median of a few requests
ignores one slow call. Statistics of a handful of requests are pooled (`tools/traces/pooled.py`): a
bucket reads its own requests, or the latest `min_requests` up to its end (a p90 reads at least 10, so
it is never just the slowest one), none older than `pool_s`, else NaN. New patterns are counted, not
shared out, so one odd request of an idle service is one event, not a jump from 0 % to 20 %. A bucket
in which no span at all was seen is NaN in every row: a gap in collection never reads as traffic
stopping.

The two shares are `ratio` rows (a share in [0, 1], floored at 5 % of its level), not `level` gauges:
a gauge's flat baseline falls back to its standard deviation, so a few points of a dip before the
onset (another fault's lead-in, a fault taking effect before its recorded time) set its scale and
hid a share falling from 1 to 0 (measured on Nezha: 6 sigmas instead of 20); a ratio keeps its floor
and counts such a dip as a burst of its baseline. The statements share is per operation: a method
that throws must not be diluted by the service's other operations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from tools.anomaly.signal_matrix import SignalMatrix
from tools.logs.templates import TemplateMiner
from tools.traces.backend import Span, Trace
from tools.traces.graph import dependency_graph
from tools.traces.pooled import FloatArray, IntArray
from tools.traces.requests import CallerView, Request, ServiceOf, all_requests, by_trace
from tools.traces.span_logs import SpanLogLine, SpanStatements, span_statements
from tools.traces.trace_rows import DEFAULT_TRACE_SIGNALS, TraceRows, TraceSignalConfig
from tools.traces.usual import Usual, new_patterns


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
    spans: list[Span], of: ServiceOf, cfg: TraceSignalConfig, statements: SpanStatements | None = None
) -> tuple[list[Request], list[CallerView]]:
    requests: list[Request] = []
    views: list[CallerView] = []
    for trace_requests, trace_views in all_requests(spans, of, cfg.pattern_items, statements):
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
    logs: Iterable[SpanLogLine] = (),
    reference_logs: Iterable[SpanLogLine] = (),
    config: TraceSignalConfig = DEFAULT_TRACE_SIGNALS,
) -> SignalMatrix:
    """Per-service trace rows (see the module docstring) on `times`, buckets of `step_s` seconds.

    `reference` holds fault-free spans (the same system when healthy): which patterns are known and
    which callees each operation always calls. Without it the unseen-pattern rows are left out and
    the earlier half of the window's requests stands for the usual fan-out and logging. `logs` (and
    `reference_logs`, the reference's lines) joined to their spans by span id tell which statements
    each request wrote: without them there is no `trace_log_statements` row. Rows NaN everywhere are
    left out.
    """
    of = service_of or _own_service
    grid = np.asarray(times, dtype=np.float64)
    span_list, reference_list = list(spans), list(reference)
    covered = np.zeros(grid.size, dtype=bool)
    seen = _buckets(grid, step_s, (s.start_ns for s in span_list))
    covered[seen[seen >= 0]] = True
    miner = TemplateMiner()  # one miner: the reference's and the window's statement ids compare
    reference_said = span_statements(reference_logs, miner) if reference_list else None
    said = span_statements(logs, miner)
    reference_said = reference_said if reference_said and reference_said.covered else None

    requests, views = _requests(span_list, of, config, said if said.covered else None)
    rows = TraceRows(grid, step_s, covered, config)
    request_buckets = _buckets(grid, step_s, (r.start_ns for r in requests))
    by_service: dict[str, list[int]] = defaultdict(list)
    for i in np.flatnonzero(request_buckets >= 0):
        by_service[requests[i].service].append(int(i))
    view_buckets = _buckets(grid, step_s, (v.start_ns for v in views))
    by_callee: dict[str, list[int]] = defaultdict(list)
    for i in np.flatnonzero(view_buckets >= 0):
        by_callee[views[i].callee].append(int(i))
    limit = config.max_reference_patterns
    known = (
        Usual.of(_requests(reference_list, of, config, reference_said)[0], limit) if reference_list else None
    )
    # without a reference, the earlier half of the requests read is taken as usual: the ranking's
    # baseline lies there, and a fault in the later half must not redefine what "always" means. Half of
    # the requests, not of the window: spans kept for the last minutes only (a trace store's retention,
    # a recording) would leave the window's first half empty and nothing usual to compare with. The
    # statements likewise, from the earlier half of each service's requests whose logs were read: a
    # pod's log read from its tail covers only its latest minutes, and its other requests say nothing.
    starts = sorted(r.start_ns for r in requests if r.start_ns >= grid[0] * 1e9) if grid.size else []
    half = starts[len(starts) // 2] if starts else 0
    window = Usual.of(
        (r for r in requests if r.start_ns < half), limit, logged=_earlier_half_logged(requests, grid)
    )
    has_status = any(s.error for s in span_list) or any(s.error for s in reference_list)
    alarming = frozenset(t.id for t in miner.templates() if t.level != "info")
    for service in sorted(set(by_service) | set(by_callee)):
        picked = [requests[i] for i in by_service.get(service, [])]
        buckets = request_buckets[by_service.get(service, [])]
        judged = known is not None and service in known.patterns
        usual = known if known is not None and judged else window
        rows.service(service, picked, buckets, has_status, usual.always_calls.get(service, {}))
        rows.statements(service, picked, buckets, usual, alarming)
        if known is not None and judged:
            rows.unseen(service, [float(known.is_new(r)) for r in picked], buckets)
        waited = [views[i] for i in by_callee.get(service, [])]
        rows.callers(service, waited, view_buckets[by_callee.get(service, [])])
    return rows.matrix()


def _earlier_half_logged(requests: Sequence[Request], grid: np.ndarray) -> list[Request]:
    """Per service, the earlier half of its requests in the window whose logs were read."""
    if not grid.size:
        return []
    logged: dict[str, list[Request]] = defaultdict(list)
    for r in requests:
        if r.wrote is not None and r.start_ns >= grid[0] * 1e9:
            logged[r.service].append(r)
    out: list[Request] = []
    for mine in logged.values():
        mine.sort(key=lambda r: r.start_ns)
        half = mine[len(mine) // 2].start_ns
        out += [r for r in mine if r.start_ns < half]
    return out
