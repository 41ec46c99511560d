"""Single-series anomaly detector: robust residuals, spike and level-shift channels, HTM's likelihood.

Per point, several causal predictors compete (previous value, trailing median, daily and weekly
phase-bin medians once there is history for them); the one whose recent residuals are tightest is
used, so the detector is seasonality-aware when the history allows and falls back to robust local
statistics otherwise. Its residual, scaled by the robust spread of its own past residuals, feeds a
spike channel (|z|) and a level-shift channel (a standardised EWMA of z, CUSUM-like). The larger of
the two, as a Gaussian surprise in [0, 1], is the raw anomaly; HTM's anomaly likelihood then judges
the recent raw level against this series' own history (`tools.anomaly.likelihood`), so one global
threshold suits quiet and noisy series alike. A value outside the whole range seen so far is
certain (Numenta's "spatial anomaly") and scores 1. Within `likelihood.quiet` points of an alert a
further alert is demoted (HTM's filter, widened): NAB and on-call alike want one alert per episode.

Batch (`score`) and streaming (`StreamingDetector.update`) compute the same numbers; the score at
point i depends only on points <= i.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter
from scipy.special import log_ndtr

from tools.anomaly.likelihood import LikelihoodConfig, likelihood_scores
from tools.anomaly.robust import trailing_mean, trailing_median
from tools.anomaly.seasonal import DAY_S, WEEK_S, phase_bins, seasonal_prediction


@dataclass(frozen=True)
class DetectorConfig:
    """One global configuration: nothing is tuned per series."""

    local_window: int = 100  # trailing median window (points)
    min_local: int = 8
    daily_bins: int = 144
    daily_depth: int = 14  # values kept per daily bin
    weekly_bins: int = 336
    weekly_depth: int = 8
    min_season: int = 2  # values a bin needs before its median is trusted
    min_cycles: float = 2.0  # periods of history before a seasonal predictor is trusted
    residual_window: int = 3000  # residuals kept per predictor for its robust scale
    min_residuals: int = 16
    shift_clip: float = 4.0  # one spike moves the level-shift average by at most alpha times this
    shift_alpha: float = 0.3
    surprise_scale: float = 20.0  # −log10 two-sided tail probability that maps to a raw anomaly of 1
    range_tolerance: float = 0.05  # a value this share of the range beyond all earlier ones scores 1
    likelihood: LikelihoodConfig = field(default_factory=LikelihoodConfig)

    @property
    def n_predictors(self) -> int:
        return 4


PREDICTORS = ("previous", "local_median", "daily", "weekly")
LOG2, LOG10 = math.log(2.0), math.log(10.0)


def predictions(values: np.ndarray, timestamps: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """(n_predictors, n) causal predictions, NaN where a predictor has no basis yet."""
    n = values.size
    out = np.full((cfg.n_predictors, n), np.nan)
    out[0, 1:] = values[:-1]
    out[1] = trailing_median(values, cfg.local_window, cfg.min_local)[:-1]
    daily = phase_bins(timestamps, DAY_S, cfg.daily_bins)
    out[2] = seasonal_prediction(values, daily, cfg.daily_bins, cfg.daily_depth, cfg.min_season)
    weekly = phase_bins(timestamps, WEEK_S, cfg.weekly_bins)
    out[3] = seasonal_prediction(values, weekly, cfg.weekly_bins, cfg.weekly_depth, cfg.min_season)
    span = timestamps - timestamps[0] if n else timestamps
    out[2, span < cfg.min_cycles * DAY_S] = np.nan
    out[3, span < cfg.min_cycles * WEEK_S] = np.nan
    return out


def robust_scale(abs_residuals_mean: np.ndarray) -> np.ndarray:
    """Spread from past absolute residuals (the Gaussian sigma for a mean absolute deviation).

    Over a long window (thousands of points) a few outliers barely move the mean, and unlike a
    median it stays positive on quantised series whose typical residual is exactly zero.
    """
    return 1.2533 * abs_residuals_mean


def residual_scales(residuals: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """Per predictor, the robust scale of its last `residual_window` available residuals before i."""
    k, n = residuals.shape
    out = np.full((k, n), np.nan)
    for m in range(k):
        valid = np.flatnonzero(~np.isnan(residuals[m]))
        err = np.abs(residuals[m, valid])
        mean = trailing_mean(err, cfg.residual_window, cfg.min_residuals)
        before = np.searchsorted(valid, np.arange(n), side="left")  # residuals strictly before i
        out[m] = robust_scale(mean[before])
    return out


def choose_z(residuals: np.ndarray, scales: np.ndarray, values: np.ndarray) -> np.ndarray:
    """z of the predictor with the tightest past residuals among those available at i (0 if none)."""
    floor = 1e-9 * (1.0 + np.abs(values))
    usable = ~np.isnan(residuals) & ~np.isnan(scales)
    ranked = np.where(usable, np.maximum(scales, floor), np.inf)
    best = np.argmin(ranked, axis=0)
    cols = np.arange(values.size)
    z = residuals[best, cols] / np.maximum(scales[best, cols], floor)
    return np.where(np.isfinite(ranked[best, cols]), z, 0.0)


def level_shift(z: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """|EWMA of clipped z|, standardised: a sustained shift of a few sigma stands out, one spike does not."""
    zc = np.clip(z, -cfg.shift_clip, cfg.shift_clip)
    alpha = cfg.shift_alpha
    smoothed = lfilter([alpha], [1.0, alpha - 1.0], zc)
    return np.abs(smoothed) * np.sqrt((2.0 - alpha) / alpha)


def surprise(z: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """Raw anomaly in [0, 1]: −log10 of the two-sided Gaussian tail of |z|, over `surprise_scale`.

    |z| = 1 gives 0.02, |z| = 3 gives 0.13, |z| ≥ 9.3 saturates at 1 (with the default scale 20):
    ordinary points stay near 0 and only rare ones approach 1, the shape HTM's likelihood expects.
    """
    log10_tail = (LOG2 + log_ndtr(-np.abs(z))) / LOG10
    return np.clip(-log10_tail / cfg.surprise_scale, 0.0, 1.0)


def raw_anomaly(z: np.ndarray, shift: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """The larger surprise of the spike channel (|z|) and the level-shift channel."""
    return surprise(np.maximum(np.abs(z), shift), cfg)


def new_extreme(values: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """True where a value leaves the range of all earlier values by more than `range_tolerance` of it.

    Like NAB's Numenta detector's "spatial anomaly": a value never seen before is anomalous whatever
    the prediction model thinks; two running extremes keep it O(1) in memory.
    """
    n = values.size
    out = np.zeros(n, dtype=bool)
    if n < 2 or cfg.range_tolerance <= 0:
        return out
    high = np.maximum.accumulate(values)[:-1]
    low = np.minimum.accumulate(values)[:-1]
    slack = (high - low) * cfg.range_tolerance
    out[1:] = (high > low) & ((values[1:] > high + slack) | (values[1:] < low - slack))
    return out


@dataclass(frozen=True)
class Analysis:
    """Per-point intermediate signals, for explanations and episode onsets."""

    score: np.ndarray  # final score in [0, 1]; 0.5 is a tail probability of 1e-5 (an alert)
    raw: np.ndarray  # raw anomaly in [0, 1], before the likelihood step
    z: np.ndarray  # signed robust z of the chosen predictor
    shift: np.ndarray  # standardised EWMA of z (level shifts)
    predictor: np.ndarray  # index into PREDICTORS (−1: none yet)


def analyze(values: np.ndarray, timestamps: np.ndarray, cfg: DetectorConfig | None = None) -> Analysis:
    """Batch detection over a whole series (vectorised); see the module docstring."""
    cfg = cfg or DetectorConfig()
    x = np.asarray(values, dtype=np.float64)
    t = np.asarray(timestamps, dtype=np.float64)
    preds = predictions(x, t, cfg)
    residuals = x[None, :] - preds
    scales = residual_scales(residuals, cfg)
    z = choose_z(residuals, scales, x)
    shift = level_shift(z, cfg)
    raw = raw_anomaly(z, shift, cfg)
    final = likelihood_scores(raw, cfg.likelihood, certain=new_extreme(x, cfg))
    usable = ~np.isnan(residuals) & ~np.isnan(scales)
    predictor = np.where(usable.any(axis=0), np.argmin(np.where(usable, scales, np.inf), axis=0), -1)
    return Analysis(score=final, raw=raw, z=z, shift=shift, predictor=predictor)


def score(values: np.ndarray, timestamps: np.ndarray, cfg: DetectorConfig | None = None) -> np.ndarray:
    """Anomaly score in [0, 1] per point, causal (point i sees only points <= i)."""
    return analyze(values, timestamps, cfg).score
