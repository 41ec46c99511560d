"""The load model's invariants (DESIGN §3.5), checked on the simulator's own state and on its metrics."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from evals.scenario import load_scenario
from evals.world.faults import build_effects
from evals.world.grid import Grid
from evals.world.load import LoadState, daily_level, simulate_load
from evals.world.model import World
from evals.world.pods import plan_pods
from tests.evals.world.query import cpu_cores, index_at, select, throttled_share, total_increase


def _load(scenario_id: str) -> tuple[Grid, LoadState]:
    scenario = load_scenario(scenario_id)
    grid = Grid.for_scenario(scenario)
    plans = plan_pods(scenario, grid)
    return grid, simulate_load(scenario, grid, plans, build_effects(scenario, grid, plans))


@pytest.mark.parametrize(
    "scenario_id", ["sock-shop-noisy", "train-ticket-cpu-hog", "payments-dependency-latency"]
)
def test_incoming_rate_is_the_sum_over_callers_and_utilisation_follows(scenario_id: str) -> None:
    scenario = load_scenario(scenario_id)
    _grid, state = _load(scenario_id)
    for name, spec in scenario.topology.services.items():
        callers = scenario.topology.callers(name)
        if callers:
            expected = np.sum([state.edges[(c, name)].rate for c in callers], axis=0)
            np.testing.assert_allclose(state.services[name].offered, expected, rtol=1e-9)
        if spec.has_pods and spec.capacity:
            svc = state.services[name]
            np.testing.assert_allclose(svc.util, svc.offered / (svc.ready * spec.capacity), rtol=1e-9)


def test_metrics_agree_with_the_call_graph(shipped_world: Callable[[str], World]) -> None:
    """Requests counted by a service's pods ≈ calls counted by its callers' clients."""
    world = shipped_world("sock-shop-noisy")
    start, stop = index_at(world, -3600), index_at(world, 0)
    served = total_increase(
        select(world, "http_server_request_duration_seconds_count", service="orders"), start, stop
    )
    called = total_increase(
        select(world, "http_client_request_duration_seconds_count", server_address="orders"), start, stop
    )
    assert called == pytest.approx(served, rel=0.03)
    carts = total_increase(
        select(world, "http_server_request_duration_seconds_count", service="carts"), start, stop
    )
    assert carts == pytest.approx(2 * served, rel=0.05)  # front-end and orders both call carts per request


def test_daily_cycle_goes_from_forty_percent_at_night_to_the_peak() -> None:
    scenario = load_scenario("boutique-seasonal-peak").model_copy(update={"distractors": []})
    level = daily_level(Grid.for_scenario(scenario))
    assert level.max() == pytest.approx(1.0, abs=0.01)
    assert level.min() == pytest.approx(0.4, abs=0.01)


def test_only_services_past_utilisation_one_saturate(shipped_world: Callable[[str], World]) -> None:
    world = shipped_world("boutique-traffic-surge")
    _, state = _load("boutique-traffic-surge")
    before, after = (
        (index_at(world, -3600), index_at(world, -1900)),
        (index_at(world, -1200), index_at(world, 0)),
    )
    saturated = [n for n, s in state.services.items() if s.util[after[0] : after[1]].mean() > 1.0]
    assert saturated == ["productcatalogservice"]
    limit = world.scenario.topology.services["productcatalogservice"].cpu_limit
    assert cpu_cores(world, "productcatalogservice", *after) == pytest.approx(limit, rel=0.02)
    assert throttled_share(world, "productcatalogservice", *after) > 0.1
    assert throttled_share(world, "productcatalogservice", *before) == 0.0
    for other in ("frontend", "cartservice", "currencyservice", "checkoutservice", "shippingservice"):
        assert throttled_share(world, other, *after) == 0.0, other
        assert cpu_cores(world, other, *after) < 0.95 * limit, other
