"""The ranking's grid no finer than the samples: the spacing a matrix's series were written at.

Why: a metrics backend answers a range query at any step by repeating each series' latest sample.
Series written every few minutes (CloudWatch periods, a slow exporter, a push gateway, a recording
rule on a long interval) come back on a 15 s grid as runs of identical points, and the sample closing
at the investigation's instant (often the only one after a fault) is a single point. Every measure
that counts points then takes minutes of data for seconds of it: an anomaly seen in that last sample
never "holds" for `min_duration_s`, a baseline's size is inflated by copies, and the requests behind a
percentile (a rate times the step) are a fraction of those it was computed on. On the grid of the
samples themselves each sample is one point with its own duration, as it was measured.

The ranking runs on this grid when the metrics are all it has (`on_ranking_grid`). When spans or log
lines join, it keeps the query's step: they are events, counted at any step, and bucketed by the
metrics' minute a fault seen in the spans of two minutes is two points, and a store that keeps spans
in stretches gives each row a few points of history, too few to judge it by. The metric rows are then
held on that grid, as the range query returned them, and each says how many points a sample fills
(`with_repeats`), so that its baseline is still judged on samples: three samples are not twelve points.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tools.anomaly.signal_matrix import SignalMatrix

MIN_CHANGES = 4  # a series must change value this often to show its spacing (a flat one says nothing)


def sample_spacing(values: np.ndarray) -> int:
    """How many grid points (S, T) apart the series' samples are: each series that changes value at
    least `MIN_CHANGES` times votes for its most common distance between two changes, and the most
    voted distance wins (the shorter on a tie). A vote, not an average: series that change rarely
    (a flat stretch, a gap in the data) or often (a maximum over pods whose samples are offset) are
    outvoted by the spacing most series were written at. 1 (the grid is the samples') without votes."""
    votes = np.zeros(values.shape[1] + 1, dtype=np.int64)
    for row in values:
        index = np.flatnonzero(np.isfinite(row))
        if index.size <= MIN_CHANGES:
            continue
        changed = index[1:][np.diff(row[index]) != 0]
        if changed.size >= MIN_CHANGES:
            votes[int(np.argmax(np.bincount(np.diff(changed))))] += 1
    return max(1, int(np.argmax(votes))) if votes.any() else 1


def on_sample_grid(matrix: SignalMatrix) -> tuple[SignalMatrix, int]:
    """`matrix` with one point per sample (every k-th point counted back from its last, so the
    newest sample stays), and k; unchanged (k = 1) where its grid already is the samples'."""
    every = sample_spacing(matrix.values)
    if every <= 1:
        return matrix, 1
    keep = np.arange(matrix.times.size - 1, -1, -every)[::-1]
    return SignalMatrix(times=matrix.times[keep], keys=matrix.keys, values=matrix.values[:, keep]), every


def with_repeats(matrix: SignalMatrix, every: int) -> SignalMatrix:
    """`matrix` on its own grid, each row saying its samples fill `every` points of it."""
    keys = [replace(key, repeats=every) for key in matrix.keys]
    return SignalMatrix(times=matrix.times, keys=keys, values=matrix.values)


def on_ranking_grid(metrics: SignalMatrix, events: bool) -> tuple[SignalMatrix, int]:
    """The metric rows on the grid the ranking runs on, and how many query steps one of its points
    spans: a point per sample for the metrics alone; with `events` (spans or log lines) joining, the
    query's grid, each row judged on its samples (see the module docstring)."""
    sampled, every = on_sample_grid(metrics)
    if every <= 1:
        return metrics, 1
    return (with_repeats(metrics, every), 1) if events else (sampled, every)
