"""NAB v1.1 scoring, vectorised, with the same arithmetic as NAB's `sweeper.py`.

NAB scores a detector per profile: each row after the probation gets a weight (the scaled sigmoid of
its position relative to the current or previous window), a window counts its earliest detection
once (or -fnWeight when missed), every detection outside a window adds its (negative) weight. The
threshold is chosen corpus-wide per detector and profile, either by NAB's hill-climbing `twiddle`
(the procedure behind the published scoreboard) or by the exhaustive `sweep` over every distinct
anomaly score (the global optimum, never lower); the normalized score is 100·(raw − null)/(perfect − null).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from evals.bench.nab.corpus import CostMatrix

PROBATION_PERCENT = 0.15


def scaled_sigmoid(position: np.ndarray) -> np.ndarray:
    """2·sigmoid(−5x) − 1, and −1 for x > 3 (a false positive far behind its window)."""
    position = np.asarray(position, dtype=np.float64)
    with np.errstate(over="ignore"):
        value = 2.0 / (1.0 + np.exp(5.0 * position)) - 1.0
    return np.where(position > 3.0, -1.0, value)


MAX_TP = float(scaled_sigmoid(np.array(-1.0)))


def probation_length(n_rows: int) -> float:
    """min(floor(0.15·n), 0.15·5000): rows before it are not scored."""
    return min(math.floor(PROBATION_PERCENT * n_rows), PROBATION_PERCENT * 5000)


class FileParts(BaseModel, arbitrary_types_allowed=True):
    """Per-row NAB weights of one file under one profile (threshold-independent)."""

    weight: np.ndarray  # NAB's sweepScore: the score a detection at this row adds
    window: np.ndarray  # window id within the file, −1 outside any window
    scorable: np.ndarray  # rows after the probation
    n_windows: int


def file_parts(n_rows: int, windows: Sequence[tuple[int, int]], cost: CostMatrix) -> FileParts:
    """The weight of a detection at each row, as NAB's `Sweeper.calcSweepScore` computes it."""
    idx = np.arange(n_rows, dtype=np.float64)
    weight = np.full(n_rows, -1.0 * cost.fpWeight)  # before any window: −fpWeight
    window = np.full(n_rows, -1, dtype=np.int64)
    for k, (start, end) in enumerate(windows):
        width = float(end - start + 1)
        inside = slice(start, end + 1)
        weight[inside] = scaled_sigmoid(-(end - idx[inside] + 1) / width) * cost.tpWeight / MAX_TP
        window[inside] = k
        next_start = windows[k + 1][0] if k + 1 < len(windows) else n_rows
        after = slice(end + 1, next_start)
        weight[after] = scaled_sigmoid(np.abs(end - idx[after]) / (width - 1.0)) * cost.fpWeight
    scorable = idx >= probation_length(n_rows)
    n_windows = len({int(w) for w in window[scorable] if w >= 0})
    return FileParts(weight=weight, window=window, scorable=scorable, n_windows=n_windows)


def score_file(scores: np.ndarray, parts: FileParts, cost: CostMatrix, threshold: float) -> float:
    """Raw NAB score of one file when a detection is `score >= threshold`."""
    detected = parts.scorable & (np.asarray(scores) >= threshold)
    total = float(np.sum(parts.weight[detected & (parts.window < 0)]))
    for k in np.unique(parts.window[parts.scorable & (parts.window >= 0)]):
        hits = np.flatnonzero(detected & (parts.window == k))
        total += float(parts.weight[hits[0]]) if hits.size else -cost.fnWeight
    return total


def _window_events(scores: np.ndarray, weight: np.ndarray, fn_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Threshold values at which a window's earliest detection moves earlier, and the score change.

    The earliest row with score ≥ T is the first prefix-maximum record ≥ T, so only records matter.
    """
    prefix_max = np.maximum.accumulate(scores)
    is_record = np.ones(scores.size, dtype=bool)
    is_record[1:] = scores[1:] > prefix_max[:-1]
    values, gains = scores[is_record], weight[is_record]
    before = np.append(gains[1:], -fn_weight)  # what the window contributed just above each record
    return values, gains - before


class SweepResult(BaseModel):
    """The best threshold of a corpus sweep and its raw score."""

    threshold: float
    score: float


class ScoreCurve(BaseModel, arbitrary_types_allowed=True):
    """The corpus raw score for every candidate threshold (descending), from one sweep."""

    thresholds: np.ndarray
    totals: np.ndarray

    def at(self, threshold: float) -> float:
        """Raw score when detections are `score >= threshold` (the next candidate at or above it)."""
        ascending = self.thresholds[::-1]
        k = int(np.searchsorted(ascending, threshold, side="left"))
        return float(self.totals[::-1][min(k, ascending.size - 1)])


def score_curve(
    all_scores: Sequence[np.ndarray], all_parts: Sequence[FileParts], cost: CostMatrix
) -> ScoreCurve:
    """NAB's corpus-wide threshold sweep (`optimizer.optimizeThreshold` over `calcScoreByThreshold`).

    Candidate thresholds are 1.1 (nothing detected) and every distinct scorable anomaly score.
    """
    values, deltas, candidates = [], [], []
    base = 0.0
    for scores, parts in zip(all_scores, all_parts, strict=True):
        scores = np.asarray(scores, dtype=np.float64)
        ok = parts.scorable
        outside = ok & (parts.window < 0)
        values.append(scores[outside])
        deltas.append(parts.weight[outside])
        candidates.append(scores[ok])
        for k in np.unique(parts.window[ok & (parts.window >= 0)]):
            rows = ok & (parts.window == k)
            v, d = _window_events(scores[rows], parts.weight[rows], cost.fnWeight)
            values.append(v)
            deltas.append(d)
            base -= cost.fnWeight
    value = np.concatenate(values)
    order = np.argsort(-value, kind="stable")
    cumulative = np.concatenate([[0.0], np.cumsum(np.concatenate(deltas)[order])])
    thresholds = np.concatenate([[1.1], np.unique(np.concatenate(candidates))[::-1]])
    # number of events with value >= threshold (values sorted descending)
    counts = np.searchsorted(-value[order], -thresholds, side="right")
    return ScoreCurve(thresholds=thresholds, totals=base + cumulative[counts])


def sweep(all_scores: Sequence[np.ndarray], all_parts: Sequence[FileParts], cost: CostMatrix) -> SweepResult:
    """NAB v1.1's optimum: the best candidate threshold, ties going to the higher one (stable sort)."""
    return best_on(score_curve(all_scores, all_parts, cost))


def best_on(curve: ScoreCurve) -> SweepResult:
    """The sweep's pick on an already computed curve (so one curve serves both optimizers)."""
    best = int(np.argmax(curve.totals))
    return SweepResult(threshold=float(curve.thresholds[best]), score=float(curve.totals[best]))


def normalize(raw: float, n_windows: int, null_raw: float, cost: CostMatrix) -> float:
    """100·(raw − null)/(perfect − null), perfect = every window detected at its start."""
    perfect = n_windows * cost.tpWeight
    return 100.0 * (raw - null_raw) / (perfect - null_raw)


def twiddle(curve: ScoreCurve, initial: float = 0.5, tolerance: float = 1e-7) -> SweepResult:
    """NAB v1.0's hill-climbing optimizer (`optimizer.twiddle`), which produced config/thresholds.json.

    It can stop in a local optimum, so the published thresholds are not always the sweep's optimum.
    Every published row was scored this way, so it is the like-for-like procedure for our rows too.
    """

    def objective(x: float) -> float:
        return curve.at(x) if 0.0 <= x <= 1.0 else float("-inf")

    past = {initial: objective(initial)}
    x, delta, best = initial, 0.1, past[initial]
    while delta > tolerance:
        x += delta
        past.setdefault(x, objective(x))
        if past[x] > best:
            best, delta = past[x], delta * 2
            continue
        x -= 2 * delta
        past.setdefault(x, objective(x))
        if past[x] > best:
            best, delta = past[x], delta * 2
        else:
            x += delta
            delta *= 0.5
    param = max(past, key=lambda key: past[key])
    return SweepResult(threshold=param, score=past[param])
