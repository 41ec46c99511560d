"""Episodes from scores, with onsets refined back to where the deviation began."""

from __future__ import annotations

import numpy as np
import pytest

from tools.anomaly.detector import analyze
from tools.anomaly.episodes import detect_episodes, episodes

STEP = 60.0
ALERT = 0.5


def _series(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    t = 1_700_000_000.0 + STEP * np.arange(n)
    x = 50.0 + np.random.default_rng(seed).normal(0, 1.0, n)
    x[100] += 25.0  # during the warm-up, so the range seen so far is wide
    return x, t


def test_level_shift_is_one_episode_starting_at_the_shift() -> None:
    x, t = _series(3000, seed=1)
    x[2000:] += 5.0
    found = [e for e in detect_episodes(x, t, ALERT) if e.end_index >= 1900]  # noise may alert earlier
    assert len(found) == 1
    (episode,) = found
    assert episode.onset_index == 2000 and episode.onset == t[2000]
    assert 2000 <= episode.start_index <= 2003
    assert episode.end_index >= episode.peak_index >= episode.start_index
    assert episode.peak_score >= ALERT


def test_spikes_are_separate_short_episodes() -> None:
    x, t = _series(3000, seed=2)
    x[1500] += 12.0
    x[2500] -= 12.0
    found = [e for e in detect_episodes(x, t, ALERT) if e.start_index in (1500, 2500)]
    assert [e.start_index for e in found] == [1500, 2500]
    assert all(e.onset_index == e.start_index and e.end_index - e.start_index <= 3 for e in found)


def test_slow_ramp_onset_walks_back_before_the_alert() -> None:
    x, t = _series(3000, seed=3)
    x[2000:2100] += np.linspace(0.0, 8.0, 100)
    x[2100:] += 8.0
    analysis = analyze(x, t)
    found = episodes(analysis.score, t, ALERT, analysis.shift)
    (episode,) = [e for e in found if e.end_index >= 1900]  # one episode despite the noisy deviation
    assert episode.onset_index < episode.start_index  # the alert came late, the onset did not
    assert 2000 <= episode.onset_index <= 2020
    assert episode.end_index >= 2100


def test_without_deviation_the_onset_is_the_first_alerting_point_and_gaps_merge() -> None:
    t = np.arange(12, dtype=np.float64)
    s = np.array([0, 0, 0.9, 0.8, 0, 0.7, 0, 0, 0, 0.6, 0, 0])
    assert [(e.onset_index, e.end_index, e.peak_index) for e in episodes(s, t, 0.5)] == [
        (2, 3, 2),
        (5, 5, 5),
        (9, 9, 9),
    ]
    merged = episodes(s, t, 0.5, merge_gap=1)
    assert [(e.start_index, e.end_index) for e in merged] == [(2, 5), (9, 9)]
    with pytest.raises(ValueError):
        episodes(s, t[:5], 0.5)
