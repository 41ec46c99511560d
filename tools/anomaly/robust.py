"""Trailing robust statistics, computed the same way in batch (vectorised) and streaming (ring buffers).

"Trailing" means the statistic at position i uses only the values strictly before i, so a score
never looks ahead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Reducer = Callable[..., np.ndarray]


def _trailing(reduce: Reducer, x: np.ndarray, width: int, min_count: int) -> np.ndarray:
    """out[j] = reduce(x[max(0, j-width):j]) for j in 0..len(x) (len+1 values), NaN below min_count."""
    n = x.size
    out = np.full(n + 1, np.nan)
    for j in range(max(min_count, 1), min(width, n + 1)):
        out[j] = reduce(x[:j])
    if n >= width:
        out[width:] = reduce(sliding_window_view(x, width), axis=1)
    return out


def trailing_median(x: np.ndarray, width: int, min_count: int) -> np.ndarray:
    """out[j] = median(x[max(0, j-width):j]) for j in 0..len(x) (len+1 values), NaN below min_count."""
    return _trailing(np.median, x, width, min_count)


def trailing_mean(x: np.ndarray, width: int, min_count: int) -> np.ndarray:
    """out[j] = mean(x[max(0, j-width):j]) for j in 0..len(x), NaN below min_count."""
    return _trailing(np.mean, x, width, min_count)


class Ring:
    """A fixed-capacity buffer of the most recent values: the streaming twin of the trailing_* helpers."""

    __slots__ = ("_data", "_next", "count")

    def __init__(self, capacity: int) -> None:
        self._data = np.zeros(capacity)
        self._next = 0
        self.count = 0

    def push(self, value: float) -> None:
        self._data[self._next] = value
        self._next = (self._next + 1) % self._data.size
        self.count = min(self.count + 1, self._data.size)

    def values(self) -> np.ndarray:
        """The held values in time order (oldest first), so sums round as the batch path does."""
        if self.count < self._data.size:
            return self._data[: self.count]
        return np.concatenate([self._data[self._next :], self._data[: self._next]])

    def median(self, min_count: int) -> float:
        return float(np.median(self._data[: self.count])) if self.count >= max(min_count, 1) else np.nan

    def mean(self, min_count: int) -> float:
        return float(np.mean(self.values())) if self.count >= max(min_count, 1) else np.nan
