"""Realistic baselines: the daily and weekly shape of traffic, slow noise, and benign bursts that are
short, bounded and not incidents."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from evals.world.baseline import spike_profile, spike_times
from evals.world.grid import Grid, to_ms
from evals.world.model import World
from tests.evals.world.query import error_ratio, index_at
from tests.evals.world.realism_worlds import served_per_s, shop, shop_world


def _at(world: World, moment: datetime) -> int:
    return int(np.searchsorted(world.timestamps, to_ms(moment)))


def _rate_around(world: World, moment: datetime, minutes: int = 20) -> float:
    i = _at(world, moment)
    half = minutes * 60_000 // int(world.timestamps[1] - world.timestamps[0]) // 2
    return served_per_s(world, "web", (i - half, i + half))


def test_the_daily_cycle_has_its_trough_and_peak_where_configured() -> None:
    world = shop_world(
        history="2d", step="60s", realism={"seasonality": {"night_level": 0.2, "peak_hour_utc": 19}}
    )
    peak = _rate_around(world, datetime(2026, 3, 2, 19, tzinfo=UTC))
    trough = _rate_around(world, datetime(2026, 3, 2, 7, tzinfo=UTC))
    assert peak == pytest.approx(60, rel=0.05)  # rps is the daily peak
    assert trough / peak == pytest.approx(0.2, abs=0.03)
    hours = [_rate_around(world, datetime(2026, 3, 2, h, tzinfo=UTC), 30) for h in range(1, 23)]
    assert int(np.argmax(hours)) + 1 == 19 and int(np.argmin(hours)) + 1 == 7


def test_weekends_are_quieter_than_weekdays() -> None:
    world = shop_world(history="7d", step="5m", realism={"seasonality": {"weekend_level": 0.5}})
    sunday = _rate_around(world, datetime(2026, 3, 1, 15, tzinfo=UTC), 60)  # 2026-03-01 is a Sunday
    saturday = _rate_around(world, datetime(2026, 2, 28, 15, tzinfo=UTC), 60)
    monday = _rate_around(world, datetime(2026, 3, 2, 15, tzinfo=UTC), 60)
    friday = _rate_around(world, datetime(2026, 2, 27, 15, tzinfo=UTC), 60)
    assert sunday / monday == pytest.approx(0.5, abs=0.05)
    assert saturday / friday == pytest.approx(0.5, abs=0.05)
    assert monday == pytest.approx(friday, rel=0.05)


def test_noise_wanders_around_the_same_baseline() -> None:
    plain, noisy = shop_world(history="6h"), shop_world(history="6h", realism={"noise": 0.2})

    def quarter_hours(world: World) -> np.ndarray:
        edges = range(index_at(world, -6 * 3600) + 1, index_at(world, 0) - 60, 60)
        return np.asarray([served_per_s(world, "web", (i, i + 60)) for i in edges])

    calm, wild = quarter_hours(plain), quarter_hours(noisy)
    assert np.std(wild / calm) > 0.08  # tens of per cent over a quarter of an hour ...
    assert np.std(calm[1:] / calm[:-1]) < 0.03  # ... where the plain model barely moves
    assert np.mean(wild) == pytest.approx(np.mean(calm), rel=0.25)
    assert error_ratio(noisy, "web", index_at(noisy, -6 * 3600), index_at(noisy, 0)) == 0.0


def test_benign_spikes_are_short_bounded_bursts() -> None:
    scenario = shop(history="2d", realism={"benign_spikes": {"per_day": 6, "factor": 2.5, "duration": "4m"}})
    grid = Grid.for_scenario(scenario)
    spikes = scenario.realism.benign_spikes
    centres = spike_times(scenario, grid, spikes, "web")
    assert 4 <= len(centres) <= 24 and centres == spike_times(scenario, grid, spikes, "web")
    profile = spike_profile(grid, centres, spikes.factor, spikes.duration_s())
    assert profile.max() <= 2.5 and profile.min() == 1.0
    above = np.flatnonzero(profile > 1.0)
    runs = np.split(above, np.flatnonzero(np.diff(above) > 1) + 1)
    assert len(runs) >= 1 and all(len(run) * grid.step_s <= 4 * 60 for run in runs)
    quiet = profile[grid.ts_ms < min(centres) - 120_000]
    assert (quiet == 1.0).all()


def test_a_spike_at_a_given_moment_shows_in_traffic_and_is_over_minutes_later() -> None:
    world = shop_world(realism={"benign_spikes": {"at": ["-40m"], "factor": 2.0, "duration": "4m"}})
    plain = shop_world()
    top = (index_at(world, -41 * 60), index_at(world, -39 * 60))
    later = (index_at(world, -30 * 60), index_at(world, -20 * 60))
    assert served_per_s(world, "web", top) > 1.7 * served_per_s(plain, "web", top)
    assert served_per_s(world, "api", top) > 1.7 * served_per_s(plain, "api", top)  # it flows down
    assert served_per_s(world, "web", later) == pytest.approx(served_per_s(plain, "web", later), rel=0.01)
    assert error_ratio(world, "web", *top) == 0.0  # a burst, not an incident
