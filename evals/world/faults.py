"""What each fault and distractor does, as per-pod and per-service modifiers of the healthy model.

The load model (`evals.world.load`) reads these arrays; nothing else knows about fault kinds. Each
effect touches only what DESIGN §3.5 says it touches: e.g. dependency_latency adds delay to the
target's responses but no CPU, pod_failure makes exactly one pod fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evals.durations import parse_duration
from evals.scenario import (
    BadDeployParams,
    CpuHogParams,
    DependencyLatencyParams,
    Fault,
    PacketLossParams,
    PodFailureParams,
    Scenario,
    TrafficSurgeParams,
)
from evals.world.grid import Grid, ramp, smooth_noise, to_ms
from evals.world.model import FloatArray
from evals.world.pods import Pod, ServicePods

SLOW_NODE_FACTOR = 2.5  # own processing time on a node under memory/disk pressure
NOISY_SCALE = 4.0  # noise multiplier of a `noisy` distractor
SEASONAL_BOOST = 0.45  # extra share of the daily peak for `seasonal_peak`


@dataclass
class PodEffects:
    """Per-sample modifiers of one pod; neutral values mean a healthy pod."""

    lat_factor: FloatArray
    err: FloatArray
    cpu_extra: FloatArray  # cores demanded on top of the traffic's
    mem_frac: FloatArray  # working set as a share of the memory limit


@dataclass
class Effects:
    pods: dict[str, PodEffects]
    delay_ms: dict[str, FloatArray] = field(default_factory=dict)  # added to a service's responses
    loss: dict[str, FloatArray] = field(default_factory=dict)  # share of calls to a service lost
    traffic: dict[str, FloatArray] = field(default_factory=dict)  # multiplier of an entry's traffic
    noise: dict[str, float] = field(default_factory=dict)  # noise scale of a service
    seasonal_boost: float = 0.0
    node_conditions: dict[str, tuple[str, int]] = field(default_factory=dict)  # node -> (condition, ms)


def build_effects(scenario: Scenario, grid: Grid, plans: dict[str, ServicePods]) -> Effects:
    effects = Effects(pods={p.name: _healthy(grid, p) for plan in plans.values() for p in plan.pods})
    for plan in plans.values():
        for pod in plan.pods:
            _restarts(grid, pod, effects.pods[pod.name])
            if pod.slow_from_ms is not None or pod.evicted_ms is not None:
                pod_start = pod.slow_from_ms or _pressure_start(scenario, pod.node)
                effects.pods[pod.name].lat_factor *= 1.0 + (SLOW_NODE_FACTOR - 1.0) * ramp(grid, pod_start)
    for fault in scenario.faults:
        _apply_fault(scenario, grid, plans, effects, fault)
    for distractor in scenario.distractors:
        if distractor.kind == "noisy":
            effects.noise[distractor.target] = NOISY_SCALE
        elif distractor.kind == "seasonal_peak":
            effects.seasonal_boost = SEASONAL_BOOST
    return effects


def _apply_fault(
    scenario: Scenario, grid: Grid, plans: dict[str, ServicePods], effects: Effects, fault: Fault
) -> None:
    """Add one fault to `effects`. Faults compose, so two may overlap on one service: delays add up,
    losses and error ratios combine as independent failures, traffic multipliers multiply."""
    start_ms = to_ms(scenario.at(fault.start))
    ramp_s = None if fault.ramp is None else parse_duration(fault.ramp).total_seconds()
    on = ramp(grid, start_ms) if ramp_s is None else ramp(grid, start_ms, ramp_s)
    if fault.kind == "bad_deploy":
        bad = fault.typed_params()
        assert isinstance(bad, BadDeployParams)
        for pod in plans[fault.target].pods:
            if pod.revision.cause == "bad_deploy" and pod.revision.created_ms == start_ms:
                pod_effects = effects.pods[pod.name]
                if ramp_s is None:  # the new code fails from its first request
                    pod_effects.err = combine_failures(pod_effects.err, np.full(grid.n, bad.error_ratio))
                    pod_effects.lat_factor *= bad.latency_factor
                else:  # e.g. a cache of the old behaviour expiring: the failing share grows
                    pod_effects.err = combine_failures(pod_effects.err, bad.error_ratio * on)
                    pod_effects.lat_factor *= 1.0 + (bad.latency_factor - 1.0) * on
    elif fault.kind == "cpu_hog":
        hog = fault.typed_params()
        assert isinstance(hog, CpuHogParams)
        limit = scenario.topology.services[fault.target].cpu_limit
        for pod in plans[fault.target].pods:
            effects.pods[pod.name].cpu_extra += hog.cores * on
            effects.pods[pod.name].lat_factor *= 1.0 + 2.5 * min(hog.cores, limit) / limit * on
    elif fault.kind == "pod_failure":
        index = PodFailureParams.model_validate(fault.params).pod
        victim = failing_pod(plans[fault.target], grid.index(start_ms), index)
        if victim is not None:
            if ramp_s is None:
                effects.pods[victim.name].err[grid.index(start_ms) :] = 1.0
            else:
                effects.pods[victim.name].err = combine_failures(effects.pods[victim.name].err, on)
    elif fault.kind == "dependency_latency":
        delay = DependencyLatencyParams.model_validate(fault.params).delay
        added = parse_duration(delay).total_seconds() * 1000.0 * on
        before = effects.delay_ms.get(fault.target)
        effects.delay_ms[fault.target] = added if before is None else before + added
    elif fault.kind == "packet_loss":
        loss = PacketLossParams.model_validate(fault.params).loss * on
        before = effects.loss.get(fault.target)
        effects.loss[fault.target] = loss if before is None else combine_failures(before, loss)
    elif fault.kind == "traffic_surge":
        factor = TrafficSurgeParams.model_validate(fault.params).factor
        surge = 1.0 + (factor - 1.0) * ramp(grid, start_ms, 120.0 if ramp_s is None else ramp_s)
        before = effects.traffic.get(fault.target)
        effects.traffic[fault.target] = surge if before is None else before * surge
    elif fault.kind == "node_pressure":
        condition = str(fault.params.get("condition", "MemoryPressure"))
        effects.node_conditions[fault.target.removeprefix("node/")] = (condition, start_ms)


def combine_failures(a: FloatArray, b: FloatArray) -> FloatArray:
    """The share failing when two independent causes fail shares `a` and `b` (exactly `b` where `a` is 0,
    so a single fault's values are the ones it always had)."""
    return np.where(a == 0.0, b, 1.0 - (1.0 - a) * (1.0 - b))


def failing_pod(plan: ServicePods, at: int, index: int) -> Pod | None:
    """The `index`-th (by name, modulo their number) pod of the service running at sample `at`."""
    running = sorted((p for p in plan.pods if p.start <= at < p.running_until(10**12)), key=lambda p: p.name)
    return running[index % len(running)] if running else None


def _pressure_start(scenario: Scenario, node: str) -> int:
    for fault in scenario.faults:
        if fault.kind == "node_pressure" and fault.target == f"node/{node}":
            return to_ms(scenario.at(fault.start))
    raise ValueError(f"pod on {node} marked slow without a node_pressure fault")


def _healthy(grid: Grid, pod: Pod) -> PodEffects:
    rng = grid.rng("pod-memory", pod.name)
    base = 0.42 + 0.14 * rng.random()
    mem = base + smooth_noise(rng, grid.n, 0.008, width=9) + 0.004 * np.sin(np.arange(grid.n) / 40.0)
    if pod.crashloop:
        mem = np.full(grid.n, 0.04)
    return PodEffects(np.ones(grid.n), np.zeros(grid.n), np.zeros(grid.n), mem)


def _restarts(grid: Grid, pod: Pod, effects: PodEffects) -> None:
    """A leaking container's working set climbs from its base to the limit, then the kernel kills it;
    the new instance starts low again. Garbage-collection pressure slows requests near the limit."""
    if pod.leak_from_ms is None:
        return
    base = float(np.median(effects.mem_frac))
    since = grid.ts_ms - pod.leak_from_ms
    climbing = since >= 0
    phase = np.mod(np.maximum(since, 0), pod.leak_period_ms) / pod.leak_period_ms
    frac = np.where(climbing, base + (1.0 - base) * phase, effects.mem_frac)
    effects.mem_frac = np.minimum(frac + 0.003 * np.sin(np.arange(grid.n) / 7.0), 0.995)
    pressure = np.clip((effects.mem_frac - 0.85) / 0.15, 0.0, 1.0)
    effects.lat_factor *= 1.0 + 4.0 * pressure**2
