"""Seasonal phase bins: a robust (median) profile per phase of the day or week, from past cycles only."""

from __future__ import annotations

import numpy as np

from tools.anomaly.robust import trailing_median

DAY_S = 86_400.0
WEEK_S = 7 * DAY_S


def phase_bins(timestamps: np.ndarray, period_s: float, n_bins: int) -> np.ndarray:
    """The phase bin (0..n_bins-1) of each timestamp (epoch seconds, UTC) within the period."""
    phase = np.mod(np.asarray(timestamps, dtype=np.float64), period_s) / period_s
    return np.minimum((phase * n_bins).astype(np.int64), n_bins - 1)


def seasonal_prediction(
    values: np.ndarray, bins: np.ndarray, n_bins: int, depth: int, min_count: int
) -> np.ndarray:
    """Median of the last `depth` earlier values in the same phase bin (NaN until min_count of them)."""
    out = np.full(values.size, np.nan)
    for b in range(n_bins):
        positions = np.flatnonzero(bins == b)
        if positions.size:
            out[positions] = trailing_median(values[positions], depth, min_count)[:-1]
    return out


class SeasonalProfile:
    """Streaming twin of seasonal_prediction: the last `depth` values of each of n_bins phase bins.

    One (n_bins x depth) table and two small counters per bin instead of n_bins ring objects: a
    detector holds 480 bins, and a ring's object overhead cost more than its ~14 values. Row b is a
    ring buffer: `_next[b]` is the column the next value goes to, `_count[b]` how many it holds.
    """

    __slots__ = ("_count", "_next", "_table", "depth", "min_count", "n_bins", "period_s")

    def __init__(self, period_s: float, n_bins: int, depth: int, min_count: int) -> None:
        self.period_s, self.n_bins, self.depth, self.min_count = period_s, n_bins, depth, min_count
        self._table = np.zeros((n_bins, depth))
        counter = np.min_scalar_type(depth)  # counters never exceed depth: uint8 for the defaults
        self._next = np.zeros(n_bins, dtype=counter)
        self._count = np.zeros(n_bins, dtype=counter)

    def bin_of(self, timestamp: float) -> int:
        """`phase_bins` for one timestamp, in plain float arithmetic (the same IEEE operations)."""
        return min(int((timestamp % self.period_s) / self.period_s * self.n_bins), self.n_bins - 1)

    def predict(self, phase_bin: int) -> float:
        """Median of the bin's held values (NaN below min_count); a median ignores their order."""
        count = int(self._count[phase_bin])
        if count < max(self.min_count, 1):
            return np.nan
        return float(np.median(self._table[phase_bin, :count]))

    def learn(self, phase_bin: int, value: float) -> None:
        column = int(self._next[phase_bin])  # Python ints: a uint8 counter must not wrap at 255
        self._table[phase_bin, column] = value
        self._next[phase_bin] = (column + 1) % self.depth
        self._count[phase_bin] = min(int(self._count[phase_bin]) + 1, self.depth)
