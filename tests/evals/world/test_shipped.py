"""Every shipped scenario loads and simulates; the simulator stays fast and the series count bounded."""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

import pytest

from evals.scenario import SCENARIO_DIR, DistractorKind, FaultKind, load_scenario
from evals.world.model import World
from evals.world.simulate import simulate

SHIPPED = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def test_every_fault_kind_and_distractor_has_a_shipped_scenario() -> None:
    scenarios = [load_scenario(s) for s in SHIPPED]
    kinds = {f.kind for s in scenarios for f in s.faults} | {d.kind for s in scenarios for d in s.distractors}
    assert kinds == set(get_args(FaultKind)) | set(get_args(DistractorKind))
    healthy = [s for s in scenarios if s.expect.root_cause.service is None]
    assert len(healthy) >= 2 and all(s.expect.remediation == [] and not s.faults for s in healthy)
    assert {s.topology.name for s in scenarios} == {"online-boutique", "sock-shop", "train-ticket", "inline"}


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_shipped_scenario_simulates(scenario_id: str, shipped_world: Callable[[str], World]) -> None:
    world = shipped_world(scenario_id)
    series = sum(len(f.series) for f in world.families)
    assert 0 < series < 2000 and world.sample_count > 0
    assert world.logs and world.spans and world.objects
    for family in world.families:
        for s in family.series:
            assert s.labels == tuple(sorted(s.labels)), s.name


def test_online_boutique_simulates_with_bounded_series() -> None:
    """Its speed is `python -m evals.bench.sandbox_up`'s simulate phase, measured and reported there (a
    timed assertion here measures how loaded the test machine is)."""
    scenario = load_scenario("checkout-bad-deploy")
    world = simulate(scenario.model_copy(update={"history": "6h", "step": "15s"}))
    assert sum(len(f.series) for f in world.families) < 1500
