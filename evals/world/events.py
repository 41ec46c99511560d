"""core/v1 Events of the namespace (and of the nodes, which live in `default`), as the controllers,
the scheduler and the kubelet would have recorded them. Like a real cluster, only events seen in
the last hour before `end` are kept."""

from __future__ import annotations

from typing import Any

from evals.scenario import Scenario
from evals.world.faults import Effects
from evals.world.grid import Grid
from evals.world.k8s_format import short_hex, timestamp, uid
from evals.world.pods import Pod, ServicePods, image

EVENT_TTL_MS = 3_600_000
_NODE_EVENTS = {
    "MemoryPressure": ("NodeHasInsufficientMemory", "memory"),
    "DiskPressure": ("NodeHasDiskPressure", "ephemeral-storage"),
}

Event = dict[str, Any]


def build_events(
    scenario: Scenario, grid: Grid, plans: dict[str, ServicePods], effects: Effects
) -> list[Event]:
    ns = scenario.topology.namespace
    events: list[Event] = []

    def add(
        kind: str,
        name: str,
        namespace: str,
        reason: str,
        message: str,
        first: int,
        last: int | None = None,
        count: int = 1,
        warning: bool = False,
        component: str = "kubelet",
    ) -> None:
        events.append(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": f"{name}.{short_hex(name, reason, message, first)}",
                    "namespace": namespace,
                    "uid": uid("event", name, reason, first),
                    "creationTimestamp": timestamp(first),
                },
                "involvedObject": {
                    "kind": kind,
                    "name": name,
                    "namespace": namespace if kind != "Node" else "",
                    "apiVersion": "apps/v1" if kind in ("Deployment", "ReplicaSet") else "v1",
                },
                "reason": reason,
                "message": message,
                "type": "Warning" if warning else "Normal",
                "source": {"component": component},
                "reportingComponent": component,
                "firstTimestamp": timestamp(first),
                "lastTimestamp": timestamp(last if last is not None else first),
                "count": count,
            }
        )

    for service, plan in plans.items():
        for previous, rev in zip(plan.revisions[:-1], plan.revisions[1:], strict=True):
            replicas = scenario.topology.services[service].replicas
            add(
                "Deployment",
                service,
                ns,
                "ScalingReplicaSet",
                f"Scaled up replica set {service}-{rev.hash} to {replicas}",
                rev.created_ms,
                component="deployment-controller",
            )
            add(
                "Deployment",
                service,
                ns,
                "ScalingReplicaSet",
                f"Scaled down replica set {service}-{previous.hash} to 0 from {replicas}",
                rev.created_ms + 2000 * replicas,
                component="deployment-controller",
            )
        for pod in plan.pods:
            resource = _NODE_EVENTS[effects.node_conditions.get(pod.node, ("MemoryPressure", 0))[0]][1]
            _pod_events(add, ns, grid, pod, resource)
    for node, (condition, start_ms) in effects.node_conditions.items():
        reason, resource = _NODE_EVENTS[condition]
        add("Node", node, "default", reason, f"Node {node} status is now: {reason}", start_ms)
        add(
            "Node",
            node,
            "default",
            "EvictionThresholdMet",
            f"Attempting to reclaim {resource}",
            start_ms + 10_000,
            grid.end_ms,
            count=max(1, (grid.end_ms - start_ms) // 300_000),
            warning=True,
        )
    for plan in plans.values():
        for pod in plan.pods:
            for turn, (at_ms, reason) in enumerate(pod.terminations):
                if reason == "OOMKilled":
                    add(
                        "Node",
                        pod.node,
                        "default",
                        "OOMKilling",
                        f"Memory cgroup out of memory: Killed process {4000 + 37 * turn} ({pod.service}) "
                        f"pod={pod.name} namespace={ns}",
                        at_ms,
                        warning=True,
                        component="kernel-monitor",
                    )
    horizon = grid.end_ms - EVENT_TTL_MS
    kept = [
        e
        for e in events
        if e["lastTimestamp"] >= timestamp(horizon) and e["firstTimestamp"] <= timestamp(grid.end_ms)
    ]
    return sorted(kept, key=lambda e: (e["lastTimestamp"], e["metadata"]["name"]))


def _pod_events(add: Any, ns: str, grid: Grid, pod: Pod, resource: str) -> None:
    rs = f"{pod.service}-{pod.revision.hash}"
    created = pod.created_ms
    container_image = image(ns, pod.service, pod.revision.image_tag)
    ended = [t for t in pod.terminations if t[0] <= grid.end_ms]
    starts = 1 + len(ended)
    last_start = ended[-1][0] + 1000 if ended else created + 2000
    add(
        "ReplicaSet",
        rs,
        ns,
        "SuccessfulCreate",
        f"Created pod: {pod.name}",
        created,
        component="replicaset-controller",
    )
    add(
        "Pod",
        pod.name,
        ns,
        "Scheduled",
        f"Successfully assigned {ns}/{pod.name} to {pod.node}",
        created,
        component="default-scheduler",
    )
    add(
        "Pod",
        pod.name,
        ns,
        "Pulled",
        f'Container image "{container_image}" already present on machine',
        created + 1000,
        last_start,
        count=starts,
    )
    add(
        "Pod",
        pod.name,
        ns,
        "Created",
        f"Created container {pod.service}",
        created + 1500,
        last_start,
        count=starts,
    )
    add(
        "Pod",
        pod.name,
        ns,
        "Started",
        f"Started container {pod.service}",
        created + 2000,
        last_start,
        count=starts,
    )
    if pod.crashloop and ended:
        add(
            "Pod",
            pod.name,
            ns,
            "BackOff",
            f"Back-off restarting failed container {pod.service} in pod "
            f"{pod.name}_{ns}({uid(ns, pod.name, pod.created_ms)})",
            ended[0][0] + 1000,
            grid.end_ms,
            count=len(ended),
            warning=True,
        )
    ooms = [ms for ms, reason in ended if reason == "OOMKilled"]
    if ooms:
        add(
            "Pod",
            pod.name,
            ns,
            "Unhealthy",
            'Readiness probe failed: Get "http://10.244.0.1:8080/healthz": '
            "context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
            ooms[0] - 90_000,
            ooms[-1] - 30_000,
            count=3 * len(ooms),
            warning=True,
        )
    if pod.slow_from_ms is not None:
        add(
            "Pod",
            pod.name,
            ns,
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
            pod.slow_from_ms + 60_000,
            grid.end_ms,
            count=max(1, (grid.end_ms - pod.slow_from_ms) // 120_000),
            warning=True,
        )
    if pod.evicted_ms is not None:
        add(
            "Pod",
            pod.name,
            ns,
            "Evicted",
            f"The node was low on resource: {resource}. Threshold quantity: 100Mi, "
            f"available: 71224Ki. Container {pod.service} was using 298844Ki, request is 0, has larger consumption "
            "of request.",
            pod.evicted_ms,
            warning=True,
        )
        add("Pod", pod.name, ns, "Killing", f"Stopping container {pod.service}", pod.evicted_ms + 500)
    elif pod.deleted_ms is not None and pod.deleted_ms <= grid.end_ms:
        add("Pod", pod.name, ns, "Killing", f"Stopping container {pod.service}", pod.deleted_ms)
        add(
            "ReplicaSet",
            rs,
            ns,
            "SuccessfulDelete",
            f"Deleted pod: {pod.name}",
            pod.deleted_ms,
            component="replicaset-controller",
        )
