"""The persistence rule: a blip opens nothing, a lasting shift opens one incident with its evidence,
and the loop reads one query per signal for every service, not one per service."""

from __future__ import annotations

import numpy as np

from server.watch import signals
from server.watch.config import WatchConfig
from server.watch.detection import Detection
from server.watch.loop import WatchLoop
from server.watch.store import MemoryStateStore
from tests.server.watch.synthetic import NAMESPACE, SyntheticBackend, World, at

STEPS = 420
CHANGE = 330  # after the warm-up (240 points)


def noisy_world(seed: int, blip: bool, shift: bool) -> World:
    """Two services; `checkout`'s error ratio gets a one-step blip and/or a lasting shift at CHANGE."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, size=(STEPS + 1, 10))

    def world(signal: str, t: float) -> dict[str, float]:
        i = round((t - at(0).timestamp()) / 30)
        n = noise[i]
        if signal == "request_rate":
            return {"checkout": 100 + 2 * n[0], "cart": 50 + n[1]}
        if signal == "error_ratio":
            bump = (0.3 if blip and i == CHANGE else 0.0) + (0.2 if shift and i >= CHANGE else 0.0)
            return {"checkout": abs(0.01 + 0.002 * n[2]) + bump, "cart": abs(0.01 + 0.002 * n[3])}
        if signal == "latency_p99_s":
            return {"checkout": 0.2 + 0.01 * n[4], "cart": 0.1 + 0.005 * n[5]}
        if signal in signals.CALLERS:
            return {}
        if signal == "cpu_vs_limit":
            return {
                "checkout-5d9f7c6b8d-abcde": 0.3 + 0.01 * n[6],
                "cart-7c9d8b6f5c-fghij": 0.2 + 0.01 * n[7],
            }
        return {"checkout-5d9f7c6b8d-abcde": 0.4 + 0.005 * n[8], "cart-7c9d8b6f5c-fghij": 0.3 + 0.005 * n[9]}

    return world


def run(world: World) -> tuple[list[Detection], SyntheticBackend]:
    config = WatchConfig(namespaces=[NAMESPACE])
    backend = SyntheticBackend(world, config)
    loop = WatchLoop(config, backend, MemoryStateStore())
    found: list[Detection] = []
    for step in range(STEPS):
        found += loop.run_step(at(step))
    return found, backend


def test_a_blip_opens_nothing() -> None:
    found, _ = run(noisy_world(3, blip=True, shift=False))
    assert [d for d in found if d.kind == "anomaly"] == []


def test_a_lasting_shift_opens_one_incident_with_its_evidence() -> None:
    found, backend = run(noisy_world(3, blip=False, shift=True))
    anomalies = [d for d in found if d.kind == "anomaly"]
    assert [(d.service, d.namespace) for d in anomalies] == [("checkout", NAMESPACE)]  # once, not per step
    incident = anomalies[0]
    rule = WatchConfig().persistence
    opened_step = round((incident.opened_at - at(0)).total_seconds() / 30)
    assert CHANGE + rule.k - 1 <= opened_step <= CHANGE + rule.n + 2  # k of n steps after the shift
    (error,) = [e for e in incident.evidence if e.signal == "error_ratio"]
    assert error.since == at(CHANGE) and error.steps_over >= rule.k
    assert error.value is not None and error.value > 0.15 and error.calm_value is not None
    assert error.calm_value < 0.05
    assert "error_ratio" in incident.reason and "since 2026-03-02T10:45:00Z" in incident.reason
    assert backend.queries == STEPS * len(signals.SIGNALS)  # one query per signal and step, for both services


def test_a_dependency_without_metrics_of_its_own_is_watched_through_what_its_callers_see() -> None:
    """An external API (no pods, no server metrics) starts failing its callers' calls: the incident is
    opened on it, from the client metrics grouped by the callee."""
    healthy = noisy_world(5, blip=False, shift=False)
    rng = np.random.default_rng(11)
    noise = rng.normal(0, 1, size=STEPS + 1)

    def world(signal: str, t: float) -> dict[str, float]:
        if signal != "callers_error_ratio":
            return healthy(signal, t)
        i = round((t - at(0).timestamp()) / 30)
        return {"partner-api": abs(0.002 + 0.0005 * noise[i]) + (0.3 if i >= CHANGE else 0.0)}

    found, _ = run(world)
    anomalies = [d for d in found if d.kind == "anomaly"]
    assert [d.service for d in anomalies] == ["partner-api"]
    assert [e.signal for e in anomalies[0].evidence] == ["callers_error_ratio"]
