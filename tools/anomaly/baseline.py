"""Robust scaling of many series against a baseline, vectorised over series, with a noise floor per
kind of measurement.

Why robust: a baseline window usually holds a few spikes of its own (a GC pause, a cron job); the
median and inter-quartile range ignore them where the mean and standard deviation would not, so
the post-onset shift is measured against how the series normally behaves (as BARO does with
scikit-learn's RobustScaler). Scores are expressed in *robust sigmas* (IQR / 1.349, which equals
the standard deviation for Gaussian noise), so a threshold keeps the same meaning across metrics.

Why a noise floor: a baseline can be steadier than the measurement deserves (a load balancer's
latency seen from its client, a gauge moving in whole memory pages, an error ratio at exactly 0), and
dividing by its near-zero spread turns any change into 10⁵ sigmas. The scale falls back from the IQR
to the MAD to the standard deviation, and is never below the floor of the series' noise model:

- `level` (gauges, rates): 5 % of the baseline's level: a change of a few percent is not an incident;
- `relative` (latency, durations): judged as a ratio, in log space, floored at a 5 % change. Latency
  noise is multiplicative, so going from 1 ms to 1 s counts as ×1000 (about 140 sigmas), not as
  10⁵ baseline spreads;
- `ratio` (a share in [0, 1]: error ratio): an absolute floor of 0.1 percentage point, so an error
  ratio must rise by 1 point above a spotless baseline to reach 10 sigmas;
- `count` (events per step: error lines, a log template): Poisson-like, the floor is √λ of the
  baseline's median λ (at least 1 event), so one stray line is one sigma, not an infinite jump.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

NoiseModel = Literal["level", "relative", "ratio", "count"]

IQR_TO_SIGMA = 1.349  # IQR of a standard normal distribution
MAD_TO_SIGMA = 1.4826  # 1 / (MAD of a standard normal distribution)


@dataclass(frozen=True)
class NoiseFloors:
    """The smallest scale each noise model allows (see the module docstring)."""

    relative_share: float = 0.05  # level and relative: 5 % of the level
    ratio_points: float = 0.001  # ratio: 0.1 percentage point
    min_count: float = 1.0  # count: the Poisson floor never below √1 event


@dataclass(frozen=True)
class RobustBaseline:
    """Per-series location and scale of the baseline (in the model's space: log for `relative`),
    shape (S,) each."""

    median: FloatArray
    scale: FloatArray
    points: npt.NDArray[np.int64]  # valid (non-NaN) baseline points per series


def in_model_space(values: FloatArray, relative: BoolArray) -> FloatArray:
    """`values` with the `relative` rows in log space. A latency of 0 or less is no measurement (an
    entity that served nothing in a step has no latency), so it becomes NaN, not -inf."""
    if not relative.any():
        return values
    out = values.copy()
    rows = out[relative]
    with np.errstate(divide="ignore", invalid="ignore"):
        out[relative] = np.where(rows > 0, np.log(np.where(rows > 0, rows, 1.0)), np.nan)
    return out


def row_quantiles(values: FloatArray, quantiles: tuple[float, ...]) -> FloatArray:
    """Quantiles of every row, ignoring NaN, linear interpolation; shape (len(quantiles), S).

    `np.nanpercentile` falls back to a Python loop over rows when NaNs are present; sorting once
    (NaN sorts last) and indexing by each row's valid count keeps it vectorised.
    """
    n_rows = values.shape[0]
    if values.shape[1] == 0:
        return np.full((len(quantiles), n_rows), np.nan)
    if not np.isnan(values).any():
        return np.asarray(np.percentile(values, [100 * q for q in quantiles], axis=1), dtype=np.float64)
    ordered = np.sort(values, axis=1)
    valid = np.sum(~np.isnan(values), axis=1)
    rows = np.arange(n_rows)
    out = np.full((len(quantiles), n_rows), np.nan)
    has = valid > 0
    for i, q in enumerate(quantiles):
        pos = q * np.maximum(valid - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(valid - 1, 0))
        frac = pos - lo
        interpolated = ordered[rows, lo] * (1 - frac) + ordered[rows, hi] * frac
        out[i] = np.where(has, interpolated, np.nan)
    return out


def _spread(
    baseline: FloatArray, median: FloatArray, q25: FloatArray, q75: FloatArray, gauge: BoolArray
) -> FloatArray:
    """IQR in sigmas, falling back to the MAD, then (for `gauge` rows) the standard deviation, where it
    is 0. Other models have a floor of their own: a series at 0 but for rare spikes (an error ratio)
    keeps that floor, and its spikes count as its bursts, not as its everyday spread."""
    scale = (q75 - q25) / IQR_TO_SIGMA
    flat = ~(scale > 0)
    if flat.any():
        deviations = np.abs(baseline[flat] - median[flat, None])
        scale[flat] = row_quantiles(deviations, (0.5,))[0] * MAD_TO_SIGMA
        # a row with no baseline value has no spread (numpy would warn of it, not only return NaN)
        still_flat = flat & ~(scale > 0) & gauge & np.any(~np.isnan(baseline), axis=1)
        if still_flat.any():
            with np.errstate(invalid="ignore"):
                scale[still_flat] = np.nanstd(baseline[still_flat], axis=1)
    return np.nan_to_num(scale, nan=0.0)


def fit_baseline(
    baseline: FloatArray,
    level: FloatArray,
    models: npt.NDArray[np.str_] | None = None,
    floors: NoiseFloors | None = None,
) -> RobustBaseline:
    """Median and robust scale per row of `baseline` (S, T0), already in model space
    (`in_model_space`), each scale at least its model's floor.

    `models` (S,) names each row's noise model (default: every row `level`); `level` (S,) is each
    series' typical magnitude over the whole window, used only when a `level` baseline is flat at
    zero (then the relative floor applies to that magnitude instead).
    """
    f = floors or NoiseFloors()
    kinds = np.full(baseline.shape[0], "level") if models is None else np.asarray(models)
    q25, median, q75 = row_quantiles(baseline, (0.25, 0.5, 0.75))
    points = np.sum(~np.isnan(baseline), axis=1).astype(np.int64)
    scale = _spread(baseline, median, q25, q75, kinds == "level")
    centre = np.abs(np.nan_to_num(median))
    floor = np.where(kinds == "relative", np.log1p(f.relative_share), f.relative_share * centre)
    floor = np.where(kinds == "ratio", np.maximum(floor, f.ratio_points), floor)
    floor = np.where(kinds == "count", np.sqrt(np.maximum(centre, f.min_count)), floor)
    scale = np.maximum(scale, floor)
    zero = ~(scale > 0)  # a `level` series flat at zero
    scale[zero] = f.relative_share * np.abs(np.nan_to_num(level[zero]))
    scale[~(scale > 0)] = 1.0  # all-zero series: every deviation is 0 anyway
    return RobustBaseline(median=median, scale=scale, points=points)


def robust_z(values: FloatArray, baseline: RobustBaseline) -> FloatArray:
    """Signed distance of each point from its series' baseline median, in robust sigmas (S, T)."""
    z: FloatArray = (values - baseline.median[:, None]) / baseline.scale[:, None]
    return z


def sustained_peak(
    scores: FloatArray, persistence: int | npt.NDArray[np.int64]
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Per row, the `persistence`-th largest score (one k for all rows, or one per row) and the column
    of the row's largest score.

    Taking the k-th largest instead of the maximum asks an anomaly to last k points: a single
    scrape glitch does not outrank a fault that holds. NaN counts as no evidence (-inf).
    """
    n_rows, n_cols = scores.shape
    if n_cols == 0:
        return np.zeros(n_rows), np.zeros(n_rows, dtype=np.int64)
    filled = np.where(np.isnan(scores), -np.inf, scores)
    k = np.clip(np.broadcast_to(np.asarray(persistence, dtype=np.int64), (n_rows,)), 1, n_cols)
    kth = np.empty(n_rows)
    for each in np.unique(k):  # a handful of distinct k: one partition per group of rows
        rows = k == each
        kth[rows] = np.partition(filled[rows], n_cols - each, axis=1)[:, n_cols - each]
    peak_at = np.argmax(filled, axis=1).astype(np.int64)
    return np.where(np.isfinite(kth), kth, 0.0), peak_at
