"""Streaming twin of `tools.anomaly.detector.analyze`: one point at a time, fixed-size state.

State per series: a few ring buffers of bounded length, the seasonal bins (fixed counts), the
likelihood's ring of moving averages and the two running extremes, so memory does not grow with the
stream. `update` returns exactly the score the batch path gives.
"""

from __future__ import annotations

import math

import numpy as np

from tools.anomaly.detector import DetectorConfig, choose_z, raw_anomaly, robust_scale
from tools.anomaly.likelihood import StreamingLikelihood
from tools.anomaly.robust import Ring
from tools.anomaly.seasonal import DAY_S, WEEK_S, SeasonalProfile


class StreamingDetector:
    """`update(t, x) -> score` for one series (t in epoch seconds)."""

    def __init__(self, cfg: DetectorConfig | None = None) -> None:
        self.cfg = cfg = cfg or DetectorConfig()
        self._previous = math.nan
        self._first_t = math.nan
        self._local = Ring(cfg.local_window)
        self._daily = SeasonalProfile(DAY_S, cfg.daily_bins, cfg.daily_depth, cfg.min_season)
        self._weekly = SeasonalProfile(WEEK_S, cfg.weekly_bins, cfg.weekly_depth, cfg.min_season)
        self._errors = [Ring(cfg.residual_window) for _ in range(cfg.n_predictors)]
        self._shift = 0.0
        self._high, self._low = -math.inf, math.inf
        self._likelihood = StreamingLikelihood(cfg.likelihood)
        self._seen = 0

    def _predictions(self, t: float, daily_bin: int, weekly_bin: int) -> np.ndarray:
        cfg = self.cfg
        span = t - self._first_t if self._seen else 0.0
        daily = self._daily.predict(daily_bin) if span >= cfg.min_cycles * DAY_S else math.nan
        weekly = self._weekly.predict(weekly_bin) if span >= cfg.min_cycles * WEEK_S else math.nan
        return np.array([self._previous, self._local.median(cfg.min_local), daily, weekly])

    def _is_new_extreme(self, x: float) -> bool:
        """The streaming twin of `detector.new_extreme`: two running extremes."""
        if self.cfg.range_tolerance <= 0 or not self._high > self._low:
            return False
        slack = (self._high - self._low) * self.cfg.range_tolerance
        return x > self._high + slack or x < self._low - slack

    def update(self, t: float, x: float) -> float:
        """Score one new point in [0, 1], using only this point and the past."""
        cfg = self.cfg
        if not self._seen:
            self._first_t = t
        daily_bin, weekly_bin = self._daily.bin_of(t), self._weekly.bin_of(t)
        residuals = x - self._predictions(t, daily_bin, weekly_bin)
        scales = np.array([robust_scale(np.array(ring.mean(cfg.min_residuals))) for ring in self._errors])
        z = float(choose_z(residuals[:, None], scales[:, None], np.array([x]))[0])
        for ring, residual in zip(self._errors, residuals, strict=True):
            if not math.isnan(residual):
                ring.push(abs(residual))
        self._local.push(x)
        self._daily.learn(daily_bin, x)
        self._weekly.learn(weekly_bin, x)
        self._previous = x

        alpha = cfg.shift_alpha
        self._shift = alpha * min(max(z, -cfg.shift_clip), cfg.shift_clip) + (1.0 - alpha) * self._shift
        shift = abs(self._shift) * math.sqrt((2.0 - alpha) / alpha)
        raw = float(raw_anomaly(np.array([z]), np.array([shift]), cfg)[0])
        likelihood = self._likelihood.update(raw, certain=self._is_new_extreme(x))
        self._high, self._low = max(self._high, x), min(self._low, x)
        self._seen += 1
        return likelihood
