"""The alerting rule the Nezha importer derives alerts with: when it fires, and when it must not."""

from __future__ import annotations

import numpy as np

from evals.recordings.importers.nezha_alert import AlertRule, EntrySignals, first_firing

RULE = AlertRule()
MINUTE = 60.0
T = np.arange(0, 120 * MINUTE, MINUTE) + 9.0  # samples at :09 for two hours
INJECTED = 90 * MINUTE + 30  # between the samples at 90:09 and 91:09
UNTIL = INJECTED + 5 * MINUTE


def _signals(
    p99: list[float] | np.ndarray, success: np.ndarray | None = None, kept: np.ndarray | None = None
) -> EntrySignals:
    return EntrySignals(
        T, np.asarray(p99, dtype=float), success, np.ones(len(T), bool) if kept is None else kept
    )


def _slow(at_minutes: list[int], base: float = 0.5, value: float = 2.0) -> np.ndarray:
    p99 = np.full(len(T), base)
    p99[at_minutes] = value
    return p99


def test_fires_at_the_sample_completing_two_high_evaluations_after_the_injection() -> None:
    firing = first_firing(RULE, _signals(_slow([91, 92, 93])), INJECTED, UNTIL)
    assert firing is not None and firing.alertname == "EntryLatencyHigh"
    assert firing.at == T[92] and firing.value == 2.0 and firing.baseline == 0.5


def test_a_single_spike_or_a_run_begun_before_the_injection_does_not_fire() -> None:
    assert first_firing(RULE, _signals(_slow([91, 93])), INJECTED, UNTIL) is None
    # high at 89 and 90 (before the injection), then 91: only one evaluation after it
    assert first_firing(RULE, _signals(_slow([89, 90, 91])), INJECTED, UNTIL) is None


def test_nothing_after_the_window_counts() -> None:
    assert first_firing(RULE, _signals(_slow([96, 97, 98])), INJECTED, UNTIL) is None
    assert first_firing(RULE, _signals(_slow([91, 92])), INJECTED, T[91] + 1) is None  # next fault at 91:10


def test_the_baseline_is_fault_free_and_needs_enough_samples() -> None:
    p99 = _slow([91, 92], value=1.2)
    p99[20:60] = 3.0  # an earlier fault: slow for 40 minutes
    kept = np.ones(len(T), bool)
    assert (
        first_firing(RULE, _signals(p99, kept=kept), INJECTED, UNTIL) is None
    )  # its samples lift the baseline
    kept[20:60] = False  # left out of the recording, as the importer does with earlier faults' windows
    assert first_firing(RULE, _signals(p99, kept=kept), INJECTED, UNTIL) is not None
    kept[:82] = False  # fewer than min_baseline samples in the baseline window
    assert first_firing(RULE, _signals(p99, kept=kept), INJECTED, UNTIL) is None


def test_the_success_arm_fires_when_the_success_ratio_is_reported() -> None:
    success = np.ones(len(T))
    success[[91, 92]] = 0.8
    firing = first_firing(RULE, _signals(np.full(len(T), 0.5), success), INJECTED, UNTIL)
    assert firing is not None and firing.alertname == "EntrySuccessRateLow" and firing.at == T[92]
    assert first_firing(RULE, _signals(np.full(len(T), 0.5), None), INJECTED, UNTIL) is None
