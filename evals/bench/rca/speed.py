"""How long one ranking takes at production size (e.g. 500 series over a day), on synthetic data."""

from __future__ import annotations

import itertools
import time

import numpy as np

from tools.anomaly.rank import SeriesKey, SignalMatrix, rank_root_causes

_SIGNALS = ("cpu", "mem", "latency_p99", "error_ratio", "rps")


def synthetic_matrix(n_series: int, n_points: int, step_s: float, seed: int = 0) -> SignalMatrix:
    """`n_series` noisy series (5 signals per entity) on a grid of `n_points`, with a few gaps."""
    rng = np.random.default_rng(seed)
    keys = [SeriesKey(f"svc-{i // len(_SIGNALS)}", _SIGNALS[i % len(_SIGNALS)]) for i in range(n_series)]
    values = rng.normal(100.0, 5.0, size=(n_series, n_points))
    values[rng.random(values.shape) < 0.001] = np.nan  # missed scrapes
    values[0, int(n_points * 0.9) :] += 60.0  # one fault, so the ranking has work to do
    times = np.asarray(1_700_000_000.0 + step_s * np.arange(n_points), dtype=np.float64)
    return SignalMatrix(times=times, keys=keys, values=values)


def time_ranking(n_series: int = 500, n_points: int = 1440, repeats: int = 3) -> float:
    """Best wall time in seconds of ranking `n_series` x `n_points` (onset at 90 % of the window)."""
    step_s = 86_400.0 / n_points
    matrix = synthetic_matrix(n_series, n_points, step_s)
    entities = sorted({key.entity for key in matrix.keys})
    calls = {caller: [callee] for caller, callee in itertools.pairwise(entities)}
    onset = float(matrix.times[int(n_points * 0.9)])
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        rank_root_causes(matrix, onset=onset, calls=calls)
        best = min(best, time.perf_counter() - started)
    return best
