"""Policy as code: the pydantic models a policy YAML file becomes (see `policies/default.yaml`).

A policy says, for each proposed action: which rule applies (first match by kind, namespace and
target globs and a label selector on the target's labels), what that rule's effect is, which
guardrails bound the blast radius, when changes are frozen, and who must approve. Guardrails and
freezes only ever tighten a rule's effect. Unknown fields are refused at load time, so a typo never
silently means "no limit".
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from policies.cron import MAX_WINDOW, CronSchedule
from tools.action_request import ActionKind

Mode = Literal["dry_run", "enforce"]
Effect = Literal["allow", "require_approval", "dry_run_only", "deny"]
# Tightening order: a guardrail or a freeze may move an effect to the right, never to the left.
KindPattern = Literal[ActionKind, "*"]  # "*": every kind
EFFECT_RANK: dict[Effect, int] = {"allow": 0, "require_approval": 1, "dry_run_only": 2, "deny": 3}

# Always protected, whatever the policy file says: the cluster's own machinery.
ALWAYS_PROTECTED = ("kube-system", "kube-public", "kube-node-lease")

_DURATION = re.compile(r"^(\d+)(s|m|h|d|w)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _parse_duration(value: object) -> object:
    if isinstance(value, str):
        if value.strip().startswith("-"):
            raise ValueError(f"{value!r}: a duration cannot be negative")
        match = _DURATION.match(value.strip())
        if match is None:
            raise ValueError(f"malformed duration {value!r}; expected e.g. '30s', '15m', '1h', '2d'")
        return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    return value


Duration = Annotated[timedelta, BeforeValidator(_parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LabelRequirement(_Strict):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _values_fit_operator(self) -> LabelRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"values: {self.operator} needs at least one value")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"values: {self.operator} takes no values")
        return self

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "Exists":
            return present
        if self.operator == "DoesNotExist":
            return not present
        if self.operator == "In":
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values


class LabelSelector(_Strict):
    """A Kubernetes label selector over the target's labels (all terms must hold)."""

    match_labels: dict[str, str] = Field(default_factory=dict, alias="matchLabels")
    match_expressions: list[LabelRequirement] = Field(default_factory=list, alias="matchExpressions")

    def matches(self, labels: dict[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match_labels.items()) and all(
            e.matches(labels) for e in self.match_expressions
        )


class ApprovalRequirement(_Strict):
    """Who must approve: holders of any listed role or members of any listed group, distinct people."""

    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    min_approvers: int = Field(1, ge=1, le=10)
    allow_self_approval: bool = False
    max_age: Duration = Field(timedelta(hours=1), description="older approvals no longer count")

    @model_validator(mode="after")
    def _someone_can_approve(self) -> ApprovalRequirement:
        if not self.roles and not self.groups:
            raise ValueError("roles: name at least one approver role or group")
        if self.max_age <= timedelta(0):
            raise ValueError("max_age: must be positive")
        return self


class Rule(_Strict):
    """Which actions, where, with what effect. Omitted matchers match everything."""

    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    kinds: list[KindPattern] = Field(min_length=1)
    namespaces: list[str] | None = Field(
        None, description="globs; a rule listing namespaces never matches a node"
    )
    targets: list[str] | None = Field(None, description="globs over the whole target, e.g. 'node/pool-a-*'")
    selector: LabelSelector | None = Field(None, description="on the target's labels (from the target state)")
    effect: Effect
    approval: ApprovalRequirement | None = None
    description: str = ""

    @model_validator(mode="after")
    def _approval_fits_effect(self) -> Rule:
        if self.effect == "require_approval" and self.approval is None:
            raise ValueError("approval: required when effect is require_approval")
        if self.effect != "require_approval" and self.approval is not None:
            raise ValueError(f"approval: only meaningful with effect require_approval, not {self.effect}")
        return self

    def matches_kind(self, kind: str) -> bool:
        return "*" in self.kinds or kind in self.kinds

    def matches_place(self, target: str, namespace: str | None) -> bool:
        """Kind-independent part of the match that needs no target state."""
        if self.namespaces is not None and (
            namespace is None or not any(fnmatch.fnmatchcase(namespace, g) for g in self.namespaces)
        ):
            return False
        return self.targets is None or any(fnmatch.fnmatchcase(target, g) for g in self.targets)


class ScaleLimits(_Strict):
    max_factor_up: float = Field(2.0, ge=1, description="new replicas <= current x this")
    max_factor_down: float = Field(2.0, ge=1, description="new replicas >= current / this")
    min_replicas: int = Field(1, ge=0)
    max_replicas: int = Field(50, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> ScaleLimits:
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas: must not exceed max_replicas")
        return self


class DeletePodLimits(_Strict):
    pods_per_action: Literal[1] = Field(1, description="a target names one pod; kept explicit for readers")
    max_per_hour: int = Field(3, ge=0, description="delete_pod executions per namespace in any hour")


class CordonLimits(_Strict):
    min_schedulable_nodes: int = Field(1, ge=1, description="never cordon below this many schedulable nodes")
    max_cordoned_nodes: int = Field(1, ge=0, description="never more nodes cordoned than this at once")


class RateLimit(_Strict):
    max_actions: int = Field(3, ge=0, description="executed actions per target within the window")
    window: Duration = timedelta(hours=1)


class Limits(_Strict):
    scale: ScaleLimits = ScaleLimits()
    delete_pod: DeletePodLimits = DeletePodLimits()
    cordon: CordonLimits = CordonLimits()
    per_target: RateLimit = RateLimit()


class History(_Strict):
    """What earlier changes mean for the next action (DESIGN §3.4 invariant 9; `policies.history_checks`):
    within `window`, bringing back a template rolled away from (by anyone) is denied, and a second
    action on a target whose first was not seen to fix its symptom needs `followup_approval`."""

    window: Duration = Field(timedelta(hours=24), description="how long a rollback and an action count")
    followup_approval: ApprovalRequirement = Field(
        default_factory=lambda: ApprovalRequirement(roles=["sre", "oncall"], max_age=timedelta(minutes=30))
    )

    @field_validator("window")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError(f"must be positive (e.g. 24h), not {value.total_seconds():g} s")
        return value


def _every_kind() -> list[KindPattern]:
    return ["*"]


class FreezeWindow(_Strict):
    """A change freeze: explicit `start`/`end`, or a `cron` opening instant plus a `duration`."""

    name: str
    timezone: str = "UTC"
    start: datetime | None = Field(None, description="naive times are read in `timezone`")
    end: datetime | None = None
    cron: str | None = None
    duration: Duration | None = None
    kinds: list[KindPattern] = Field(default_factory=_every_kind)
    namespaces: list[str] | None = None
    effect: Literal["deny", "require_approval"] = "deny"
    approval: ApprovalRequirement | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as 'Europe/Berlin')"
            ) from None
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            CronSchedule.parse(value)
        return value

    @model_validator(mode="after")
    def _one_way_to_say_when(self) -> FreezeWindow:
        explicit = self.start is not None or self.end is not None
        recurring = self.cron is not None or self.duration is not None
        if explicit == recurring:
            raise ValueError("give either start and end, or cron and duration")
        if explicit and (
            self.start is None or self.end is None or self._aware(self.end) <= self._aware(self.start)
        ):
            raise ValueError("end: needs a start and an end after it")
        if recurring and (
            self.cron is None or self.duration is None or not timedelta(0) < self.duration <= MAX_WINDOW
        ):
            raise ValueError(f"duration: a cron freeze needs a duration between 1m and {MAX_WINDOW.days}d")
        if (self.effect == "require_approval") != (self.approval is not None):
            raise ValueError("approval: give one exactly when effect is require_approval")
        return self

    def _aware(self, moment: datetime) -> datetime:
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(self.timezone))

    def applies_to(self, kind: str, namespace: str | None) -> bool:
        if "*" not in self.kinds and kind not in self.kinds:
            return False
        return self.namespaces is None or (
            namespace is not None and any(fnmatch.fnmatchcase(namespace, g) for g in self.namespaces)
        )

    def active_at(self, now: datetime) -> bool:
        if self.start is not None and self.end is not None:
            return self._aware(self.start) <= now < self._aware(self.end)
        assert self.cron is not None and self.duration is not None  # guaranteed by the validator
        return CronSchedule.parse(self.cron).window_containing(now, self.duration, self.timezone) is not None


class Policy(_Strict):
    """The whole policy. `mode: dry_run` (the default) means nothing executes for real."""

    version: Literal[1] = 1
    mode: Mode = "dry_run"
    protected_namespaces: list[str] = Field(default_factory=lambda: list(ALWAYS_PROTECTED))
    default_effect: Literal["deny", "dry_run_only"] = Field(
        "deny", alias="default", description="when no rule matches; never allow"
    )
    rules: list[Rule] = Field(default_factory=list)
    limits: Limits = Limits()
    history: History = History()
    freezes: list[FreezeWindow] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Policy:
        for label, names in (
            ("rules", [r.name for r in self.rules]),
            ("freezes", [f.name for f in self.freezes]),
        ):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"{label}: duplicate names {', '.join(duplicates)}")
        return self

    def is_protected(self, namespace: str | None) -> bool:
        if namespace is None:
            return False
        patterns = (*ALWAYS_PROTECTED, *self.protected_namespaces)
        return any(fnmatch.fnmatchcase(namespace, p) for p in patterns)

    @property
    def digest(self) -> str:
        """sha256 of the canonical policy, so an audit record says exactly which policy decided."""
        body = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()
