"""Realistic baselines (the scenario's `realism:` block): slow-wandering noise on traffic and latency,
a weekly cycle, and benign bursts of outside traffic that are not incidents.

Each is folded into the fault `Effects` the load model already reads (traffic multipliers of the
entry services, processing-time factors of pods), from random streams of its own, so a scenario
without the block draws nothing here and keeps its bytes. The daily cycle's shape
(`seasonality.night_level`, `peak_hour_utc`) is read by `evals.world.load.daily_level`.
"""

from __future__ import annotations

import numpy as np

from evals.scenario import Scenario
from evals.scenario_realism import BenignSpikes
from evals.world.faults import Effects
from evals.world.grid import Grid, to_ms
from evals.world.model import FloatArray
from evals.world.pods import ServicePods

WANDER_KNOT_S = 900.0  # the wandering noise changes course about every 15 minutes
WEEK_MS = 7 * 86_400_000
MONDAY_OFFSET_MS = 4 * 86_400_000  # 1970-01-01 was a Thursday: Monday 00:00 UTC is 4 days later
WEEKEND_EDGE_H = 2.0  # traffic slides into and out of the weekend over two hours around midnight
_DAY_S = 86_400.0


def apply_baseline(scenario: Scenario, grid: Grid, plans: dict[str, ServicePods], effects: Effects) -> None:
    realism = scenario.realism
    entries = [name for name, spec in scenario.topology.services.items() if spec.entry]
    if realism.seasonality.weekend_level != 1.0:
        weekly = weekly_level(grid, realism.seasonality.weekend_level)
        for name in entries:
            _scale_traffic(effects, name, weekly)
    if realism.noise > 0:
        for name in entries:
            drift = wander(grid.rng("realism", "traffic", name), grid, realism.noise)
            _scale_traffic(effects, name, np.exp(drift))
        for name, plan in plans.items():
            slow = np.exp(wander(grid.rng("realism", "latency", name), grid, realism.noise))
            for pod in plan.pods:
                effects.pods[pod.name].lat_factor = effects.pods[pod.name].lat_factor * slow
    spikes = realism.benign_spikes
    if spikes.per_day > 0 or spikes.at:
        for name in spikes.services or entries:
            bursts = spike_times(scenario, grid, spikes, name)
            _scale_traffic(effects, name, spike_profile(grid, bursts, spikes.factor, spikes.duration_s()))


def weekly_level(grid: Grid, weekend_level: float) -> FloatArray:
    """1 on weekdays, `weekend_level` on Saturday and Sunday (UTC), with soft edges at midnight."""
    hours = ((grid.ts_ms - MONDAY_OFFSET_MS) % WEEK_MS) / 3_600_000.0  # since Monday 00:00
    half = WEEKEND_EDGE_H / 2

    def step(at_h: float) -> FloatArray:
        return np.asarray(np.clip((hours - at_h + half) / WEEKEND_EDGE_H, 0.0, 1.0))

    weekend = step(5 * 24.0) - step(7 * 24.0) + (1.0 - step(0.0))  # the last term: Sunday's last hour
    return np.asarray(1.0 + (weekend_level - 1.0) * np.clip(weekend, 0.0, 1.0))


def wander(rng: np.random.Generator, grid: Grid, sigma: float) -> FloatArray:
    """Zero-mean noise with std about `sigma` that drifts over tens of minutes (knots every 15 minutes,
    joined linearly), the slow wobble a real service's baseline has."""
    span_s = (grid.end_ms - grid.start_ms) / 1000.0
    knots = int(span_s // WANDER_KNOT_S) + 2
    at = grid.start_ms + np.arange(knots) * WANDER_KNOT_S * 1000.0 - rng.random() * WANDER_KNOT_S * 1000.0
    values = rng.standard_normal(knots) * sigma
    return np.asarray(np.interp(grid.ts_ms.astype(np.float64), at, values))


def spike_times(scenario: Scenario, grid: Grid, spikes: BenignSpikes, service: str) -> list[int]:
    """Centres (unix ms) of the bursts of one entry service: `at`'s, plus a seeded Poisson number of
    `per_day` spread uniformly over the history."""
    times = [to_ms(scenario.at(at)) for at in spikes.at]
    if spikes.per_day > 0:
        rng = grid.rng("realism", "spikes", service)
        days = (grid.end_ms - grid.start_ms) / 1000.0 / _DAY_S
        count = int(rng.poisson(spikes.per_day * days))
        times += [int(t) for t in rng.integers(grid.start_ms, grid.end_ms, count)]
    return sorted(times)


def spike_profile(grid: Grid, centres: list[int], factor: float, duration_s: float) -> FloatArray:
    """A traffic multiplier: 1, rising to `factor` at each centre and back within `duration_s` (a raised
    cosine); overlapping bursts take the larger, so the multiplier never exceeds `factor`."""
    bump = np.zeros(grid.n)
    for centre in centres:
        phase = grid.seconds_since(centre) / duration_s  # -0.5 .. 0.5 inside the burst
        inside = np.abs(phase) < 0.5
        bump = np.maximum(bump, np.where(inside, 0.5 * (1.0 + np.cos(2 * np.pi * phase)), 0.0))
    return np.asarray(1.0 + (factor - 1.0) * bump)


def _scale_traffic(effects: Effects, service: str, factor: FloatArray) -> None:
    before = effects.traffic.get(service)
    effects.traffic[service] = factor if before is None else before * factor
