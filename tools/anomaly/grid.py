"""Range query results placed on one regular time grid, and NaN-aware combinations of rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np

from tools.metrics.client import RangeSeries


class Grid:
    """Range results put on one time grid."""

    def __init__(self, start: datetime, end: datetime, step_s: float) -> None:
        first, last = start.timestamp(), end.timestamp()
        self.times = np.arange(first, last + step_s / 2, step_s)
        self.step_s = step_s

    def place(self, series: RangeSeries) -> np.ndarray:
        out = np.full(self.times.size, np.nan)
        if series.points:
            ts = np.asarray([p[0] for p in series.points])
            idx = np.rint((ts - self.times[0]) / self.step_s).astype(np.int64)
            ok = (idx >= 0) & (idx < self.times.size)
            out[idx[ok]] = np.asarray([p[1] for p in series.points])[ok]
        return out


def nanmax_rows(rows: Iterable[np.ndarray], size: int) -> np.ndarray:
    stack = [r for r in rows]
    if not stack:
        return np.full(size, np.nan)
    arr = np.vstack(stack)
    out = np.full(size, np.nan)
    has = ~np.all(np.isnan(arr), axis=0)
    out[has] = np.nanmax(arr[:, has], axis=0)
    return out


def nansum_rows(rows: Iterable[np.ndarray], size: int) -> np.ndarray:
    stack = [r for r in rows]
    if not stack:
        return np.full(size, np.nan)
    arr = np.vstack(stack)
    out = np.nansum(arr, axis=0)
    out[np.all(np.isnan(arr), axis=0)] = np.nan
    return out
