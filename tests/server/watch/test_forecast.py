"""Saturation forecasts: a synthetic leak warns with its predicted time to the limit, close to the truth,
and with the runbook's action as a proposal; a CPU climb proposes a bounded scale."""

from __future__ import annotations

from agent.runbook import load_runbook
from server.watch import signals
from server.watch.config import WatchConfig
from server.watch.detection import Detection
from server.watch.loop import WatchLoop
from server.watch.store import MemoryStateStore
from tests.server.watch.synthetic import NAMESPACE, SyntheticBackend, World, at

LEAK_FROM = 20  # step at which the working set starts to climb
PER_STEP = 0.004  # share of the limit per 30 s step: from 0.5 to 0.95 in 112.5 steps (~56 min)
PODS = ("carts-5d9f7c6b8d-abcde", "carts-5d9f7c6b8d-fghij")


def climbing(resource: str) -> World:
    def world(signal: str, t: float) -> dict[str, float]:
        i = round((t - at(0).timestamp()) / 30)
        wobble = 0.002 * ((i * 7919) % 5 - 2)
        if signal == f"{resource}_vs_limit":
            return {PODS[0]: 0.5 + PER_STEP * max(0, i - LEAK_FROM) + wobble, PODS[1]: 0.45 + wobble}
        if signal in signals.CALLERS:
            return {}
        if signal in ("cpu_vs_limit", "memory_vs_limit"):
            return {PODS[0]: 0.3 + wobble, PODS[1]: 0.3}
        return {"carts": {"request_rate": 40.0, "error_ratio": 0.0, "latency_p99_s": 0.05}[signal] + wobble}

    return world


def warnings(resource: str, steps: int) -> list[Detection]:
    config = WatchConfig(namespaces=[NAMESPACE])
    loop = WatchLoop(
        config, SyntheticBackend(climbing(resource), config), MemoryStateStore(), runbook=load_runbook()
    )
    found: list[Detection] = []
    for step in range(steps):
        found += loop.run_step(at(step))
    return [d for d in found if d.kind == "saturation_forecast"]


def test_a_leak_is_forecast_with_its_time_to_the_limit() -> None:
    found = warnings("memory", 90)
    assert found, "a steady climb towards the limit must be forecast within the 2 h horizon"
    first = found[0]
    assert first.service == "carts" and first.resource == "memory"
    assert first.time_to_limit_s is not None
    opened_step = (first.opened_at - at(0)).total_seconds() / 30
    truth_s = (LEAK_FROM + (0.95 - 0.5) / PER_STEP - opened_step) * 30
    # the first warning comes ~20 points into the climb, where the damped trend still leans on the flat
    # history before it: it predicts late (measured: ~1.5x here), never early
    assert 0.9 * truth_s <= first.time_to_limit_s <= 1.6 * truth_s, (first.time_to_limit_s, truth_s)
    assert first.opened_at < at(LEAK_FROM + 112)  # ahead of the limit, not at it
    assert "forecast" in first.reason and "min" in first.reason
    assert first.proposal is not None and first.proposal.action is not None
    assert (first.proposal.action.kind, first.proposal.action.target) == (
        "rollout_restart",
        "shop/deployment/carts",
    )
    assert first.proposal.action.requested_by == "medic-watch"
    assert len(found) == 1  # one warning while the climb goes on


def test_a_cpu_climb_proposes_a_bounded_scale() -> None:
    (first, *_) = warnings("cpu", 90)
    assert first.proposal is not None and first.proposal.action is not None
    action = first.proposal.action
    assert (action.kind, action.target) == ("scale", "shop/deployment/carts")
    assert action.params["replicas"] in (3, 4)  # two pods now: at least +1, at most ×2


def test_a_flat_series_is_not_forecast() -> None:
    config = WatchConfig(namespaces=[NAMESPACE])
    flat = climbing("none")
    loop = WatchLoop(config, SyntheticBackend(flat, config), MemoryStateStore())
    assert not [d for s in range(80) for d in loop.run_step(at(s)) if d.kind == "saturation_forecast"]
