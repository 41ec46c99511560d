"""HTM-style anomaly likelihood: relative to the series' own raw level, one alert per run, batch == streaming."""

from __future__ import annotations

import numpy as np

from tools.anomaly.likelihood import LikelihoodConfig, StreamingLikelihood, likelihood_scores


def _raw(n: int, level: float, seed: int) -> np.ndarray:
    return np.clip(np.random.default_rng(seed).normal(level, 0.05, n), 0.0, 1.0)


def test_batch_and_streaming_agree() -> None:
    raw = _raw(4000, 0.1, seed=0)
    raw[3000:3015] = 0.9
    cfg = LikelihoodConfig(history=1000)
    stream = StreamingLikelihood(cfg)
    streamed = np.array([stream.update(float(r)) for r in raw])
    np.testing.assert_allclose(likelihood_scores(raw, cfg), streamed, atol=1e-12)


def test_same_burst_matters_less_on_a_noisier_series() -> None:
    quiet, noisy = _raw(3000, 0.05, seed=1), np.random.default_rng(2).uniform(0.0, 0.6, 3000)
    quiet[2500:2504] = noisy[2500:2504] = 0.7
    peak_quiet, peak_noisy = (
        likelihood_scores(quiet)[2500:2510].max(),
        likelihood_scores(noisy)[2500:2510].max(),
    )
    assert peak_quiet > 0.5 > peak_noisy


def test_warm_up_scores_zero_and_scores_are_bounded() -> None:
    raw = _raw(2000, 0.05, seed=3)
    raw[20:40] = 1.0
    cfg = LikelihoodConfig()
    s = likelihood_scores(raw, cfg)
    assert s[: cfg.learning + cfg.min_samples].max() == 0.0
    assert s.min() >= 0.0 and s.max() <= 1.0


def test_a_run_of_unlikely_points_alerts_once() -> None:
    raw = _raw(3000, 0.05, seed=4)
    raw[2000:2030] = 1.0
    s = likelihood_scores(raw)
    red = np.flatnonzero(s[1990:2040] >= 0.5)  # tail probability <= 1e-5
    assert red.size == 1 and red[0] + 1990 in range(2000, 2003)
    assert np.allclose(s[red[0] + 1991 : 2030], 0.3)  # demoted to HTM's yellow (1e-3)


def test_a_second_burst_after_the_quiet_span_alerts_again() -> None:
    raw = _raw(3000, 0.05, seed=5)
    raw[2000:2003] = 1.0
    raw[2100:2103] = 1.0
    s = likelihood_scores(raw, LikelihoodConfig(quiet=10))
    alerts = np.flatnonzero(s >= 0.5)
    first, second = (a for a in alerts if a >= 1990)  # exactly two alerts, one per burst
    assert 2000 <= first < 2003 and 2100 <= second < 2103
