"""The forecaster: time to threshold on ramps and seasonal series."""

from __future__ import annotations

import numpy as np
import pytest

from tools.anomaly.forecast import time_to_threshold


def test_ramp_reaches_limit_at_the_extrapolated_time() -> None:
    t = np.arange(120) * 60.0
    y = 0.2 + 0.005 * np.arange(120) + np.random.default_rng(0).normal(0, 0.002, 120)
    eta = time_to_threshold(y, t, limit=1.0)
    assert eta.forecast.model == "damped_trend"
    assert eta.seconds is not None
    assert eta.seconds / 60 == pytest.approx(41.0, rel=0.15)


def test_flat_series_never_reaches_a_far_limit() -> None:
    t = np.arange(200) * 60.0
    y = 0.5 + np.random.default_rng(1).normal(0, 0.01, 200)
    assert time_to_threshold(y, t, limit=0.9).seconds is None


def test_seasonal_series_uses_holt_winters_and_finds_the_next_peak() -> None:
    t = np.arange(3 * 288) * 300.0
    y = 50 + 20 * np.sin(2 * np.pi * t / 86_400) + np.random.default_rng(1).normal(0, 1, t.size)
    eta = time_to_threshold(y, t, limit=69.0, horizon_s=86_400)
    assert eta.forecast.model == "holt_winters_seasonal"
    assert eta.seconds is not None
    expected = np.arcsin(19 / 20) / (2 * np.pi) * 86_400 + 300  # from the last point (phase -300 s)
    assert eta.seconds == pytest.approx(expected, abs=1800)
