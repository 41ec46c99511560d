"""Simulated worlds of the scenario files, each computed once per test process and shared by every
module that walks them (a world takes about half a second; the suite has dozens of scenarios)."""

from __future__ import annotations

from functools import cache

from evals.scenario import load_scenario
from evals.world.model import World
from evals.world.simulate import simulate


@cache
def simulated_world(scenario_id: str) -> World:
    """The World of the shipped scenario `scenario_id` (a file of evals/scenarios/)."""
    return simulate(load_scenario(scenario_id))
