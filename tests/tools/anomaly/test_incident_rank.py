"""`rank_incident`, the ranking the tool makes and the benchmark measures: the onset search on
healthy and faulty windows, short windows, and the metric rows it reads without ranking them."""

from __future__ import annotations

import numpy as np

from tools.anomaly.incident_rank import plateau_end, rank_incident
from tools.anomaly.rank import SeriesKey, SignalMatrix

STEP_S = 15.0
N_POINTS = 480  # the tool's default: two hours at 15 s
TIMES = np.asarray(1_700_000_000.0 + STEP_S * np.arange(N_POINTS), dtype=np.float64)
LATEST = float(TIMES[-1])
CALLS = {"front": ["orders", "catalog"], "orders": ["payments"]}


def services(seed: int) -> dict[SeriesKey, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows: dict[SeriesKey, np.ndarray] = {}
    for i, name in enumerate(("front", "orders", "catalog", "payments")):
        rows[SeriesKey(name, "latency_p99")] = 0.1 * (i + 1) * np.exp(rng.normal(0.0, 0.1, N_POINTS))
        rows[SeriesKey(name, "error_ratio")] = np.where(rng.random(N_POINTS) < 0.02, 0.002, 0.0)
        rows[SeriesKey(name, "request_rate")] = rng.normal(50.0, 2.0, N_POINTS)
        rows[SeriesKey(name, "cpu_per_request", rises_only=True)] = rng.normal(0.004, 0.0002, N_POINTS)
    return rows


def matrix(rows: dict[SeriesKey, np.ndarray], times: np.ndarray = TIMES) -> SignalMatrix:
    return SignalMatrix(times=times, keys=list(rows), values=np.vstack(list(rows.values())))


def test_a_blip_an_hour_before_the_alert_is_no_incident_for_the_onset_search() -> None:
    rows = services(1)
    rows[SeriesKey("catalog", "error_ratio")][240:260] = 0.05  # five minutes of errors, long over
    ranking = rank_incident(matrix(rows), CALLS, LATEST)
    assert not ranking.anomalous, [(c.entity, round(c.score, 1)) for c in ranking.candidates[:2]]


def test_a_fault_under_way_is_found_at_its_onset() -> None:
    rows = services(2)
    rows[SeriesKey("payments", "error_ratio")][400:] = 0.05
    rows[SeriesKey("orders", "error_ratio")][400:] = 0.03
    ranking = rank_incident(matrix(rows), CALLS, LATEST)
    assert ranking.anomalous and ranking.entities[0] == "payments"
    assert abs(ranking.onset - TIMES[400]) <= 120


def test_a_window_shorter_than_the_usual_baseline_is_still_searched() -> None:
    # ten minutes at 1 s, the fault after five of them (Sock Shop's recordings are this short)
    times = np.asarray(1_700_000_000.0 + np.arange(600), dtype=np.float64)
    rng = np.random.default_rng(3)
    cpu = rng.normal(0.004, 0.0002, 600)
    cpu[300:] *= 4
    rows = {SeriesKey("carts", "cpu_per_request", rises_only=True): cpu}
    rows[SeriesKey("carts", "request_rate")] = rng.normal(50.0, 2.0, 600)
    ranking = rank_incident(matrix(rows, times), {}, float(times[-1]))
    assert ranking.anomalous and abs(ranking.onset - times[300]) <= 60


def test_cpu_against_the_limit_is_ranked_only_where_no_cpu_per_request_exists() -> None:
    rows = services(4)
    rng = np.random.default_rng(4)
    for name in ("orders", "queue"):  # the queue reports no requests: no CPU per request
        rows[SeriesKey(name, "cpu_vs_limit", noise="ratio")] = rng.normal(0.2, 0.01, N_POINTS)
        rows[SeriesKey(name, "cpu_vs_limit", noise="ratio")][400:] = 0.9
    ranking = rank_incident(matrix(rows), CALLS, LATEST, onset=float(TIMES[400]))
    assert ranking.entities[0] == "queue"
    orders = next(c for c in ranking.candidates if c.entity == "orders")
    assert orders.score < ranking.threshold  # its CPU follows its load: cpu_per_request stands for it


def test_the_request_rate_tells_how_many_requests_an_error_ratio_was_measured_on() -> None:
    rows = services(5)
    rows[SeriesKey("catalog", "request_rate")][:] = 0.01  # a request every 100 s
    rows[SeriesKey("catalog", "error_ratio")][:] = 0.0
    rows[SeriesKey("catalog", "error_ratio")][400:] = 1.0  # ... and those few fail
    rows[SeriesKey("payments", "error_ratio")][400:] = 0.05  # 2.5 failures a second
    ranking = rank_incident(matrix(rows), CALLS, LATEST, onset=float(TIMES[400]))
    assert ranking.entities[0] == "payments"
    assert all(e.signal != "request_rate" for c in ranking.candidates for e in c.evidence)


def test_an_onset_after_the_last_point_ranks_nothing_without_failing() -> None:
    ranking = rank_incident(matrix(services(6)), CALLS, LATEST, onset=LATEST + 60)
    assert not ranking.anomalous and all(c.score == 0 for c in ranking.candidates)


def test_the_plateau_is_a_level_held_over_two_onsets_not_a_spike_at_one() -> None:
    """Top scores at onsets a minute apart, latest first: a fault from the third onset on holds 20 at
    every earlier one; one onset whose baseline ends just before a lone burst reaches 24. The spike
    must not set the bar (with it, 20 is off the plateau and the burst's onset is taken)."""
    tops = [0.0, 4.0, 20.0, 24.0, 20.0, 20.0, 20.0]
    assert plateau_end(tops) == 2
    assert plateau_end([0.0, 15.0, 15.5, 15.0]) == 1  # a plateau within 10 %: its latest onset
    assert plateau_end([3.0]) == 0 and plateau_end([]) == 0
