"""Trailing robust statistics, computed the same way in batch (vectorised) and streaming (ring buffers).

"Trailing" means the statistic at position i uses only the values strictly before i, so a score
never looks ahead.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def trailing_median(x: np.ndarray, width: int, min_count: int) -> np.ndarray:
    """out[j] = median(x[max(0, j-width):j]) for j in 0..len(x) (len+1 values), NaN below min_count."""
    n = x.size
    out = np.full(n + 1, np.nan)
    for j in range(max(min_count, 1), min(width, n + 1)):
        out[j] = np.median(x[:j])
    if n >= width:
        out[width:] = np.median(sliding_window_view(x, width), axis=1)
    return out


def trailing_mean(x: np.ndarray, width: int, min_count: int) -> np.ndarray:
    """out[j] = mean(x[max(0, j-width):j]) for j in 0..len(x), NaN below min_count."""
    n = x.size
    out = np.full(n + 1, np.nan)
    for j in range(max(min_count, 1), min(width, n + 1)):
        out[j] = np.mean(x[:j])
    if n >= width:
        out[width:] = np.mean(sliding_window_view(x, width), axis=1)
    return out


def trailing_std(x: np.ndarray, width: int, min_count: int) -> np.ndarray:
    """out[j] = std(x[max(0, j-width):j]) for j in 0..len(x), NaN below min_count."""
    n = x.size
    out = np.full(n + 1, np.nan)
    for j in range(max(min_count, 1), min(width, n + 1)):
        out[j] = np.std(x[:j])
    if n >= width:
        out[width:] = np.std(sliding_window_view(x, width), axis=1)
    return out


def trailing_max(x: np.ndarray, width: int) -> np.ndarray:
    """out[j] = max(x[max(0, j-width):j]) for j in 0..len(x), 0 when empty (scores are >= 0)."""
    n = x.size
    out = np.zeros(n + 1)
    for j in range(1, min(width, n + 1)):
        out[j] = np.max(x[:j])
    if n >= width:
        out[width:] = np.max(sliding_window_view(x, width), axis=1)
    return out


class Ring:
    """A fixed-capacity buffer of the most recent values: the streaming twin of the trailing_* helpers."""

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

    def std(self, min_count: int) -> float:
        return float(np.std(self.values())) if self.count >= max(min_count, 1) else np.nan

    def max(self) -> float:
        return float(np.max(self._data[: self.count])) if self.count else 0.0
