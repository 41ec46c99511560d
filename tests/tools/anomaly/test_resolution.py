"""The ranking on series written every 5 minutes (CloudWatch periods) but served on the tool's 15 s
grid, as a metrics backend serves them (each sample repeated until the next): it must name what the
ranking of the samples themselves names (what `medic bench rca` measures on the same rows)."""

from __future__ import annotations

import numpy as np

from tools.anomaly.incident_rank import rank_incident
from tools.anomaly.rank import SeriesKey, SignalMatrix
from tools.anomaly.resolution import on_sample_grid, sample_spacing, with_repeats

PERIOD_S, STEP_S = 300.0, 15.0
AS_OF = 1_700_006_400.0  # the close of the period the alert fired on
SAMPLES = np.arange(AS_OF - 2 * 3600.0, AS_OF + 1, PERIOD_S)  # end-stamped periods over two hours
GRID = np.arange(AS_OF - 2 * 3600.0, AS_OF + 1, STEP_S)  # the tool's grid over the same lookback
SERVICES = ("front", "search", "items")
CALLS = {"front": ["search"], "search": ["items"]}


def periods(seed: int) -> SignalMatrix:
    """Per service p99, error ratio and request rate per 5-min period; search turns slow (×30) in the
    last period only, the one closing at the alert, and front (its caller) with it."""
    rng = np.random.default_rng(seed)
    keys, rows = [], []
    for i, name in enumerate(SERVICES):
        latency = 0.05 * (i + 1) * np.exp(rng.normal(0.0, 0.08, SAMPLES.size))
        if name in ("front", "search"):
            latency[-1] += 1.0
        keys += [SeriesKey(name, signal) for signal in ("latency_p99", "error_ratio", "request_rate")]
        rows += [latency, np.zeros(SAMPLES.size), rng.normal(4.0, 0.2, SAMPLES.size)]
    return SignalMatrix(times=SAMPLES, keys=keys, values=np.vstack(rows))


def held_on_grid(m: SignalMatrix) -> SignalMatrix:
    """What a range query at `STEP_S` returns: at each grid instant the latest sample at or before it."""
    latest = np.searchsorted(m.times, GRID, side="right") - 1
    return SignalMatrix(times=GRID, keys=m.keys, values=m.values[:, latest])


def test_the_spacing_of_samples_is_found_and_a_fine_grid_is_left_alone() -> None:
    samples = periods(1)
    assert sample_spacing(held_on_grid(samples).values) == PERIOD_S / STEP_S
    assert sample_spacing(samples.values) == 1
    flat = np.zeros((3, GRID.size))  # series that never change say nothing about their spacing
    assert sample_spacing(flat) == 1
    gappy = held_on_grid(samples).values.copy()
    gappy[:, ::7] = np.nan  # missing points do not count as changes
    assert sample_spacing(gappy) == PERIOD_S / STEP_S
    # a few series changing at every point (a maximum over offset pods) or rarely are outvoted
    rng = np.random.default_rng(1)
    mixed = np.vstack(
        [held_on_grid(samples).values, rng.random((2, GRID.size)), np.repeat(np.arange(8.0), 61)[: GRID.size]]
    )
    assert sample_spacing(mixed) == PERIOD_S / STEP_S


def test_one_point_per_sample_keeping_the_newest() -> None:
    held = held_on_grid(periods(2))
    sampled, every = on_sample_grid(held)
    assert every == PERIOD_S / STEP_S
    np.testing.assert_array_equal(sampled.times, SAMPLES)
    np.testing.assert_array_equal(sampled.values, periods(2).values)


def test_the_last_sample_decides_on_the_grid_of_the_samples_as_on_the_samples() -> None:
    for seed in (3, 4, 5):
        samples = periods(seed)
        expected = rank_incident(samples, CALLS, AS_OF)
        assert expected.anomalous and expected.entities[0] == "search"
        held = held_on_grid(samples)
        # on the 15 s grid the slow period is one point of the 4 an anomaly must hold: nothing stands out
        assert not rank_incident(held, CALLS, AS_OF - STEP_S).anomalous
        sampled, every = on_sample_grid(held)
        found = rank_incident(sampled, CALLS, AS_OF - STEP_S * every)
        assert found.anomalous and found.entities[0] == "search", found.entities[:3]
        score, want = found.candidates[0].score, expected.candidates[0].score
        assert abs(score - want) < 0.1 * want, (score, want)


def test_a_row_held_on_a_finer_grid_is_judged_on_its_samples_not_their_copies() -> None:
    """Spans and logs keep the 15-s grid, so minute-sampled metric rows are held on it: a pod that
    served requests in only three minutes of the hour has three samples of CPU per request, twelve
    points. Judged on the points it is 100 sigmas over an idle baseline; judged on its samples there
    are too few to judge it by, while a row with samples all along is judged as before."""
    minute, grid = 60.0, np.arange(0.0, 3600.0, STEP_S)
    rng = np.random.default_rng(7)
    samples = 0.02 * np.exp(rng.normal(0.0, 0.2, grid.size // 4))
    samples[-2:] = 0.3  # the last two minutes: fifteen times the usual CPU per request
    steady = np.repeat(samples, int(minute / STEP_S))
    sparse = np.full(grid.size, np.nan)
    sparse[:12] = np.repeat([0.019, 0.0195, 0.0195], 4)  # three minutes with requests, long ago
    sparse[-8:] = 0.3
    keys = [
        SeriesKey("busy", "cpu_per_request", "resource"),
        SeriesKey("idle", "cpu_per_request", "resource"),
    ]
    held = SignalMatrix(times=grid, keys=keys, values=np.vstack([steady, sparse]))

    on_points = rank_incident(held, {}, float(grid[-1]), onset=float(grid[-9]))
    assert {c.entity for c in on_points.candidates if c.score >= on_points.threshold} == {"busy", "idle"}
    on_samples = rank_incident(with_repeats(held, 4), {}, float(grid[-1]), onset=float(grid[-9]))
    scores = {c.entity: c.score for c in on_samples.candidates}
    assert scores["busy"] >= on_samples.threshold and scores.get("idle", 0.0) == 0.0, scores
    assert all(k.repeats == 4 for k in with_repeats(held, 4).keys)
