"""The seasonal profile: the streaming table predicts exactly what the batch twin computes."""

from __future__ import annotations

import numpy as np
import pytest

from tools.anomaly.seasonal import DAY_S, SeasonalProfile, phase_bins, seasonal_prediction


def _streamed(profile: SeasonalProfile, t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """predict-then-learn, as the detector does: each prediction sees only earlier values."""
    out = np.empty(x.size)
    for i, (ti, xi) in enumerate(zip(t.tolist(), x.tolist(), strict=True)):
        phase_bin = profile.bin_of(ti)
        out[i] = profile.predict(phase_bin)
        profile.learn(phase_bin, xi)
    return out


@pytest.mark.parametrize(("step_s", "depth"), [(600.0, 14), (1234.5, 3), (450.0, 2)])
def test_streaming_profile_equals_the_batch_median_bit_for_bit(step_s: float, depth: int) -> None:
    n_bins, min_count = 144, 2
    t = 1_600_000_000.0 + step_s * np.arange(4000)  # many days: every bin wraps its ring
    x = np.random.default_rng(int(step_s)).normal(10.0, 3.0, t.size)
    batch = seasonal_prediction(x, phase_bins(t, DAY_S, n_bins), n_bins, depth, min_count)
    streamed = _streamed(SeasonalProfile(DAY_S, n_bins, depth, min_count), t, x)
    assert np.array_equal(batch, streamed, equal_nan=True)
    assert np.isfinite(streamed).sum() > t.size // 2


def test_a_deep_bin_counts_past_its_counter_type() -> None:
    # depth 255 is the largest a uint8 counter holds: the count must stop there, not wrap to 0
    depth = 255
    t = np.full(700, 1_600_000_000.0)  # one bin
    x = np.random.default_rng(5).normal(0.0, 1.0, t.size)
    profile = SeasonalProfile(DAY_S, 4, depth, 8)
    batch = seasonal_prediction(x, phase_bins(t, DAY_S, 4), 4, depth, 8)
    assert np.array_equal(batch, _streamed(profile, t, x), equal_nan=True)
    assert profile._count.max() == depth


def test_the_table_holds_the_last_depth_values_of_each_bin() -> None:
    profile = SeasonalProfile(DAY_S, 3, 4, 1)
    for value in range(1, 7):  # 1..6 into bin 1: the ring keeps 3, 4, 5, 6
        profile.learn(1, float(value))
    assert profile.predict(1) == 4.5
    assert np.isnan(profile.predict(0)) and np.isnan(profile.predict(2))
    assert profile._table.shape == (3, 4) and profile._table[[0, 2]].sum() == 0.0
