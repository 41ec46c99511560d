"""The `status` block of a Pod at `end`: phase, conditions and container states, including what a
responder looks for first (CrashLoopBackOff, OOMKilled, Evicted)."""

from __future__ import annotations

from typing import Any

from evals.world.grid import Grid
from evals.world.k8s_format import short_hex, timestamp, uid
from evals.world.pods import Pod, image

_EVICTION_RESOURCE = {"MemoryPressure": "memory", "DiskPressure": "ephemeral-storage"}


def pod_status(ns: str, grid: Grid, pod: Pod, pressure: str) -> dict[str, Any]:
    ended = [(ms, reason) for ms, reason in pod.terminations if ms <= grid.end_ms]
    container: dict[str, Any] = {
        "name": pod.service,
        "image": image(ns, pod.service, pod.revision.image_tag),
        "imageID": f"{image(ns, pod.service, pod.revision.image_tag)}@sha256:{short_hex(pod.revision.hash, length=64)}",
        "containerID": f"containerd://{short_hex(pod.name, len(ended), length=64)}",
        "restartCount": len(ended),
    }
    ip = int(short_hex(pod.name, length=4), 16)
    status: dict[str, Any] = {
        "hostIP": f"192.168.0.{10 + abs(hash_node(pod.node)) % 200}",
        "podIP": f"10.244.{ip % 250}.{ip // 250 % 250 + 2}",
        "startTime": timestamp(pod.created_ms),
        "qosClass": "Burstable",
    }
    if pod.evicted_ms is not None:
        resource = _EVICTION_RESOURCE.get(pressure, "memory")
        container |= {
            "ready": False,
            "started": False,
            "state": {
                "terminated": {
                    "exitCode": 137,
                    "reason": "Error",
                    "startedAt": timestamp(pod.created_ms + 3000),
                    "finishedAt": timestamp(pod.evicted_ms),
                }
            },
            "lastState": {},
        }
        return status | {
            "phase": "Failed",
            "reason": "Evicted",
            "message": f"The node was low on resource: {resource}. Threshold quantity: 100Mi, available: 71224Ki. "
            f"Container {pod.service} was using 298844Ki, request is 0, has larger consumption of request.",
            "conditions": _conditions(pod, False, pod.evicted_ms),
            "containerStatuses": [container],
        }
    last = ended[-1] if ended else None
    if last is not None:
        code = 137 if last[1] == "OOMKilled" else 1
        run_ms = 5000 if pod.crashloop else 60_000
        container["lastState"] = {
            "terminated": {
                "exitCode": code,
                "reason": last[1],
                "startedAt": timestamp(max(pod.created_ms, last[0] - run_ms)),
                "finishedAt": timestamp(last[0]),
                "containerID": f"containerd://{short_hex(pod.name, len(ended) - 1, length=64)}",
            }
        }
    else:
        container["lastState"] = {}
    if pod.crashloop:
        backoff = min(10 * 2 ** max(len(ended) - 1, 0), 300)
        pretty = f"{backoff // 60}m{backoff % 60}s" if backoff >= 60 else f"{backoff}s"
        container |= {
            "ready": False,
            "started": False,
            "state": {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off {pretty} restarting failed container={pod.service} "
                    f"pod={pod.name}_{ns}({uid(ns, pod.name, pod.created_ms)})",
                }
            },
        }
        ready_since = pod.created_ms
        ready = False
    else:
        started = last[0] + 1000 if last is not None else pod.created_ms + 3000
        container |= {"ready": True, "started": True, "state": {"running": {"startedAt": timestamp(started)}}}
        ready_since, ready = started + 5000, True
    return status | {
        "phase": "Running",
        "conditions": _conditions(pod, ready, ready_since),
        "containerStatuses": [container],
    }


def _conditions(pod: Pod, ready: bool, since_ms: int) -> list[dict[str, Any]]:
    flag = "True" if ready else "False"
    reason = (
        {}
        if ready
        else {"reason": "ContainersNotReady", "message": f"containers with unready status: [{pod.service}]"}
    )
    return [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": timestamp(pod.created_ms)},
        {"type": "Initialized", "status": "True", "lastTransitionTime": timestamp(pod.created_ms)},
        {"type": "ContainersReady", "status": flag, "lastTransitionTime": timestamp(since_ms), **reason},
        {"type": "Ready", "status": flag, "lastTransitionTime": timestamp(since_ms), **reason},
    ]


def hash_node(node: str) -> int:
    return int(short_hex(node, length=6), 16)
