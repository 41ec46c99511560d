"""`medic watch --scenario`: a scenario's history replayed in simulated time through the same loop.

The scenario's sandbox (a real Prometheus backfilled with its telemetry) is brought up, and the loop
steps from the start of the history to its end at the scenario's metric step, each step an instant
query at that simulated time (`time=`), exactly as the live loop queries "now". Reached from the
CLI only: it imports `evals`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from agent.runbook import Runbook
from evals.durations import parse_duration
from evals.sandbox.sandbox import SandboxConfig, down, up
from evals.scenario import Scenario
from server.watch.config import WatchConfig
from server.watch.detection import Detection
from server.watch.loop import WatchLoop
from server.watch.store import MemoryStateStore
from tools.metrics.client import PrometheusBackend
from tools.metrics.templates import duration_seconds


@dataclass
class Replay:
    """What a replay saw: the incidents, and each saturation series' (time, share) points (the
    simulated truth a forecast is scored against)."""

    scenario: Scenario
    detections: list[Detection]
    saturation: dict[str, list[tuple[float, float]]]
    steps: int


def replay_config(scenario: Scenario, base: WatchConfig) -> WatchConfig:
    """The loop's configuration for a scenario: its namespace, its metric step."""
    step = parse_duration(scenario.step).total_seconds()
    return base.model_copy(update={"namespaces": [scenario.topology.namespace], "step_s": step})


def instants(scenario: Scenario, config: WatchConfig) -> Iterator[datetime]:
    """Every simulated step, from one rate window into the history (earlier rates are empty) to its end."""
    at = scenario.start_utc + timedelta(seconds=duration_seconds(config.window))
    step = timedelta(seconds=config.step_s)
    while at <= scenario.end_utc:
        yield at
        at += step


def replay(
    scenario: Scenario,
    base: WatchConfig,
    sandbox: SandboxConfig,
    *,
    runbook: Runbook | None = None,
    timeout_s: float = 10.0,
) -> Replay:
    config = replay_config(scenario, base)
    name = f"watch-{scenario.id}"[:60]
    info = up(scenario, sandbox, name=name)
    backend = PrometheusBackend(info.prometheus_url, timeout_s)
    try:
        loop = WatchLoop(config, backend, MemoryStateStore(), runbook=runbook)
        found: list[Detection] = []
        truth: dict[str, list[tuple[float, float]]] = {}
        steps = 0
        for at in instants(scenario, config):
            found += loop.run_step(at)
            steps += 1
            for key, history in loop.histories.items():
                if history.steps and history.times.values()[-1] == at.timestamp():
                    truth.setdefault(key, []).append((at.timestamp(), float(history.values.values()[-1])))
        return Replay(scenario=scenario, detections=found, saturation=truth, steps=steps)
    finally:
        backend.close()
        down(name, sandbox)


def sandbox_dir(state_dir: Path) -> Path:
    return state_dir / "watch-sandbox"
