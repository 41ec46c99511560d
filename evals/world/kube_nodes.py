"""Node objects: conditions (with the pressure a node_pressure fault raises), taints and capacity."""

from __future__ import annotations

from typing import Any

from evals.world.faults import Effects
from evals.world.grid import Grid
from evals.world.k8s_format import meta, timestamp

Obj = dict[str, Any]
_PRESSURE_REASONS = {
    "MemoryPressure": ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
    "DiskPressure": ("KubeletHasDiskPressure", "kubelet has disk pressure"),
}
_TAINTS = {
    "MemoryPressure": "node.kubernetes.io/memory-pressure",
    "DiskPressure": "node.kubernetes.io/disk-pressure",
}


def node_object(grid: Grid, node: str, created_ms: int, effects: Effects) -> Obj:
    pressure = effects.node_conditions.get(node)
    conditions = []
    for kind, ok_reason, ok_message in (
        ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "KubeletReady", "kubelet is posting ready status"),
    ):
        active = pressure is not None and pressure[0] == kind
        reason, message = _PRESSURE_REASONS[kind] if active else (ok_reason, ok_message)
        status = "True" if (kind == "Ready") != active else "False"
        since = pressure[1] if active and pressure is not None else created_ms
        conditions.append(
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": timestamp(grid.end_ms),
                "lastTransitionTime": timestamp(since),
            }
        )
    spec: Obj = {"unschedulable": False}
    if pressure is not None:
        spec["taints"] = [
            {"key": _TAINTS[pressure[0]], "effect": "NoSchedule", "timeAdded": timestamp(pressure[1])}
        ]
    capacity = {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta(
            node,
            None,
            created_ms,
            labels={
                "kubernetes.io/hostname": node,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        ),
        "spec": spec,
        "status": {
            "conditions": conditions,
            "capacity": capacity,
            "allocatable": {**capacity, "cpu": "7800m", "memory": "31Gi"},
            "nodeInfo": {
                "kubeletVersion": "v1.30.2",
                "containerRuntimeVersion": "containerd://1.7.18",
                "osImage": "Debian GNU/Linux 12",
            },
        },
    }
