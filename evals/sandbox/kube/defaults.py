"""Fields a real cluster always fills (API defaulting, kubelet status reporting) and the official
client requires: the state of a simulated world may leave them out, the emulator must not."""

from __future__ import annotations

from evals.sandbox.kube.store import Obj

_EXIT_CODES = {"OOMKilled": 137, "Error": 1, "Completed": 0, "ContainerCannotRun": 128}
_NODE_INFO = {
    "architecture": "amd64",
    "bootID": "",
    "containerRuntimeVersion": "containerd://1.7.13",
    "kernelVersion": "6.1.0",
    "kubeProxyVersion": "v1.30.2",
    "kubeletVersion": "v1.30.2",
    "machineID": "",
    "operatingSystem": "linux",
    "osImage": "Debian GNU/Linux 12 (bookworm)",
    "systemUUID": "",
}


def _container_status(status: Obj, images: dict[str, str]) -> None:
    status.setdefault("image", images.get(str(status.get("name")), ""))
    status.setdefault("imageID", "")
    status.setdefault("ready", False)
    status.setdefault("restartCount", 0)
    for state in (status.get("state") or {}, status.get("lastState") or {}):
        terminated = state.get("terminated")
        if isinstance(terminated, dict):
            terminated.setdefault("exitCode", _EXIT_CODES.get(str(terminated.get("reason")), 1))


def _pod_spec(spec: Obj) -> None:
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        for port in container.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def apply_defaults(obj: Obj) -> Obj:
    """Fill, in place, the always-present fields of `obj` that are missing."""
    kind = obj.get("kind")
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else None
    status = obj.get("status") if isinstance(obj.get("status"), dict) else None
    if spec is not None and kind == "Pod":
        _pod_spec(spec)
    elif spec is not None and isinstance((spec.get("template") or {}).get("spec"), dict):
        _pod_spec(spec["template"]["spec"])
    if kind == "Pod" and spec is not None:
        images = {str(c.get("name")): str(c.get("image", "")) for c in spec.get("containers") or []}
        for cs in (status or {}).get("containerStatuses") or []:
            _container_status(cs, images)
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("schedulerName", "default-scheduler")
    elif kind == "Node":
        obj.setdefault("status", {})
        info = obj["status"].setdefault("nodeInfo", {})
        for key, value in _NODE_INFO.items():
            info.setdefault(key, value)
        capacity = obj["status"].setdefault("capacity", {"cpu": "4", "memory": "16Gi", "pods": "110"})
        obj["status"].setdefault("allocatable", dict(capacity))
        if spec is None:
            obj["spec"] = {}
    elif kind in ("Deployment", "ReplicaSet") and spec is not None:
        spec.setdefault("replicas", 1)
        if kind == "Deployment":
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            spec.setdefault(
                "strategy",
                {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            )
        else:
            obj.setdefault("status", {}).setdefault("replicas", 0)
    elif kind == "Event":
        obj.setdefault("involvedObject", {})
        obj.setdefault("type", "Normal")
    return obj
