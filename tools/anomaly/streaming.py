"""Streaming twin of `tools.anomaly.detector.analyze`: one point at a time, fixed-size state.

State per series: a few ring buffers of bounded length and the seasonal bins (fixed counts), so
memory does not grow with the stream. `update` returns exactly the score the batch path gives.
"""

from __future__ import annotations

import math

import numpy as np

from tools.anomaly.detector import DetectorConfig, choose_z, raw_anomaly, record_score, robust_scale
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
        self._raw = Ring(cfg.history)
        self._scores = Ring(cfg.refractory)
        self._seen = 0

    def _predictions(self, t: float) -> np.ndarray:
        cfg = self.cfg
        span = t - self._first_t if self._seen else 0.0
        daily = self._daily.predict(t) if span >= cfg.min_cycles * DAY_S else math.nan
        weekly = self._weekly.predict(t) if span >= cfg.min_cycles * WEEK_S else math.nan
        return np.array([self._previous, self._local.median(cfg.min_local), daily, weekly])

    def update(self, t: float, x: float) -> float:
        """Score one new point in [0, 1], using only this point and the past."""
        cfg = self.cfg
        if not self._seen:
            self._first_t = t
        residuals = x - self._predictions(t)
        scales = np.array([robust_scale(np.array(ring.mean(cfg.min_residuals))) for ring in self._errors])
        z = float(choose_z(residuals[:, None], scales[:, None], np.array([x]))[0])
        for ring, residual in zip(self._errors, residuals, strict=True):
            if not math.isnan(residual):
                ring.push(abs(residual))
        self._local.push(x)
        self._daily.learn(t, x)
        self._weekly.learn(t, x)
        self._previous = x

        alpha = cfg.shift_alpha
        self._shift = alpha * min(max(z, -cfg.shift_clip), cfg.shift_clip) + (1.0 - alpha) * self._shift
        shift = abs(self._shift) * math.sqrt((2.0 - alpha) / alpha)
        raw = float(raw_anomaly(np.array([z]), np.array([shift]), cfg)[0])
        likelihood = float(record_score(np.array([raw]), np.array([self._raw.max()]))[0])
        if self._seen < cfg.min_history:
            likelihood = 0.0
        self._raw.push(raw)
        final = min(likelihood, 1.0 - self._scores.max())
        self._scores.push(likelihood)
        self._seen += 1
        return final
