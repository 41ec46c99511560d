"""HTM-style anomaly likelihood: how unusual is the recent level of a raw anomaly score, for this series.

A raw score (a prediction error, a novelty) is noisy and its typical level differs from series to
series. Following Numenta's `anomaly_likelihood` (Ahmad et al., 2017), the score of point i is the
upper-tail probability of the short moving average of raw scores (the last `averaging` points) under
a Gaussian fitted to the moving averages of a longer past (the last `history` points, re-fitted every
`reestimate` points), reported on a log scale: score = log(p) / log(1e-10), so p = 1e-5 gives 0.5.
Two things make it fit NAB's rules (earliest detection counts, each repeat is a false positive):
an alert (p <= `red`) within `quiet` points of an earlier one is demoted to `yellow` (HTM does this
for the very next point; the moving average stays raised for `averaging` points, so that is one
piece of evidence), and during the warm-up (`learning` + `min_samples` points) the score is 0.
A point another rule knows is anomalous (`certain`) gets p = 1e-10 and joins the same filter.

`likelihood_scores` (batch) and `StreamingLikelihood` (one point at a time, a ring of `history`
averages) give the same numbers: both fit on the same contiguous slice, in time order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

from tools.anomaly.robust import Ring, trailing_mean

LOG_FLOOR = math.log(1e-10)  # a tail probability of 1e-10 scores 1


@dataclass(frozen=True)
class LikelihoodConfig:
    """Global settings of the likelihood step (HTM's defaults, a shorter warm-up, a longer quiet span)."""

    averaging: int = 10  # raw scores in the short moving average
    history: int = 8640  # moving averages the Gaussian is fitted to (HTM: 8640)
    reestimate: int = 100  # points between two fits
    learning: int = 50  # first raw scores ignored (the raw model is still warming up)
    min_samples: int = 100  # moving averages needed before the first fit
    min_mean: float = 0.03  # HTM's floors: a near-silent raw score must not make every blip red
    min_variance: float = 0.0003
    red: float = 1e-5  # tail probability of an alert
    yellow: float = 1e-3  # what a red point soon after another red point is demoted to
    quiet: int = 10  # points after a red one in which another red is demoted (= averaging: same evidence)


def fit_gaussian(averages: np.ndarray, cfg: LikelihoodConfig) -> tuple[float, float]:
    """(mean, stdev) of past moving averages, with HTM's floors."""
    mean = max(float(np.mean(averages)), cfg.min_mean)
    return mean, math.sqrt(max(float(np.var(averages)), cfg.min_variance))


def log_tail(average: np.ndarray, mean: np.ndarray, stdev: np.ndarray) -> np.ndarray:
    """log P(X >= average) for X ~ N(mean, stdev): only unusually high raw scores are anomalous."""
    return np.asarray(log_ndtr(-(average - mean) / stdev))


def demote_repeats(log_p: np.ndarray, cfg: LikelihoodConfig) -> np.ndarray:
    """A red point within `quiet` points after a red point becomes yellow: one alert per episode.

    HTM's filter with `quiet` = 1; a longer span covers the points the moving average stays raised.
    """
    red = log_p <= math.log(cfg.red)
    last_red = np.maximum.accumulate(np.where(red, np.arange(red.size), -(cfg.quiet + 1)))
    repeat = np.zeros_like(red)
    repeat[1:] = red[1:] & (np.arange(1, red.size) - last_red[:-1] <= cfg.quiet)
    return np.where(repeat, math.log(cfg.yellow), log_p)


def to_score(log_p: np.ndarray) -> np.ndarray:
    """log p / log 1e-10, in [0, 1]."""
    return np.clip(log_p / LOG_FLOOR, 0.0, 1.0)


def likelihood_scores(
    raw: np.ndarray, cfg: LikelihoodConfig | None = None, certain: np.ndarray | None = None
) -> np.ndarray:
    """Batch: the likelihood score of every point of a raw anomaly series (causal).

    `certain` marks points known to be anomalous by another rule (e.g. a never-seen value): after
    the warm-up they get the lowest tail probability, and take part in the one-alert-per-run filter.
    """
    cfg = cfg or LikelihoodConfig()
    raw = np.asarray(raw, dtype=np.float64)
    n = raw.size
    averages = trailing_mean(raw, cfg.averaging, 1)[1:]  # averages[i] includes raw[i]
    log_p = np.zeros(n)
    first = cfg.learning + cfg.min_samples  # first point that is scored
    for start in range(first, n, cfg.reestimate):
        mean, stdev = fit_gaussian(averages[max(cfg.learning, start - cfg.history) : start], cfg)
        stop = min(start + cfg.reestimate, n)
        log_p[start:stop] = log_tail(averages[start:stop], np.array(mean), np.array(stdev))
    if certain is not None:
        log_p[first:] = np.where(certain[first:], LOG_FLOOR, log_p[first:])
    return to_score(demote_repeats(log_p, cfg))


class StreamingLikelihood:
    """Streaming twin of `likelihood_scores`: rings of `averaging` raw scores and `history` averages."""

    def __init__(self, cfg: LikelihoodConfig | None = None) -> None:
        self.cfg = cfg = cfg or LikelihoodConfig()
        self._raw = Ring(cfg.averaging)
        self._averages = Ring(cfg.history)
        self._mean, self._stdev = math.nan, math.nan
        self._last_red = -(cfg.quiet + 1)
        self._seen = 0

    def update(self, raw: float, certain: bool = False) -> float:
        cfg = self.cfg
        self._raw.push(raw)
        average = self._raw.mean(1)
        first = cfg.learning + cfg.min_samples
        i, self._seen = self._seen, self._seen + 1
        log_p = 0.0
        if i >= first:
            if (i - first) % cfg.reestimate == 0:
                self._mean, self._stdev = fit_gaussian(self._averages.values(), cfg)
            log_p = float(log_ndtr(-(average - self._mean) / self._stdev))  # `log_tail` on one point
            if certain:
                log_p = LOG_FLOOR
        if i >= cfg.learning:
            self._averages.push(average)
        red = log_p <= math.log(cfg.red)
        if red and i - self._last_red <= cfg.quiet:
            log_p = math.log(cfg.yellow)
        if red:
            self._last_red = i
        return min(max(log_p / LOG_FLOOR, 0.0), 1.0)  # `to_score` on one point
