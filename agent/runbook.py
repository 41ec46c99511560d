"""The remediation runbook as data: fault kind (+ conditions) → an action template or an escalation.

The runbook is a YAML file (`agent/runbook.yaml` is shipped; a deployment may point its settings at
its own) validated here when it is loaded, so a typo in a target template or an unknown fault kind
is an error naming the file and the field at start-up, not a malformed action in the middle of an
incident. Filling the templates is `agent.remediation`'s job.
"""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.diagnosis import EntityKind, FaultKind
from tools.action_request import KIND_RESOURCE, ActionKind, ParamValue, TargetRef, canonical_params

DEFAULT_RUNBOOK_PATH = Path(__file__).parent / "runbook.yaml"

PLACEHOLDERS: frozenset[str] = frozenset({"namespace", "service", "pod", "node"})
# Values that satisfy every naming rule: filling a template with them proves its shape at load time.
_SAMPLE = {
    "namespace": "sample-ns",
    "service": "sample-svc",
    "pod": "sample-svc-5d9f-abcde",
    "node": "node-a",
}


class RunbookError(ValueError):
    """A runbook file that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def placeholders_of(text: str, field: str) -> frozenset[str]:
    """The `$name` placeholders of a template; unknown or malformed ones are refused."""
    template = Template(text)
    if not template.is_valid():
        raise ValueError(
            f"{field} {text!r} has a malformed placeholder (use $namespace, $service, $pod, $node)"
        )
    names = frozenset(template.get_identifiers())
    unknown = names - PLACEHOLDERS
    if unknown:
        raise ValueError(
            f"{field} {text!r} uses unknown placeholders {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(PLACEHOLDERS))})"
        )
    return names


class ActionTemplate(_Strict):
    """An `ActionRequest` with holes: kind, a target template, and fixed params."""

    kind: ActionKind
    target: str = Field(description="e.g. $namespace/deployment/$service, $namespace/pod/$pod, node/$node")
    params: dict[str, ParamValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_shape(self) -> Self:
        placeholders_of(self.target, "target")
        filled = Template(self.target).substitute(_SAMPLE)
        ref = TargetRef.parse(filled)  # ValueError names the accepted forms
        if ref.resource != KIND_RESOURCE[self.kind]:
            raise ValueError(f"{self.kind} acts on a {KIND_RESOURCE[self.kind]}, not on {self.target!r}")
        if self.kind == "scale":
            if self.params:
                raise ValueError("scale takes no fixed params: replicas are computed from the `scale:` block")
        else:
            canonical_params(self.kind, dict(self.params))
        return self

    @property
    def placeholders(self) -> frozenset[str]:
        return placeholders_of(self.target, "target")


class ScaleRule(_Strict):
    """How many replicas a saturated service gets: enough to bring utilisation under the target,
    never more than `max_factor` × current; `fallback_factor` when utilisation is unknown."""

    target_utilization: float = Field(0.7, gt=0, le=1)
    max_factor: float = Field(2.0, gt=1, le=10)
    fallback_factor: float = Field(1.5, gt=1, le=10)

    @model_validator(mode="after")
    def _fallback_within_bound(self) -> Self:
        if self.fallback_factor > self.max_factor:
            raise ValueError(f"fallback_factor {self.fallback_factor} exceeds max_factor {self.max_factor}")
        return self


class When(_Strict):
    """Conditions on the top hypothesis, beyond its fault kind."""

    entity_kind: list[EntityKind] | None = Field(None, description="the entity must be one of these")
    min_confidence: float | None = Field(None, ge=0, le=1, description="stricter than the runbook's")


class RunbookEntry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    kind: FaultKind
    when: When = Field(default_factory=When)
    action: ActionTemplate | None = None
    scale: ScaleRule | None = None
    escalate: str | None = Field(
        None, max_length=300, description="who to call, e.g. 'the owner of $service'"
    )
    why: str = Field(min_length=1, max_length=500, description="the reasoning an approver reads")

    @model_validator(mode="after")
    def _one_outcome(self) -> Self:
        if (self.action is None) == (self.escalate is None):
            raise ValueError("an entry needs exactly one of `action` or `escalate`")
        if self.escalate is not None:
            placeholders_of(self.escalate, "escalate")
        is_scale = self.action is not None and self.action.kind == "scale"
        if is_scale and self.scale is None:
            raise ValueError("a scale action needs a `scale:` block (target_utilization, max_factor)")
        if self.scale is not None and not is_scale:
            raise ValueError("`scale:` is only meaningful with a scale action")
        return self


class Runbook(_Strict):
    min_confidence: float = Field(0.6, ge=0, le=1, description="no proposal below this confidence")
    entries: list[RunbookEntry] = Field(min_length=1)
    source: str = Field("<runbook>", description="the file it was loaded from, for messages")

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for entry in self.entries:
            if entry.id in seen:
                raise ValueError(f"duplicate entry id {entry.id!r}")
            seen.add(entry.id)
        return self

    def entries_for(self, kind: FaultKind) -> list[RunbookEntry]:
        return [e for e in self.entries if e.kind == kind]


def _field_path(loc: tuple[str | int, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def parse_runbook(text: str, source: str = "<runbook>") -> Runbook:
    """Validate runbook YAML; every problem is reported as `<source>: <field>: <what is wrong>`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RunbookError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RunbookError(f"{source}: expected a mapping with `min_confidence` and `entries`")
    if "source" in data:
        raise RunbookError(f"{source}: source: not a runbook field")
    try:
        return Runbook.model_validate({**data, "source": source})
    except ValidationError as exc:
        problems = [
            f"{source}: {_field_path(tuple(err['loc']))}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        ]
        raise RunbookError("\n".join(problems)) from None


def load_runbook(path: str | Path = DEFAULT_RUNBOOK_PATH) -> Runbook:
    """Load and validate a runbook file (the shipped one by default)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise RunbookError(f"{path}: cannot read the runbook: {exc.strerror}") from None
    return parse_runbook(text, source=str(path))
