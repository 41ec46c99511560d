"""The resource types the emulator serves, as the discovery documents and the URL router see them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    read_only: bool = False  # a second view of objects stored under another type (events.k8s.io)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage_key(self) -> str:
        """Objects are stored once per kind; events.k8s.io Events share the core Events' storage."""
        return "Event" if self.kind == "Event" else self.kind


_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update"]

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "namespaces", "Namespace", False, ("ns",), ("status",)),
    ResourceType("", "v1", "nodes", "Node", False, ("no",), ("status",)),
    ResourceType("", "v1", "pods", "Pod", True, ("po",), ("status", "log", "eviction")),
    ResourceType("", "v1", "events", "Event", True, ("ev",)),
    ResourceType("", "v1", "services", "Service", True, ("svc",), ("status",)),
    ResourceType("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    ResourceType("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    ResourceType("apps", "v1", "deployments", "Deployment", True, ("deploy",), ("status", "scale")),
    ResourceType("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), ("status", "scale")),
    ResourceType("apps", "v1", "statefulsets", "StatefulSet", True, ("sts",), ("status",)),
    ResourceType("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), ("status",)),
    ResourceType("events.k8s.io", "v1", "events", "Event", True, ("ev",), read_only=True),
    ResourceType("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",), ("status",)),
)

# Subresource name -> (group, version, kind) of the object it carries, as real discovery reports it.
SUBRESOURCE_KINDS: dict[str, tuple[str, str, str | None]] = {
    "scale": ("autoscaling", "v1", "Scale"),
    "eviction": ("policy", "v1", "Eviction"),
    "log": ("", "", None),  # the parent's kind, as the real server reports pods/log
    "status": ("", "", None),
}
SUBRESOURCE_VERBS: dict[str, list[str]] = {
    "scale": ["get", "patch", "update"],
    "eviction": ["create"],
    "log": ["get"],
    "status": ["get", "patch", "update"],
}

# Kinds whose status is owned by the subresource: writes to the main resource keep the old status.
STATUS_SUBRESOURCE_KINDS = frozenset(
    rt.kind for rt in RESOURCE_TYPES if "status" in rt.subresources and not rt.read_only
)


def verbs_for(rt: ResourceType) -> list[str]:
    return ["get", "list"] if rt.read_only else list(_VERBS)


def find_type(group: str, version: str, plural: str) -> ResourceType | None:
    for rt in RESOURCE_TYPES:
        if (rt.group, rt.version, rt.plural) == (group, version, plural):
            return rt
    return None


def type_for_object(api_version: str, kind: str) -> ResourceType | None:
    """The writable type that stores objects of this apiVersion and kind."""
    for rt in RESOURCE_TYPES:
        if rt.group_version == api_version and rt.kind == kind and not rt.read_only:
            return rt
    return None


def type_for_kind(kind: str) -> ResourceType:
    for rt in RESOURCE_TYPES:
        if rt.kind == kind and not rt.read_only:
            return rt
    raise KeyError(kind)
