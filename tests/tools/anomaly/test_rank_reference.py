"""The reference baseline (the same window one day and one week earlier, or fault-free data): a fault
older than the lookback window, a window too short for its own baseline, and a healthy day."""

from __future__ import annotations

import numpy as np
import pytest

from tools.anomaly.incident_rank import rank_incident
from tools.anomaly.rank import SeriesKey, SignalMatrix, rank_root_causes

STEP_S = 60.0
N_POINTS = 120
DAY, WEEK = 86_400.0, 7 * 86_400.0
START = 1_674_950_400.0
TIMES = np.asarray(START + STEP_S * np.arange(N_POINTS), dtype=np.float64)
ALERT = float(TIMES[-10])
SERVICES = ("gateway", "orders", "payments")
CALLS = {"gateway": ["orders"], "orders": ["payments"]}


def window(seed: int, shift: float = 0.0, slow: str | None = None) -> SignalMatrix:
    """p99 latency and error ratio of each service over two hours (shifted back by `shift`), `slow`
    running ×4 slower throughout."""
    rng = np.random.default_rng(seed)
    keys, rows = [], []
    for i, service in enumerate(SERVICES):
        latency = 0.05 * (i + 1) * np.exp(rng.normal(0.0, 0.1, N_POINTS))
        if service == slow:
            latency *= 4
        keys += [SeriesKey(service, "latency_p99"), SeriesKey(service, "error_ratio")]
        rows += [latency, np.where(rng.random(N_POINTS) < 0.05, 0.001, 0.0)]
    return SignalMatrix(times=TIMES - shift, keys=keys, values=np.vstack(rows))


def test_a_fault_older_than_the_window_is_found_against_the_day_and_week_before() -> None:
    today = window(1, slow="payments")  # payments has been slow since before the window began
    reference = SignalMatrix.over_periods(window(2, shift=DAY), window(3, shift=WEEK))
    blind = rank_incident(today, CALLS, ALERT)
    assert not blind.anomalous  # its own window holds the fault: nothing changed in it

    ranking = rank_incident(today, CALLS, ALERT, reference=reference)
    assert ranking.anomalous and ranking.entities[0] == "payments"
    evidence = ranking.candidates[0].evidence[0]
    assert evidence.signal == "latency_p99" and evidence.against_reference
    assert evidence.baseline_median == pytest.approx(0.15, rel=0.1)  # yesterday's level


def test_a_healthy_window_stays_quiet_and_keeps_its_own_baseline_with_a_reference() -> None:
    reference = SignalMatrix.over_periods(window(5, shift=WEEK), window(6, shift=DAY))
    ranking = rank_root_causes(window(4), float(TIMES[90]), CALLS, reference=reference)
    assert not ranking.anomalous
    assert not any(e.against_reference for c in ranking.candidates for e in c.evidence)


def test_a_window_too_short_for_a_baseline_is_judged_against_fault_free_data() -> None:
    # five 5-minute rows around the violation (two before it), and two days of fault-free rows
    rng = np.random.default_rng(7)
    healthy_times = np.asarray(START - 2 * DAY + 300.0 * np.arange(576), dtype=np.float64)
    keys = [SeriesKey("search", "latency_p99"), SeriesKey("site", "latency_p99")]
    healthy = SignalMatrix(
        times=healthy_times, keys=keys, values=np.vstack([0.05 * np.exp(rng.normal(0, 0.1, (2, 576)))])
    )
    issue_times = np.asarray(START + 300.0 * np.arange(5), dtype=np.float64)
    issue = np.vstack([[0.05, 0.052, 0.5, 0.55, 0.5], [0.05, 0.049, 0.06, 0.058, 0.05]])
    matrix = SignalMatrix(times=issue_times, keys=keys, values=issue)
    assert not rank_root_causes(matrix, float(issue_times[2])).anomalous  # two points: not judged
    ranking = rank_root_causes(matrix, float(issue_times[2]), reference=healthy)
    assert ranking.anomalous and ranking.entities[0] == "search"


def test_one_burst_in_two_days_of_baseline_does_not_excuse_the_same_burst_now() -> None:
    # an error ratio at 0 for two days but for one 5-minute burst of 3 %; now 3 % again, for 15 min
    times = np.asarray(START + 300.0 * np.arange(600), dtype=np.float64)
    errors = np.zeros(600)
    errors[200] = 0.03
    errors[597:] = 0.03
    matrix = SignalMatrix(times=times, keys=[SeriesKey("search", "error_ratio")], values=errors[None, :])
    ranking = rank_root_causes(matrix, float(times[597]))
    assert ranking.anomalous  # once in two days is not its nature; once an hour would be


def test_periods_join_in_time_matching_series_by_identity() -> None:
    week, day = window(8, shift=WEEK), window(9, shift=DAY)
    day_without_orders = SignalMatrix(
        times=day.times,
        keys=[k for k in day.keys if k.entity != "orders"],
        values=day.values[[i for i, k in enumerate(day.keys) if k.entity != "orders"]],
    )
    joined = SignalMatrix.over_periods(day_without_orders, week)
    assert joined.times[0] == week.times[0] and joined.times[-1] == day.times[-1]
    row = next(i for i, k in enumerate(joined.keys) if k.identity == ("orders", "latency_p99", "metrics", ""))
    assert np.all(np.isfinite(joined.values[row, :N_POINTS])) and np.all(
        np.isnan(joined.values[row, N_POINTS:])
    )
    with pytest.raises(ValueError, match="overlap"):
        SignalMatrix.over_periods(day, window(10, shift=DAY - 600.0))
