"""The rows `tools/traces/signals.py` builds, one service at a time, and the round defaults they use.

Details are fixed texts: a row matches the same row of another period (a reference day) by entity,
signal and detail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tools.anomaly.baseline import NoiseModel
from tools.anomaly.signal_matrix import SeriesKey, SignalKind, SignalMatrix
from tools.traces.pooled import FloatArray, IntArray, Stream
from tools.traces.requests import CallerView, Request
from tools.traces.usual import Usual


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


class TraceRows:
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
                (service, f"trace_calls_to:{callee}", "other", "ratio"),
                f"share of {service}'s requests calling {callee}, of the operations that always do"
                " (1 = as usual, 0 = the calls vanished)",
                subset.mean(called, need, pool_s),
            )

    def statements(
        self,
        service: str,
        requests: list[Request],
        buckets: IntArray,
        usual: Usual,
        alarming: frozenset[int],
    ) -> None:
        """Per operation whose logging is known: the share of its requests (those whose logs were read)
        that logged as usual: every statement it always writes, and no error or warning statement
        (`alarming`) it never writes. 1 as usual; 0 when the code throws or returns before its usual
        statements, or says why it failed, whatever the load. Per operation, not per service: a fault
        in one method must not be diluted by the service's other operations."""
        always, ever = usual.always_writes.get(service, {}), usual.ever_writes.get(service, {})
        for op in sorted(ever):
            picked = [i for i, r in enumerate(requests) if r.wrote is not None and r.pattern[0] == op]
            if not picked:
                continue
            wrote = [requests[i].wrote or frozenset() for i in picked]
            usual_ = np.asarray([float(always[op] <= w and not (w - ever[op]) & alarming) for w in wrote])
            stream = self._stream([requests[i].start_ns for i in picked], buckets[picked])
            self.add(
                (service, f"trace_log_statements:{op}", "other", "ratio"),
                f"share of {service}'s {op} requests logging as usual: the statements it always writes,"
                " no error it never writes (1 = as usual, 0 = thrown or returned before them)",
                stream.mean(usual_, self.cfg.min_requests, self.cfg.pool_s),
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
