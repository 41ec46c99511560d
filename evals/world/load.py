"""The load model of DESIGN §3.5: traffic, utilisation, latency and errors of every service, pod and
call edge, vectorised over the time grid.

Traffic flows from the entry services down the call graph (each request calls each callee once);
latency and errors flow back up (a service's latency is its own processing, plus queueing when
busy, plus its slowest callee, since callees are called in parallel; a failed call fails the request).
Callers with a timeout or retries (the scenario's `realism:`) see their callees through
`evals.world.retries`; the baseline's noise, weekly cycle and benign bursts arrive as `Effects`
(`evals.world.baseline`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evals.scenario import Scenario
from evals.topology import ServiceSpec, Topology
from evals.world.faults import Effects
from evals.world.grid import BoolArray, Grid, smooth_noise
from evals.world.model import FloatArray
from evals.world.pods import Pod, ServicePods
from evals.world.retries import Answer, client_view

NIGHT_LEVEL = 0.4  # traffic at the quietest hour, as a share of the daily peak
PEAK_HOUR_UTC = 15.0
NETWORK_MS = 0.6  # one in-cluster hop
RETRANSMIT_MS = 200.0  # TCP's minimum retransmission timeout: what a lost packet costs when retried
CLIENT_TIMEOUT_MS = 1000.0  # what a call costs when it is lost for good
SATURATION_ERRORS_FROM = 1.3  # utilisation above which requests start timing out
SPREAD_SIGMA = 0.35  # log-normal spread of request durations within one sample
RETRY_PASSES = 4  # load-model passes when clients retry (the retried load feeds back into latency)
_UNBOUNDED_CAPACITY = 5000.0  # for utilisation-driven CPU of queues (capacity "unbounded")

Parts = list[tuple[FloatArray, FloatArray]]  # (requests/s, median ms) components of a latency mixture


@dataclass
class PodState:
    pod: Pod
    running: BoolArray
    rate: FloatArray  # requests/s served
    lat_ms: FloatArray  # median duration
    err: FloatArray  # share answered 5xx
    cpu: FloatArray  # cores used
    throttled: FloatArray  # share of CFS periods throttled


@dataclass
class ServiceState:
    offered: FloatArray  # requests/s arriving
    ready: FloatArray  # pods serving
    util: FloatArray
    lat_ms: FloatArray  # what a caller waits (request-weighted over pods)
    err: FloatArray
    sigma: float


@dataclass
class EdgeState:
    caller: str
    callee: str
    rate: FloatArray  # calls/s sent (attempts/s, retries included, when the caller retries)
    err: FloatArray  # share of calls that fail, as the caller sees it
    mean_ms: FloatArray
    parts: dict[str, Parts] = field(default_factory=dict)  # by status code "200" / "500" (/ "504")
    attempts: FloatArray | None = None  # attempts per call, when the caller retries
    timed_out: FloatArray | None = None  # share of attempts that hit the caller's timeout, if it has one
    timeout_ms: float | None = None  # the caller's timeout, if it has one


@dataclass
class LoadState:
    services: dict[str, ServiceState]
    pods: dict[str, PodState]
    edges: dict[tuple[str, str], EdgeState]


def daily_level(
    grid: Grid,
    seasonal_boost: float = 0.0,
    night_level: float = NIGHT_LEVEL,
    peak_hour: float = PEAK_HOUR_UTC,
) -> FloatArray:
    """Traffic as a share of the daily peak: a cosine over the UTC day from `night_level` up to 1."""
    hours = (grid.ts_ms % 86_400_000) / 3_600_000.0
    offset = (hours - peak_hour + 12.0) % 24.0 - 12.0
    mid, amp = (1 + night_level) / 2, (1 - night_level) / 2
    return np.asarray(
        mid + amp * np.cos(2 * np.pi * offset / 24.0) + seasonal_boost * np.exp(-((offset / 1.5) ** 2))
    )


def topological_order(topology: Topology) -> list[str]:
    """Callers before callees; ties in topology order, so the result never depends on hashing."""
    pending = {name: len(topology.callers(name)) for name in topology.services}
    order: list[str] = []
    while len(order) < len(pending):
        ready = [n for n, count in pending.items() if count == 0 and n not in order]
        name = ready[0]
        order.append(name)
        for callee in topology.services[name].calls:
            pending[callee] -= 1
    return order


def queue_factor(util: FloatArray) -> FloatArray:
    """Queueing delay in units of the own processing time: small until busy, steep past saturation."""
    return np.where(util <= 1.0, 0.25 * util**3, 0.25 + 12.0 * (util - 1.0))


def saturation_errors(util: FloatArray) -> FloatArray:
    return np.clip((util - SATURATION_ERRORS_FROM) * 0.8, 0.0, 0.6)


def simulate_load(
    scenario: Scenario, grid: Grid, plans: dict[str, ServicePods], effects: Effects
) -> LoadState:
    """The load model; with client timeouts or retries it runs a few passes, since retried calls raise
    the callee's load, which slows it, which makes more calls time out (RETRY_PASSES settles it)."""
    state = _one_pass(scenario, grid, plans, effects, {})
    if scenario.realism.has_clients:
        for _ in range(RETRY_PASSES - 1):
            amplify = {key: e.attempts for key, e in state.edges.items() if e.attempts is not None}
            state = _one_pass(scenario, grid, plans, effects, amplify)
    return state


def _one_pass(
    scenario: Scenario,
    grid: Grid,
    plans: dict[str, ServicePods],
    effects: Effects,
    amplify: dict[tuple[str, str], FloatArray],
) -> LoadState:
    topology = scenario.topology
    season = scenario.realism.seasonality
    order = topological_order(topology)
    running = {p.name: _running(grid, p) for plan in plans.values() for p in plan.pods}
    ready: dict[str, FloatArray] = {}
    for name in topology.services:
        if name in plans:
            ready[name] = np.sum([running[p.name] for p in plans[name].pods], axis=0, dtype=np.float64)
        else:
            ready[name] = np.full(grid.n, np.inf)
    level = daily_level(grid, effects.seasonal_boost, season.night_level, season.peak_hour_utc)
    offered = {name: np.zeros(grid.n) for name in topology.services}
    sent: dict[tuple[str, str], FloatArray] = {}
    for name in order:
        spec = topology.services[name]
        if spec.entry:
            noise = smooth_noise(grid.rng("traffic", name), grid.n, 0.03 * effects.noise.get(name, 1.0))
            surge = effects.traffic.get(name, np.ones(grid.n))
            offered[name] += spec.rps * level * surge * np.maximum(1.0 + noise, 0.2)
        serving = ready[name] > 0
        for callee in spec.calls:
            sent[(name, callee)] = offered[name] * serving
            lost_for_good = effects.loss.get(callee, np.zeros(grid.n)) / 2.0
            attempts = sent[(name, callee)]
            if (name, callee) in amplify:  # every retried attempt reaches the callee too
                attempts = attempts * amplify[(name, callee)]
            offered[callee] = offered[callee] + attempts * (1.0 - lost_for_good)

    state = LoadState(services={}, pods={}, edges={})
    for name in reversed(order):
        spec = topology.services[name]
        callee_edges = [state.edges[(name, c)] for c in spec.calls]
        slowest = np.max([e.mean_ms for e in callee_edges], axis=0) if callee_edges else np.zeros(grid.n)
        callee_ok = np.prod([1.0 - e.err for e in callee_edges], axis=0) if callee_edges else np.ones(grid.n)
        sigma = SPREAD_SIGMA * (1.7 if name in effects.noise else 1.0)
        delay = effects.delay_ms.get(name, np.zeros(grid.n))
        if name not in plans:
            jitter = np.exp(smooth_noise(grid.rng("latency", name), grid.n, 0.05))
            lat = spec.latency_ms * jitter + delay
            service = ServiceState(offered[name], ready[name], np.zeros(grid.n), lat, np.zeros(grid.n), sigma)
        else:
            service = _pod_service(
                grid, spec, name, plans[name], offered[name], ready[name], running, effects
            )
            for pod_state in _pods(
                grid, spec, name, plans[name], service, running, effects, slowest, callee_ok
            ):
                state.pods[pod_state.pod.name] = pod_state
            _aggregate(service, [state.pods[p.name] for p in plans[name].pods])
        state.services[name] = service
        for caller in topology.callers(name):
            policy = scenario.realism.client(caller)
            if policy == (None, 0):
                edge = _edge(caller, name, sent[(caller, name)], service, effects, grid)
            else:
                edge = _client_edge(caller, name, sent[(caller, name)], service, effects, grid, policy)
            state.edges[(caller, name)] = edge
    return state


def _client_edge(
    caller: str,
    callee: str,
    rate: FloatArray,
    service: ServiceState,
    effects: Effects,
    grid: Grid,
    policy: tuple[float | None, int],
) -> EdgeState:
    """The caller's view of calls to `callee` through a client with a timeout and/or retries."""
    loss = effects.loss.get(callee, np.zeros(grid.n))
    answer = Answer(NETWORK_MS + service.lat_ms, service.sigma, service.err)
    view = client_view(rate, answer, loss, policy[0], policy[1], RETRANSMIT_MS, CLIENT_TIMEOUT_MS)
    sent = rate * view.attempts_per_call
    timed_out = None if policy[0] is None else view.timed_out
    return EdgeState(
        caller, callee, sent, view.err, view.mean_ms, view.parts, view.attempts_per_call, timed_out, policy[0]
    )


def _running(grid: Grid, pod: Pod) -> BoolArray:
    index = np.arange(grid.n)
    alive = (index >= pod.start) & (index < pod.running_until(grid.n))
    return alive & (not pod.crashloop)


def _pod_service(
    grid: Grid,
    spec: ServiceSpec,
    name: str,
    plan: ServicePods,
    offered: FloatArray,
    ready: FloatArray,
    running: dict[str, BoolArray],
    effects: Effects,
) -> ServiceState:
    capacity = spec.capacity or _UNBOUNDED_CAPACITY
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(ready > 0, offered / (np.maximum(ready, 1) * capacity), 0.0)
    sigma = SPREAD_SIGMA * (1.7 if name in effects.noise else 1.0)
    return ServiceState(offered, ready, util, np.zeros(grid.n), np.zeros(grid.n), sigma)


def _pods(
    grid: Grid,
    spec: ServiceSpec,
    name: str,
    plan: ServicePods,
    service: ServiceState,
    running: dict[str, BoolArray],
    effects: Effects,
    slowest: FloatArray,
    callee_ok: FloatArray,
) -> list[PodState]:
    capacity = spec.capacity or _UNBOUNDED_CAPACITY
    scale = effects.noise.get(name, 1.0)
    queue_ms = spec.latency_ms * queue_factor(service.util)
    sat_err = saturation_errors(service.util)
    delay = effects.delay_ms.get(name, np.zeros(grid.n))
    states = []
    for pod in plan.pods:
        rng = grid.rng("pod", pod.name)
        run = running[pod.name]
        eff = effects.pods[pod.name]
        share = np.where(run, 1.0 / np.maximum(service.ready, 1.0), 0.0)
        rate = service.offered * share * np.maximum(1.0 + smooth_noise(rng, grid.n, 0.02 * scale), 0.1)
        own = spec.latency_ms * eff.lat_factor * np.exp(smooth_noise(rng, grid.n, 0.04 * scale)) + delay
        lat = np.where(run, own + queue_ms + slowest, np.nan)
        err = np.where(run, 1.0 - (1.0 - eff.err) * (1.0 - sat_err) * callee_ok, np.nan)
        demand = (
            spec.cpu_limit * (0.04 + 0.96 * rate / capacity) * np.exp(smooth_noise(rng, grid.n, 0.03 * scale))
        )
        demand = demand + eff.cpu_extra
        cpu = np.where(run, np.minimum(demand, spec.cpu_limit), np.nan)
        # Throttling is set by the demand the pod really has (its share of the load plus any hog),
        # not by sampling noise: only a pod that needs more than its limit is throttled.
        needed = 0.04 + 0.96 * service.util + eff.cpu_extra / spec.cpu_limit
        throttled = np.where(run, np.clip((needed - 1.0) * 4.0, 0.0, 1.0), np.nan)
        if pod.crashloop:  # the container starts, fails its config check and exits: a blip of CPU
            cpu = np.where((np.arange(grid.n) >= pod.start) & (np.arange(grid.n) < pod.end), 0.01, np.nan)
            throttled = np.where(np.isnan(cpu), np.nan, 0.0)
        states.append(PodState(pod, run, np.where(run, rate, 0.0), lat, err, cpu, throttled))
    return states


def _aggregate(service: ServiceState, pods: list[PodState]) -> None:
    """A caller sees the request-weighted mix of the pods; with no pod serving, calls are refused fast."""
    total = np.sum([p.rate for p in pods], axis=0)
    weight = np.where(total > 0, total, 1.0)
    lat = np.sum([np.nan_to_num(p.lat_ms) * p.rate for p in pods], axis=0) / weight
    err = np.sum([np.nan_to_num(p.err) * p.rate for p in pods], axis=0) / weight
    down = service.ready <= 0
    service.lat_ms = np.where(down, 1.0, lat)
    service.err = np.where(down, 1.0, err)


def _edge(
    caller: str, callee: str, rate: FloatArray, service: ServiceState, effects: Effects, grid: Grid
) -> EdgeState:
    """The caller's view of calls to `callee`: lost packets cost a retransmission, or, for half of
    them, the whole client timeout and an error, while the callee's own metrics barely change."""
    loss = effects.loss.get(callee, np.zeros(grid.n))
    base = NETWORK_MS + service.lat_ms
    delivered = rate * (1.0 - loss)
    ok_parts: Parts = [
        (delivered * (1.0 - service.err), base),
        (rate * loss / 2 * (1.0 - service.err), base + RETRANSMIT_MS),
    ]
    err_parts: Parts = [(delivered * service.err + rate * loss / 2 * service.err, base)]
    err_parts.append((rate * loss / 2, np.full(grid.n, CLIENT_TIMEOUT_MS)))
    err = 1.0 - (1.0 - service.err) * (1.0 - loss / 2)
    mean = (1.0 - loss) * base + loss / 2 * (base + RETRANSMIT_MS) + loss / 2 * CLIENT_TIMEOUT_MS
    return EdgeState(caller, callee, rate, err, mean, {"200": ok_parts, "500": err_parts})
