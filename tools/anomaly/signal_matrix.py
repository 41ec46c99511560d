"""What the ranking reads: series keyed by entity and signal, on one time grid, from any source."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt

from tools.anomaly.baseline import FloatArray, NoiseModel

SignalKind = Literal["resource", "latency", "errors", "traffic", "other"]
SignalSource = Literal["metrics", "traces", "logs"]

# Signals whose anomaly travels from a callee to its callers; the others are local to the entity.
PROPAGATING_KINDS: frozenset[SignalKind] = frozenset({"latency", "errors", "traffic"})
UPWARD_ONLY_KINDS: frozenset[SignalKind] = frozenset({"latency", "errors"})

_KIND_PATTERNS: tuple[tuple[SignalKind, re.Pattern[str]], ...] = (
    ("errors", re.compile(r"err|5xx|fail|timeout", re.I)),
    ("latency", re.compile(r"lat|duration|response_time|p50|p9\d|delay", re.I)),
    ("traffic", re.compile(r"load|rps|qps|request|throughput|traffic|rate", re.I)),
    ("resource", re.compile(r"cpu|mem|throttl|disk|fs_|io_|net|restart|oom|gc", re.I)),
)
# The noise model a kind implies when a key does not name one (see `baseline.py`).
_KIND_NOISE: dict[SignalKind, NoiseModel] = {"latency": "relative", "errors": "ratio"}


@lru_cache(maxsize=4096)  # called per row on every ranking of an onset search
def infer_kind(signal: str) -> SignalKind:
    """Guess a signal's kind from its name (`cpu`, `latency_p99`, `error_ratio`, `request_rate`, ...).
    Data whose names say nothing (a data set's own abbreviations) tag `SeriesKey.kind` instead."""
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(signal):
            return kind
    return "other"


@dataclass(frozen=True)
class SeriesKey:
    """Which entity a series belongs to and what it measures; `kind` None = inferred from `signal`.
    `source` says which telemetry it was derived from, `detail` what a person needs to read it (a log
    template, a trace operation); both travel to the evidence unchanged. `noise` says how its noise
    is judged (`baseline.py`); None = from the kind: latency `relative`, errors `ratio` (a share in
    [0, 1]), the rest `level`. Event counts per step (log lines, error counts) say `count`; an error
    *rate* per second says `level`. `rises_only` says only a rise is anomalous; None = from the kind
    (latency and errors: getting faster or failing less is not a fault); a cost per unit of work (CPU
    per request) says True. `quantile` names the percentile a latency row reads (0.99) where it is
    computed over whatever requests each step had, as a metrics backend's percentile is: over fewer
    requests than the percentile needs it is the slowest of them (`scoring.request_floor`). `repeats`
    says how many grid points each of its samples fills (a gauge written once a minute, on a 15-s grid:
    4): its baseline is judged on samples, not on their copies."""

    entity: str
    signal: str
    kind: SignalKind | None = None
    source: SignalSource = "metrics"
    detail: str = ""
    noise: NoiseModel | None = None
    rises_only: bool | None = None
    quantile: float | None = None
    repeats: int = 1

    @property
    def resolved_kind(self) -> SignalKind:
        return self.kind if self.kind is not None else infer_kind(self.signal)

    @property
    def resolved_rises_only(self) -> bool:
        return self.rises_only if self.rises_only is not None else self.resolved_kind in UPWARD_ONLY_KINDS

    @property
    def resolved_noise(self) -> NoiseModel:
        return self.noise if self.noise is not None else _KIND_NOISE.get(self.resolved_kind, "level")

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """What makes two keys the same series (on another day, say), whatever kind they were given."""
        return (self.entity, self.signal, self.source, self.detail)


@dataclass(frozen=True)
class SignalMatrix:
    """S series on one time grid: `values[i]` is the series `keys[i]` at `times` (NaN = missing)."""

    times: FloatArray
    keys: Sequence[SeriesKey]
    values: FloatArray

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.values.shape != (len(self.keys), self.times.shape[0]):
            raise ValueError(
                f"values must have shape (len(keys), len(times)) = ({len(self.keys)}, {len(self.times)}),"
                f" got {self.values.shape}"
            )
        if self.times.size > 1 and not np.all(np.diff(self.times) > 0):
            raise ValueError("times must be strictly increasing")

    def joined(self, *others: SignalMatrix) -> SignalMatrix:
        """This matrix with the rows of `others` (on the same time grid) appended: how the traces' and
        logs' series join the metrics' in one ranking."""
        parts = [self, *others]
        for other in others:
            if other.times.shape != self.times.shape or not np.array_equal(other.times, self.times):
                raise ValueError("joined matrices must share one time grid")
        return SignalMatrix(
            times=self.times,
            keys=[k for m in parts for k in m.keys],
            values=np.vstack([m.values for m in parts]),
        )

    def aligned(self, keys: Sequence[SeriesKey]) -> FloatArray:
        """This matrix's values in the order of `keys` (matched by `SeriesKey.identity`); a key it
        does not have is a row of NaN."""
        if list(self.keys) == list(keys):
            return self.values
        index = {k.identity: i for i, k in enumerate(self.keys)}
        out = np.full((len(keys), self.times.size), np.nan)
        for row, key in enumerate(keys):
            i = index.get(key.identity)
            if i is not None:
                out[row] = self.values[i]
        return out

    @classmethod
    def over_periods(cls, *parts: SignalMatrix) -> SignalMatrix:
        """One matrix of the series of every part (matched by identity; a series a part lacks is NaN
        there), their periods one after the other: the week-earlier and day-earlier windows as one
        reference. Parts must not overlap in time (a lookback under a day does not)."""
        ordered = sorted((p for p in parts if p.times.size), key=lambda p: float(p.times[0]))
        if not ordered:
            raise ValueError("over_periods needs at least one part with points")
        keys = list({k.identity: k for p in ordered for k in p.keys}.values())
        times = np.concatenate([p.times for p in ordered])
        if times.size > 1 and not np.all(np.diff(times) > 0):
            raise ValueError("the periods of a reference must not overlap")
        return cls(times=times, keys=keys, values=np.hstack([p.aligned(keys) for p in ordered]))

    @classmethod
    def from_entities(
        cls, times: npt.ArrayLike, series: Mapping[str, Mapping[str, npt.ArrayLike]]
    ) -> SignalMatrix:
        """Build from `{entity: {signal: values}}`, every series on `times`."""
        keys = [SeriesKey(entity, signal) for entity, signals in series.items() for signal in signals]
        rows = [
            np.asarray(values, dtype=np.float64) for signals in series.values() for values in signals.values()
        ]
        t = np.asarray(times, dtype=np.float64)
        matrix = np.vstack(rows) if rows else np.empty((0, t.size))
        return cls(times=t, keys=keys, values=matrix)
