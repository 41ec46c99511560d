from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest

from evals.scenario import load_scenario
from evals.world.model import World
from evals.world.simulate import simulate


@cache
def _shipped(scenario_id: str) -> World:
    return simulate(load_scenario(scenario_id))


@pytest.fixture(scope="session")
def shipped_world() -> Callable[[str], World]:
    """The simulated World of a shipped scenario, computed once per test session."""
    return _shipped
