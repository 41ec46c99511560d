"""What the Kubernetes tools read, as small typed views built at the client edge (the official client's
models are large, untyped for mypy, and differ from the JSON that a fake backend would hand back)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class ContainerSpec(_View):
    name: str
    image: str = ""
    env: dict[str, str] = Field(
        default_factory=dict,
        description="literal values passed through redact_env_value; references as <from ...>",
    )
    env_digests: dict[str, str] = Field(
        default_factory=dict,
        exclude=True,
        repr=False,
        description="a keyed digest of each value redaction changed, so a changed secret still shows as "
        "changed; never serialised (the key lives only in this process)",
    )
    requests: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] = Field(default_factory=dict)
    args: list[str] = Field(default_factory=list)


class Deployment(_View):
    namespace: str
    name: str
    replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    updated_replicas: int = 0
    revision: int | None = None
    selector: dict[str, str] = Field(default_factory=dict)
    containers: list[ContainerSpec] = Field(default_factory=list)
    conditions: list[dict[str, str]] = Field(
        default_factory=list,
        description="type, status, reason, message and last_update (RFC 3339, '' when not given)",
    )


class ReplicaSet(_View):
    namespace: str
    name: str
    revision: int | None = None
    revision_history: list[int] = Field(
        default_factory=list,
        description="earlier revisions this ReplicaSet was (a rollback reuses it under the next number)",
    )
    created: datetime | None = Field(None, description="when its first revision became current")
    template_digest: str | None = Field(None, description="see tools.kube.rollout_history.template_digest")
    replicas: int = 0
    owner: str | None = Field(None, description="the owning Deployment's name")
    change_cause: str | None = None
    containers: list[ContainerSpec] = Field(default_factory=list)


class ContainerStatus(_View):
    name: str
    ready: bool = False
    restart_count: int = 0
    state: str = Field("unknown", description="running | waiting:<reason> | terminated:<reason>")
    last_termination_reason: str | None = None
    last_termination_exit_code: int | None = None
    last_termination_at: datetime | None = None


class Pod(_View):
    namespace: str
    name: str
    phase: str = "Unknown"
    node: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    created: datetime | None = None
    containers: list[ContainerStatus] = Field(default_factory=list)
    reason: str | None = Field(None, description="pod-level reason, e.g. Evicted")


class Event(_View):
    namespace: str
    type: str = "Normal"
    reason: str = ""
    message: str = ""
    object_kind: str = ""
    object_name: str = ""
    count: int = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None


class NodeCondition(_View):
    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition: datetime | None = None


class Node(_View):
    name: str
    unschedulable: bool = False
    conditions: list[NodeCondition] = Field(default_factory=list)
    allocatable: dict[str, str] = Field(default_factory=dict)
