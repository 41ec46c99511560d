"""Robust scaling of many series against their pre-incident baseline, vectorised over series.

Why robust: a baseline window usually holds a few spikes of its own (a GC pause, a cron job); the
median and inter-quartile range ignore them where the mean and standard deviation would not, so
the post-onset shift is measured against how the series normally behaves (as BARO does with
scikit-learn's RobustScaler). Scores are expressed in *robust sigmas* (IQR / 1.349, which equals
the standard deviation for Gaussian noise), so a threshold keeps the same meaning across metrics.

Quiet baselines need care. A gauge that moves in whole memory pages, or an error ratio that sat at
exactly 0, has an IQR of 0 and any change would be infinitely many sigmas away. The scale therefore
falls back to the MAD, then the standard deviation, and is never smaller than a fixed share of the
series' own level (`min_relative_scale`): a change of a fraction of a percent of a signal's value
is not an incident, however flat the line was before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

IQR_TO_SIGMA = 1.349  # IQR of a standard normal distribution
MAD_TO_SIGMA = 1.4826  # 1 / (MAD of a standard normal distribution)


@dataclass(frozen=True)
class RobustBaseline:
    """Per-series location and scale of the pre-incident window, shape (S,) each."""

    median: FloatArray
    scale: FloatArray
    points: npt.NDArray[np.int64]  # valid (non-NaN) baseline points per series


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


def fit_baseline(baseline: FloatArray, level: FloatArray, min_relative_scale: float) -> RobustBaseline:
    """Median and robust scale per row of `baseline` (S, T0).

    `level` (S,) is each series' typical magnitude over the whole window, used only when the
    baseline is flat at zero (then the relative floor applies to that level instead).
    """
    q25, median, q75 = row_quantiles(baseline, (0.25, 0.5, 0.75))
    points = np.sum(~np.isnan(baseline), axis=1).astype(np.int64)
    scale = (q75 - q25) / IQR_TO_SIGMA
    flat = ~(scale > 0)
    if flat.any():
        deviations = np.abs(baseline[flat] - median[flat, None])
        scale[flat] = row_quantiles(deviations, (0.5,))[0] * MAD_TO_SIGMA
        still_flat = flat & ~(scale > 0)
        if still_flat.any():
            with np.errstate(invalid="ignore"):
                scale[still_flat] = np.nanstd(baseline[still_flat], axis=1) if baseline.shape[1] else np.nan
    scale = np.nan_to_num(scale, nan=0.0)
    scale = np.maximum(scale, min_relative_scale * np.abs(np.nan_to_num(median)))
    zero = ~(scale > 0)
    scale[zero] = min_relative_scale * np.abs(np.nan_to_num(level[zero]))
    scale[~(scale > 0)] = 1.0  # all-zero series: every deviation is 0 anyway
    return RobustBaseline(median=median, scale=scale, points=points)


def robust_z(values: FloatArray, baseline: RobustBaseline) -> FloatArray:
    """Signed distance of each point from its series' baseline median, in robust sigmas (S, T)."""
    z: FloatArray = (values - baseline.median[:, None]) / baseline.scale[:, None]
    return z


def sustained_peak(scores: FloatArray, persistence: int) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Per row, the `persistence`-th largest score and the column of the row's largest score.

    Taking the k-th largest instead of the maximum asks an anomaly to last k points: a single
    scrape glitch does not outrank a fault that holds. NaN counts as no evidence (-inf).
    """
    n_rows, n_cols = scores.shape
    if n_cols == 0:
        return np.zeros(n_rows), np.zeros(n_rows, dtype=np.int64)
    filled = np.where(np.isnan(scores), -np.inf, scores)
    k = min(max(persistence, 1), n_cols)
    kth = np.partition(filled, n_cols - k, axis=1)[:, n_cols - k]
    peak_at = np.argmax(filled, axis=1).astype(np.int64)
    return np.where(np.isfinite(kth), kth, 0.0), peak_at
