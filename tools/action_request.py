"""The `ActionRequest` (DESIGN §3.3): what an action tool returns instead of acting.

An action tool never touches the cluster; it describes the change it wants. The guard in `policies/`
decides, dry-runs, asks for approval, executes and audits. The request carries a deterministic
`action_id` (a hash of kind, target, params and incident id) so that an approval names exactly one
action and a resumed investigation can key executions by it and never run the same action twice.

Free text (`reason`, `evidence`) is for humans; nothing in it can change a policy decision.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field, model_validator

ActionKind = Literal["scale", "rollout_restart", "rollback", "delete_pod", "cordon", "uncordon"]
ACTION_KINDS: tuple[ActionKind, ...] = get_args(ActionKind)
ResourceType = Literal["deployment", "pod", "node"]

# Which resource each kind acts on; a `scale` of a pod or a `cordon` of a deployment is refused.
KIND_RESOURCE: dict[ActionKind, ResourceType] = {
    "scale": "deployment",
    "rollout_restart": "deployment",
    "rollback": "deployment",
    "delete_pod": "pod",
    "cordon": "node",
    "uncordon": "node",
}

# Kubernetes naming rules: namespaces are DNS-1123 labels, object names DNS-1123 subdomains.
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetRef(_Strict):
    """A parsed target: `<ns>/deployment/<name>`, `<ns>/pod/<name>` or `node/<name>`."""

    namespace: str | None = Field(description="None for nodes (cluster-scoped)")
    resource: ResourceType
    name: str

    @classmethod
    def parse(cls, text: str) -> TargetRef:
        """Parse and validate a target string; ValueError names the accepted forms."""
        parts = text.split("/") if isinstance(text, str) else []
        if len(parts) == 2 and parts[0] == "node":
            namespace, resource, name = None, "node", parts[1]
        elif len(parts) == 3 and parts[1] in ("deployment", "pod"):
            namespace, resource, name = parts
            if len(namespace) > 63 or not _LABEL.match(namespace):
                raise ValueError(f"target {text!r}: namespace {namespace!r} is not a valid DNS-1123 label")
        else:
            raise ValueError(
                f"target {text!r}: expected <namespace>/deployment/<name>, <namespace>/pod/<name> "
                "or node/<name>"
            )
        if len(name) > 253 or not _SUBDOMAIN.match(name):
            raise ValueError(f"target {text!r}: name {name!r} is not a valid Kubernetes object name")
        return cls(namespace=namespace, resource=resource, name=name)

    def __str__(self) -> str:
        if self.namespace is None:
            return f"node/{self.name}"
        return f"{self.namespace}/{self.resource}/{self.name}"


# Kind-specific parameters: unknown keys are refused, so a typo cannot silently mean "default".
class ScaleParams(_Strict):
    replicas: int = Field(ge=0, le=10_000, description="the desired replica count")


class RollbackParams(_Strict):
    to_revision: int | None = Field(None, ge=1, description="ReplicaSet revision; None: the previous one")


class DeletePodParams(_Strict):
    grace_period_seconds: int | None = Field(None, ge=0, le=3600, description="None: the pod's own")


class NoParams(_Strict):
    """Kinds that take no parameters (rollout_restart, cordon, uncordon)."""


KIND_PARAMS: dict[ActionKind, type[_Strict]] = {
    "scale": ScaleParams,
    "rollout_restart": NoParams,
    "rollback": RollbackParams,
    "delete_pod": DeletePodParams,
    "cordon": NoParams,
    "uncordon": NoParams,
}

ParamValue = int | str | bool | None


def canonical_params(kind: ActionKind, params: dict[str, Any]) -> dict[str, ParamValue]:
    """Validate `params` for `kind` and return their canonical form (defaults that mean "unset" dropped),
    so that `{}` and `{"to_revision": None}` name the same action."""
    model = KIND_PARAMS[kind]
    try:
        validated = model.model_validate(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "params"
        allowed = ", ".join(model.model_fields) or "none"
        raise ValueError(f"params.{field}: {first['msg']} (params of {kind}: {allowed})") from None
    return validated.model_dump(exclude_none=True)


def compute_action_id(kind: str, target: str, params: dict[str, ParamValue], incident_id: str) -> str:
    """A stable id for one exact action within one incident: sha256 over canonical JSON, 32 hex digits."""
    body = {"kind": kind, "target": target, "params": params, "incident_id": incident_id}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"act-{digest[:32]}"


class ExactAction(_Strict):
    """The fields that identify an action: what an approval names and what `action_id` hashes."""

    kind: ActionKind
    target: str = Field(description="<ns>/deployment/<name>, <ns>/pod/<name> or node/<name>")
    params: dict[str, ParamValue] = Field(default_factory=dict, description="kind-specific, validated")
    incident_id: str = Field("", max_length=200, description="the investigation (thread) it belongs to")

    @model_validator(mode="before")
    @classmethod
    def _drop_echoed_action_id(cls, data: Any) -> Any:
        """Accept a serialised request (which carries `action_id`) back, but only if the id still
        matches its fields: an id edited in transit is an error, not a silent rename."""
        if not isinstance(data, dict) or "action_id" not in data:
            return data
        data = dict(data)
        claimed = data.pop("action_id")
        try:
            probe = ExactAction.model_validate(
                {k: data[k] for k in ("kind", "target", "params", "incident_id") if k in data}
            )
        except ValidationError:
            return data  # the fields themselves are wrong: let normal validation name them
        if claimed != probe.action_id:
            raise ValueError(
                f"action_id {claimed!r} does not match kind, target and params ({probe.action_id})"
            )
        return data

    @model_validator(mode="after")
    def _validate_target_and_params(self) -> ExactAction:
        ref = TargetRef.parse(self.target)
        if ref.resource != KIND_RESOURCE[self.kind]:
            raise ValueError(f"{self.kind} acts on a {KIND_RESOURCE[self.kind]}, not on {self.target!r}")
        object.__setattr__(self, "target", str(ref))
        object.__setattr__(self, "params", canonical_params(self.kind, self.params))
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def action_id(self) -> str:
        return compute_action_id(self.kind, self.target, self.params, self.incident_id)

    @property
    def target_ref(self) -> TargetRef:
        return TargetRef.parse(self.target)

    @property
    def namespace(self) -> str | None:
        return self.target_ref.namespace

    def exact(self) -> ExactAction:
        """Only the identifying fields (for an approval or an audit record)."""
        return ExactAction(
            kind=self.kind, target=self.target, params=self.params, incident_id=self.incident_id
        )


class ActionRequest(ExactAction):
    """A proposed change to the cluster. Policy reads kind, target, params and requested_by only."""

    reason: str = Field("", max_length=4000, description="why, for humans; never read by policy")
    evidence: list[str] = Field(
        default_factory=list, max_length=100, description="ids of supporting evidence"
    )
    requested_by: str = Field(
        min_length=1, max_length=200, description="who asked: a user, or agent:<planner>"
    )
