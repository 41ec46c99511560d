"""One case model for every RCA data set: what a method is told about a fault (or a healthy window).

A loader per format (`cases_sockshop.py`, `cases_petshop.py`, `cases_nezha.py`) reads the data set's
own layout and yields `RcaCase`s whose `load(sources)` builds the case's `CaseWindow` only when a
method asks for it, so a day of traces and logs is never all in memory at once.

Times are unix seconds. Every row of a window's matrix is stamped at the END of the interval it
describes (as a Prometheus range query stamps a rate), so "at or after the onset" means "describes
time after the onset".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from evals.bench.rca.traversal import TraversalInput
from tools.anomaly.rank import SeriesKey, SignalMatrix

Source = Literal["metrics", "traces", "logs"]
ALL_SOURCES: tuple[Source, ...] = ("metrics", "traces", "logs")
Calls = dict[str, list[str]]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SloTarget:
    """The service-level objective whose violation raised the incident (PetShop's `target.json`)."""

    node: str
    metric: str  # the data set's metric name, e.g. latency or availability
    statistic: str  # e.g. Average, p99
    at: float  # when the data set says it was violated


@dataclass(frozen=True)
class CaseWindow:
    """What the methods read of one case.

    `matrix`: the ranking's input, metric rows in the shipped tool's signal vocabulary and, when
    asked for, trace and log rows, cut at `latest` (what the tool could have read). `raw`: the data
    set's own metric columns over the same grid, for peers that read raw columns (BARO).
    `reference`: the same keys over fault-free data recorded apart from the incident, when the data
    set has some (a row's baseline where the window has too few points before the onset).
    `injected`: the fault's start (the onset papers are given); `latest`: what the shipped tool would
    know (the alert, or the end of the fault window when nothing fires).
    """

    matrix: SignalMatrix
    raw: SignalMatrix
    calls: Calls
    injected: float
    latest: float
    reference: SignalMatrix | None = None
    target: SloTarget | None = None
    traversal: TraversalInput | None = None  # the anomaly-traversal baseline's input, where it applies


@dataclass(frozen=True)
class RcaCase:
    """One labelled fault, or one healthy window (`cause` None, `fault` "healthy")."""

    name: str
    cause: str | None
    fault: str
    load: Callable[[frozenset[Source]], CaseWindow] = field(repr=False, compare=False)
    groups: Mapping[str, str] = field(default_factory=dict)  # other breakdowns, e.g. scenario

    @property
    def healthy(self) -> bool:
        return self.cause is None


def joined(parts: Sequence[SignalMatrix]) -> SignalMatrix:
    """The one place where trace and log rows join the metric rows: `SignalMatrix.joined` on one grid."""
    first, *others = parts
    return first.joined(*others) if others else first


def matrix_from_rows(times: FloatArray, rows: Iterable[tuple[SeriesKey, FloatArray]]) -> SignalMatrix:
    """A matrix from `(key, values)` pairs on `times` (an empty matrix when there are none)."""
    pairs = list(rows)
    values = np.vstack([v for _, v in pairs]) if pairs else np.empty((0, times.size))
    return SignalMatrix(times=times, keys=[k for k, _ in pairs], values=values)


def cut(matrix: SignalMatrix, start: float, end: float) -> SignalMatrix:
    """The columns of `matrix` with `start <= time <= end`."""
    keep = (matrix.times >= start) & (matrix.times <= end)
    return SignalMatrix(times=matrix.times[keep], keys=list(matrix.keys), values=matrix.values[:, keep])


def metric_rows(matrix: SignalMatrix) -> SignalMatrix:
    """Only the rows read from metrics."""
    rows = [i for i, k in enumerate(matrix.keys) if k.source == "metrics"]
    return SignalMatrix(times=matrix.times, keys=[matrix.keys[i] for i in rows], values=matrix.values[rows])


def parse_sources(text: str) -> frozenset[Source]:
    """`metrics,traces,logs` (any subset, metrics always included: the other rows join the metrics')."""
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(names - set(ALL_SOURCES))
    if unknown:
        raise ValueError(f"unknown source {unknown[0]!r}; expected some of {', '.join(ALL_SOURCES)}")
    chosen: set[Source] = {s for s in ALL_SOURCES if s in names}
    return frozenset(chosen | {"metrics"})


def merge_calls(*graphs: Mapping[str, Sequence[str]]) -> Calls:
    """caller -> callees of several graphs, each edge once, first-seen order."""
    out: Calls = {}
    for graph in graphs:
        for caller, callees in graph.items():
            known = out.setdefault(caller, [])
            known.extend(c for c in callees if c not in known and c != caller)
    return out
