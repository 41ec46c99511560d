"""Pod lifecycles: ReplicaSet revisions, pod names, node placement, evictions and container restarts.

Every pod is planned before any telemetry is drawn, because telemetry depends on which pods serve:
a rollout (bad_deploy, crashloop, a distractor deploy) starts a new revision whose pods replace the
old ones at `start`; node_pressure evicts pods from its node and the ReplicaSet recreates them
elsewhere; memory_leak and crashloop restart containers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evals.durations import parse_duration
from evals.scenario import MemoryLeakParams, NodePressureParams, Scenario
from evals.world.grid import Grid, stable_token, to_ms

# Kubernetes' SafeEncodeString alphabet (no vowels, no confusable characters).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
REGISTRY = "registry.example.com"
ROLLOUT_KINDS = ("bad_deploy", "crashloop", "deploy")
_DAY_MS = 86_400_000
_CRASH_RUN_MS = 5_000  # a misconfigured container lives this long before it exits
_EVICTION_DELAY_MS = 120_000


@dataclass(frozen=True)
class Revision:
    number: int
    hash: str
    created_ms: int
    image_tag: str
    env: tuple[tuple[str, str], ...]
    cause: str  # "initial" or the fault/distractor kind that rolled it out


@dataclass
class Pod:
    service: str
    name: str
    node: str
    revision: Revision
    slot: int
    created_ms: int
    start: int  # first sample index at which the pod exists
    end: int  # sample index at which it was deleted (grid.n: still there at `end`)
    deleted_ms: int | None = None
    evicted_ms: int | None = None
    evicted_at: int | None = None  # sample index; the Failed pod object stays
    crashloop: bool = False
    terminations: list[tuple[int, str]] = field(default_factory=list)  # (ms, reason) of container exits
    slow_from_ms: int | None = None  # on a node under pressure (not evicted)
    leak_from_ms: int | None = None  # memory_leak: when the working set starts to climb
    leak_period_ms: int = 0  # memory_leak: from a fresh container to its OOM kill

    def running_until(self, n: int) -> int:
        return self.evicted_at if self.evicted_at is not None else min(self.end, n)


@dataclass
class ServicePods:
    service: str
    revisions: list[Revision]
    pods: list[Pod]

    @property
    def current(self) -> Revision:
        return self.revisions[-1]


def plan_pods(scenario: Scenario, grid: Grid) -> dict[str, ServicePods]:
    """Revisions and pods of every in-cluster service, in topology order."""
    topology = scenario.topology
    blocked = _pressured_nodes(scenario)
    plans: dict[str, ServicePods] = {}
    for index, (name, spec) in enumerate(topology.services.items()):
        if not spec.has_pods:
            continue
        revisions = _revisions(scenario, grid, name, index)
        pods: list[Pod] = []
        for rev_index, rev in enumerate(revisions):
            following = revisions[rev_index + 1].created_ms if rev_index + 1 < len(revisions) else None
            for slot in range(spec.replicas):
                created = rev.created_ms + 1000 * slot
                # The rollout replaces slot by slot: a pod goes when its successor arrives.
                until_ms = None if following is None else following + 1000 * slot
                node = _node_for(topology.nodes, index + slot, blocked, created)
                pods.append(_pod(grid, name, rev, slot, 0, node, created, until_ms))
        plans[name] = ServicePods(name, revisions, pods)
    _apply_evictions(scenario, grid, plans, blocked)
    _apply_restarts(scenario, grid, plans)
    for plan in plans.values():
        plan.pods.sort(key=lambda p: (p.created_ms, p.name))
    return plans


def _revisions(scenario: Scenario, grid: Grid, service: str, index: int) -> list[Revision]:
    created = grid.start_ms - 6 * _DAY_MS - index * 3_600_000
    env: tuple[tuple[str, str], ...] = (
        ("LOG_LEVEL", "info"),
        ("PORT", "8080"),
        ("APP_CONFIG", "/etc/app/config.yaml"),
    )
    revisions = [Revision(1, _rs_hash(scenario, service, 1), created, "1.4.2", env, "initial")]
    rollouts: list[tuple[str, str, dict[str, Any]]] = [
        (f.start, f.kind, f.params) for f in scenario.faults if f.target == service
    ]
    rollouts += [(d.start, d.kind, {}) for d in scenario.distractors if d.target == service and d.start]
    starts = sorted(
        (to_ms(scenario.at(start)), kind, params) for start, kind, params in rollouts if kind in ROLLOUT_KINDS
    )
    for start_ms, kind, params in starts:
        number = len(revisions) + 1
        tag = f"1.4.{number + 1}"
        if kind == "bad_deploy" and params.get("image_tag"):
            tag = str(params["image_tag"])
        env = revisions[-1].env
        if kind == "crashloop":  # only the config file changes; what is wrong in it, only the app's log says
            env = (*env[:2], ("APP_CONFIG", "/etc/app/config-v2.yaml"))
        revisions.append(Revision(number, _rs_hash(scenario, service, number), start_ms, tag, env, kind))
    return revisions


def _rs_hash(scenario: Scenario, service: str, revision: int) -> str:
    return stable_token(NAME_ALPHABET, 10, scenario.seed, scenario.topology.namespace, service, revision)


def _pod(
    grid: Grid,
    service: str,
    rev: Revision,
    slot: int,
    generation: int,
    node: str,
    created: int,
    until: int | None,
) -> Pod:
    suffix = stable_token(NAME_ALPHABET, 5, grid.seed, service, rev.number, slot, generation)
    end = grid.n if until is None else grid.index(until)
    pod = Pod(service, f"{service}-{rev.hash}-{suffix}", node, rev, slot, created, grid.index(created), end)
    pod.deleted_ms = until
    pod.crashloop = rev.cause == "crashloop"
    return pod


def _pressured_nodes(scenario: Scenario) -> dict[str, int]:
    return {
        f.target.removeprefix("node/"): to_ms(scenario.at(f.start))
        for f in scenario.faults
        if f.kind == "node_pressure"
    }


def _node_for(nodes: list[str], turn: int, blocked: dict[str, int], at_ms: int) -> str:
    """Round-robin, skipping nodes that are tainted by pressure at `at_ms` (the scheduler avoids them)."""
    for offset in range(len(nodes)):
        node = nodes[(turn + offset) % len(nodes)]
        if node not in blocked or at_ms < blocked[node]:
            return node
    return nodes[turn % len(nodes)]


def _apply_evictions(
    scenario: Scenario, grid: Grid, plans: dict[str, ServicePods], blocked: dict[str, int]
) -> None:
    """Under pressure the kubelet evicts every other pod of the node; the rest stay on it, slowed."""
    for fault in scenario.faults:
        if fault.kind != "node_pressure":
            continue
        NodePressureParams.model_validate(fault.params)
        node, start_ms = fault.target.removeprefix("node/"), to_ms(scenario.at(fault.start))
        at_start = grid.index(start_ms)
        victims = sorted(
            (
                p
                for plan in plans.values()
                for p in plan.pods
                if p.node == node and p.start <= at_start < p.end
            ),
            key=lambda p: p.name,
        )
        for turn, pod in enumerate(victims):
            if turn % 2 == 1:
                pod.slow_from_ms = start_ms
                continue
            evicted_ms = min(start_ms + _EVICTION_DELAY_MS + 30_000 * turn, grid.end_ms)
            pod.evicted_ms, pod.evicted_at = evicted_ms, grid.index(evicted_ms)
            until = pod.deleted_ms
            index = list(scenario.topology.services).index(pod.service)
            new_node = _node_for(scenario.topology.nodes, index + pod.slot + 1, blocked, evicted_ms + 1000)
            replacement = _pod(
                grid, pod.service, pod.revision, pod.slot, 1, new_node, evicted_ms + 1000, until
            )
            plans[pod.service].pods.append(replacement)


def _apply_restarts(scenario: Scenario, grid: Grid, plans: dict[str, ServicePods]) -> None:
    for fault in scenario.faults:
        if fault.kind == "memory_leak" and fault.target in plans:
            ttoom_ms = parse_duration(
                MemoryLeakParams.model_validate(fault.params).time_to_oom
            ).total_seconds()
            start_ms = to_ms(scenario.at(fault.start))
            for pod in plans[fault.target].pods:
                # Staggered so that the pods do not all die in the same minute.
                period = int(ttoom_ms * 1000 * (1.0 + 0.15 * pod.slot))
                pod.leak_from_ms, pod.leak_period_ms = max(start_ms, pod.created_ms), period
                at = pod.leak_from_ms + period
                stop_ms = min(pod.deleted_ms or grid.end_ms, pod.evicted_ms or grid.end_ms, grid.end_ms)
                while at <= stop_ms:
                    pod.terminations.append((at, "OOMKilled"))
                    at += period
    for plan in plans.values():
        for pod in plan.pods:
            if pod.crashloop:
                pod.terminations = _crash_times(pod, grid)


def _crash_times(pod: Pod, grid: Grid) -> list[tuple[int, str]]:
    """Exits of a crashlooping container: it runs a few seconds, then waits the kubelet's back-off
    (10 s doubling to 5 min) before the next try."""
    times, at, backoff = [], pod.created_ms + _CRASH_RUN_MS, 10_000
    stop = min(pod.deleted_ms or grid.end_ms, grid.end_ms)
    while at <= stop:
        times.append((at, "Error"))
        at += backoff + _CRASH_RUN_MS
        backoff = min(backoff * 2, 300_000)
    return times


def image(namespace: str, service: str, tag: str) -> str:
    return f"{REGISTRY}/{namespace}/{service}:{tag}"
