"""The detector: causal, bounded, batch equals streaming, spikes and shifts alert at the right time."""

from __future__ import annotations

import numpy as np

from tools.anomaly.detector import PREDICTORS, DetectorConfig, analyze, score
from tools.anomaly.streaming import StreamingDetector

STEP = 300.0
ALERT = 0.5  # tail probability 1e-5, near NAB's swept threshold


def _series(n: int, seed: int = 0, daily: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    t = 1_600_000_000.0 + STEP * np.arange(n)
    x = 10.0 + daily * np.sin(2 * np.pi * t / 86_400) + np.random.default_rng(seed).normal(0, 0.5, n)
    return x, t


def test_batch_and_streaming_give_the_same_scores() -> None:
    x, t = _series(1500, daily=5.0)
    x[1200:] += 6.0
    x[700] += 30.0  # a new extreme too
    det = StreamingDetector()
    streamed = np.array([det.update(float(a), float(b)) for a, b in zip(t, x, strict=True)])
    np.testing.assert_allclose(score(x, t), streamed, atol=1e-9)


def test_scores_are_causal_and_bounded() -> None:
    x, t = _series(800, seed=3)
    full = score(x, t)
    future_changed = x.copy()
    future_changed[500:] += np.random.default_rng(9).normal(0, 50, 300)
    assert np.array_equal(score(future_changed, t)[:500], full[:500])
    assert full.min() >= 0.0 and full.max() <= 1.0


def test_spike_alerts_at_the_spike_and_once() -> None:
    x, t = _series(3000, seed=1)
    x[100] += 10.0  # during the warm-up: the range seen so far is wide
    x[2500] += 6.0  # 12 sigma, inside that range: judged by the likelihood, not as a new extreme
    result = analyze(x, t)
    assert result.score[2500] == result.score[200:].max() > ALERT
    assert result.raw[2500] == 1.0  # the raw surprise saturates
    after = result.score[2501:2510]
    assert after.max() < ALERT  # HTM's filter: the run of unlikely averages alerts once


def test_new_extreme_scores_one_after_warm_up() -> None:
    x, t = _series(1000, seed=1)
    x[700] = x[:700].max() + 3.0
    x[50] = x[:50].max() + 3.0  # during the warm-up: no score
    s = score(x, t)
    assert s[700] == 1.0
    assert s[:150].max() == 0.0


def test_level_shift_detected_at_its_onset() -> None:
    x, t = _series(3000, seed=2)
    x[100] += 10.0  # during the warm-up: the range seen so far is wide
    x[2400:] += 2.0  # 4 sigma: not an extreme, not one huge residual, a sustained shift
    s = score(x, t)
    first = int(np.flatnonzero(s[200:] > ALERT)[0]) + 200
    assert 2400 <= first <= 2403


def test_scores_stay_low_on_plain_noise() -> None:
    x, t = _series(3000, seed=5)
    s = score(x, t)
    assert np.mean(s[200:] > ALERT) < 0.002  # at most a handful of alerts in 2,800 ordinary points


def test_seasonal_profile_used_with_history_and_local_fallback_without() -> None:
    x, t = _series(288 * 9, seed=4, daily=8.0)
    result = analyze(x, t)
    early = np.bincount(result.predictor[100:500] + 1, minlength=5)
    late = np.bincount(result.predictor[-288:] + 1, minlength=5)
    assert early[1 + PREDICTORS.index("daily")] == 0  # under two days: no seasonal profile yet
    assert late[1 + PREDICTORS.index("daily")] > 0.8 * 288
    # a dip that is normal at that hour would be anomalous if it came at the daily peak
    peak = int(np.argmax(x[-288:])) + x.size - 288
    bumped = x.copy()
    bumped[peak] -= 24.0  # to 2 below the daily minimum: normal at night, not at the peak
    bumped_result = analyze(bumped, t)
    assert PREDICTORS[bumped_result.predictor[peak]] == "daily"
    assert bumped_result.z[peak] < -20
    assert bumped_result.score[peak] > score(x, t)[peak] + 0.1


def test_config_is_one_global_object() -> None:
    cfg = DetectorConfig(surprise_scale=10.0)
    x, t = _series(400)
    assert score(x, t, cfg).shape == (400,)
