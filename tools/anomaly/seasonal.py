"""Seasonal phase bins: a robust (median) profile per phase of the day or week, from past cycles only."""

from __future__ import annotations

import numpy as np

from tools.anomaly.robust import Ring, trailing_median

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
    """Streaming twin of seasonal_prediction: n_bins ring buffers of `depth` values (fixed memory)."""

    def __init__(self, period_s: float, n_bins: int, depth: int, min_count: int) -> None:
        self.period_s, self.n_bins, self.min_count = period_s, n_bins, min_count
        self._rings = [Ring(depth) for _ in range(n_bins)]

    def bin_of(self, timestamp: float) -> int:
        """`phase_bins` for one timestamp, in plain float arithmetic (the same IEEE operations)."""
        return min(int((timestamp % self.period_s) / self.period_s * self.n_bins), self.n_bins - 1)

    def predict(self, phase_bin: int) -> float:
        return self._rings[phase_bin].median(self.min_count)

    def learn(self, phase_bin: int, value: float) -> None:
        self._rings[phase_bin].push(value)
