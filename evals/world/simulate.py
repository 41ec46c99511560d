"""`simulate(scenario) -> World`: the deterministic world simulator (DESIGN §3.5, §3.6).

The steps run in dependency order: plan the pods (revisions, evictions, restarts), derive each
fault's modifiers, run the load model, then render what a cluster would show: metric families,
Kubernetes objects, pod logs and trace spans. The same scenario always gives the same World.
"""

from __future__ import annotations

from evals.scenario import Scenario
from evals.world.alerts import alert_families
from evals.world.baseline import apply_baseline
from evals.world.faults import build_effects
from evals.world.grid import Grid
from evals.world.kube import build_objects
from evals.world.load import simulate_load
from evals.world.logs import build_logs
from evals.world.metrics import build_families
from evals.world.model import World
from evals.world.pods import plan_pods
from evals.world.spans import build_spans


def simulate(scenario: Scenario) -> World:
    grid = Grid.for_scenario(scenario)
    plans = plan_pods(scenario, grid)
    effects = build_effects(scenario, grid, plans)
    apply_baseline(scenario, grid, plans, effects)
    state = simulate_load(scenario, grid, plans, effects)
    return World(
        scenario=scenario,
        timestamps=grid.ts_ms.copy(),
        families=[*build_families(scenario, grid, plans, state, effects), *alert_families(scenario, grid)],
        objects=build_objects(scenario, grid, plans, effects),
        logs=build_logs(scenario, grid, plans, state, effects),
        spans=build_spans(scenario, grid, plans, state, effects),
    )
