"""The scenario format (DESIGN §3.5): one YAML file describes an incident to replay.

`load_scenario(path)` is the one way in. A file that is wrong raises `ScenarioError` naming the
file, the field and what was expected, never a pydantic traceback.
"""

from __future__ import annotations

import fnmatch
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from agent.diagnosis import FaultKind
from evals.durations import parse_duration
from evals.planted import Planted, check_planted
from evals.scenario_realism import Duration, PositiveDuration, Realism, check_realism
from evals.topology import Topology, load_shipped
from tools.action_request import ActionKind

M = TypeVar("M", bound=BaseModel)

DistractorKind = Literal["deploy", "noisy", "seasonal_peak"]
# What makes a scenario hard, for the scoreboard's rows (a scenario can be several).
ScenarioClass = Literal[
    "standard", "distractor", "healthy-alert", "adversarial", "slow-onset", "cascade", "datastore", "recorded"
]

SCENARIO_DIR = Path(__file__).parent / "scenarios"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Kind-specific fault parameters: every one has a default, unknown keys are refused.
class BadDeployParams(_Strict):
    error_ratio: float = Field(0.3, gt=0, le=1, description="share of the target's requests that fail")
    latency_factor: float = Field(1.5, ge=1, description="own processing time multiplier")
    image_tag: str = Field("", description="tag of the new image; default: a bumped patch version")


class CrashloopParams(_Strict):
    reason: str = Field("invalid configuration", description="what the config-error logs complain about")


class MemoryLeakParams(_Strict):
    time_to_oom: Duration = Field("20m", description="how long a fresh pod takes to reach its memory limit")


class CpuHogParams(_Strict):
    cores: float = Field(2.0, gt=0, description="extra CPU demand per pod (capped by the limit)")


class TrafficSurgeParams(_Strict):
    factor: float = Field(3.0, gt=1, description="multiplier on the entry service's traffic")


class DependencyLatencyParams(_Strict):
    delay: Duration = Field("500ms", description="added to every response of the target")


class PacketLossParams(_Strict):
    loss: float = Field(0.2, gt=0, le=1, description="share of calls to the target that are lost")


class PodFailureParams(_Strict):
    pod: int = Field(0, ge=0, description="index of the failing pod among the target's pods")


class NodePressureParams(_Strict):
    condition: Literal["MemoryPressure", "DiskPressure"] = "MemoryPressure"


# Faults that are events rather than intensities, with what to use instead of `ramp`.
UNRAMPABLE: dict[str, str] = {
    "crashloop": "a rollout is one event",
    "node_pressure": "a node condition is on or off",
    "memory_leak": "it grows by itself; a longer params.time_to_oom makes it slower",
}

FAULT_PARAMS: dict[str, type[_Strict]] = {
    "bad_deploy": BadDeployParams,
    "crashloop": CrashloopParams,
    "memory_leak": MemoryLeakParams,
    "cpu_hog": CpuHogParams,
    "traffic_surge": TrafficSurgeParams,
    "dependency_latency": DependencyLatencyParams,
    "packet_loss": PacketLossParams,
    "pod_failure": PodFailureParams,
    "node_pressure": NodePressureParams,
}


class Fault(_Strict):
    kind: FaultKind
    target: str = Field(description="a service, or node/<name> for node_pressure")
    start: Duration = Field(description="relative to `end`, e.g. -25m")
    params: dict[str, Any] = Field(default_factory=dict, description="kind-specific; see FAULT_PARAMS")
    ramp: PositiveDuration | None = Field(
        None, description="intensity grows linearly from `start` over this long (default: a 1-minute step)"
    )

    @model_validator(mode="after")
    def _params_fit_kind(self) -> Fault:
        if self.ramp is not None and self.kind in UNRAMPABLE:
            raise ValueError(f"ramp: {self.kind} cannot ramp ({UNRAMPABLE[self.kind]})")
        model = FAULT_PARAMS[self.kind]
        try:
            validated = model.model_validate(self.params)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "params"
            allowed = ", ".join(model.model_fields)
            raise ValueError(f"params.{field}: {first['msg']} (params of {self.kind}: {allowed})") from None
        object.__setattr__(self, "params", validated.model_dump())
        return self

    def typed_params(self) -> Any:
        return FAULT_PARAMS[self.kind].model_validate(self.params)


class Distractor(_Strict):
    kind: DistractorKind
    target: str = Field(description="a service of the topology")
    start: Duration | None = Field(
        None, description="relative to `end`; a deploy needs it, the others ignore it"
    )

    @model_validator(mode="after")
    def _deploy_has_start(self) -> Distractor:
        if self.kind == "deploy" and self.start is None:
            raise ValueError("start: a deploy distractor needs the time of the rollout, e.g. start: -3h")
        return self


class Alert(_Strict):
    # `for` is a Python keyword: the field is `for_`, spelt `for` in YAML (either name is accepted).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    labels: dict[str, str] = Field(description="Alertmanager labels; alertname is required")
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: Duration = Field("-5m", description="relative to `end`")
    for_: PositiveDuration | None = Field(
        None,
        alias="for",
        description="the rule's `for`: Prometheus shows the alert pending this long before it fires",
    )

    @field_validator("labels")
    @classmethod
    def _has_alertname(cls, labels: dict[str, str]) -> dict[str, str]:
        if "alertname" not in labels:
            raise ValueError("alert labels need an 'alertname'")
        return labels


class RootCause(_Strict):
    service: str | None = Field(description="service, node/<name>, or null when nothing is wrong")
    kind: FaultKind | None = None


class ExpectedAction(_Strict):
    action: ActionKind | Literal["*"]
    target: str = Field(description="<ns>/deployment/<name>, <ns>/pod/<name> or node/<name>; globs allowed")

    def matches(self, action: str, target: str) -> bool:
        return (self.action in ("*", action)) and fnmatch.fnmatchcase(target, self.target)


class Expect(_Strict):
    root_cause: RootCause
    remediation: list[ExpectedAction] = Field(default_factory=list, description="any one is correct")
    forbidden: list[ExpectedAction] = Field(default_factory=list)
    tools: list[str] = Field(
        default_factory=list, description="tools a careful investigation calls (scored when given)"
    )


class Tags(_Strict):
    """How the scoreboard groups a case; never seen by a planner."""

    difficulty: Literal["easy", "medium", "hard"] = "medium"
    classes: list[ScenarioClass] = Field(default=["standard"], min_length=1)


class Scenario(_Strict):
    """One incident to replay; see DESIGN §3.5 for the meaning of each field."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", description="unique, kebab-case")
    title: str
    seed: int = Field(ge=0, description="same seed, byte-identical telemetry")
    topology: Topology
    end: AwareDatetime = Field(description="the moment the incident is investigated (as_of)")
    history: Duration = Field("6h", description="telemetry generated before `end`")
    step: Duration = Field("15s", description="metric resolution")
    faults: list[Fault] = Field(default_factory=list)
    distractors: list[Distractor] = Field(default_factory=list)
    alert: Alert | None = None
    expect: Expect
    tags: Tags = Field(default_factory=Tags)
    planted: list[Planted] = Field(
        default_factory=list, description="text an outsider controls in logs or span attributes (adversarial)"
    )
    realism: Realism = Field(
        default_factory=Realism, description="opt-in realism: client timeouts and retries, noise, seasons"
    )

    @field_validator("topology", mode="before")
    @classmethod
    def _resolve_topology(cls, value: Any) -> Any:
        return load_shipped(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_references(self) -> Scenario:
        history, step = parse_duration(self.history), parse_duration(self.step)
        if step <= timedelta(0) or history <= timedelta(0):
            raise ValueError("history and step must be positive durations")
        if step < timedelta(seconds=1) or history / step > 100_000:
            raise ValueError(f"step {self.step} is too fine for history {self.history} (max 100000 points)")
        services = self.topology.services
        for i, fault in enumerate(self.faults):
            where = f"faults[{i}]"
            self._check_within_history(f"{where}.start", fault.start, history)
            if fault.kind == "node_pressure":
                node = fault.target.removeprefix("node/")
                if not fault.target.startswith("node/") or node not in self.topology.nodes:
                    raise ValueError(
                        f"{where}.target: {fault.kind} needs node/<name> with a node of the topology "
                        f"({', '.join(self.topology.nodes)}), got {fault.target!r}"
                    )
                continue
            self._check_service(f"{where}.target", fault.target)
            if fault.kind == "traffic_surge" and not services[fault.target].entry:
                raise ValueError(
                    f"{where}.target: traffic_surge targets an entry service, not {fault.target!r}"
                )
            if not services[fault.target].has_pods and fault.kind not in (
                "dependency_latency",
                "packet_loss",
            ):
                raise ValueError(f"{where}.target: {fault.target!r} is external (no pods) for {fault.kind}")
        for i, distractor in enumerate(self.distractors):
            self._check_service(f"distractors[{i}].target", distractor.target)
            if distractor.start is not None:
                self._check_within_history(f"distractors[{i}].start", distractor.start, history)
        if self.alert is not None:
            self._check_within_history("alert.starts_at", self.alert.starts_at, history)
        check_realism(self.realism, self.topology, history)
        check_planted(self.planted, self.topology, history)
        cause = self.expect.root_cause.service
        if cause is not None and not cause.startswith("node/"):
            self._check_service("expect.root_cause.service", cause)
        return self

    def _check_service(self, field: str, name: str) -> None:
        if name not in self.topology.services:
            close = [s for s in self.topology.services if name in s or s in name]
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"{field}: {name!r} is not a service of topology {self.topology.name!r}{hint} "
                f"(services: {', '.join(sorted(self.topology.services))})"
            )

    @staticmethod
    def _check_within_history(field: str, text: str, history: timedelta) -> None:
        offset = parse_duration(text)
        if offset > timedelta(0) or -offset > history:
            raise ValueError(f"{field}: {text} must be between -{history} and 0 (relative to end)")

    # Derived instants, so no caller redoes the arithmetic.
    @property
    def end_utc(self) -> datetime:
        return self.end.astimezone(UTC)

    @property
    def start_utc(self) -> datetime:
        return self.end_utc + -parse_duration(self.history)

    def at(self, offset: str) -> datetime:
        """The instant `offset` (e.g. '-25m') relative to `end`."""
        return self.end_utc + parse_duration(offset)


class ScenarioError(Exception):
    """A scenario file that cannot be used; the message names the file, the field and what to fix."""


def load_scenario(ref: str | Path) -> Scenario:
    """Load a scenario by file path or by the id of a shipped scenario."""
    return read_yaml_model(resolve_scenario_path(ref), Scenario, ScenarioError, "scenario")


def read_yaml_model(path: Path, model: type[M], error: type[Exception], what: str) -> M:
    """A YAML file as `model`; every problem is one `error` naming the file and the field (scenario
    files and recording manifests read the same way)."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping of {what} fields, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(f"{path}: {describe_validation_error(exc)}") from None
    except ValueError as exc:  # e.g. an unknown shipped topology name
        raise error(f"{path}: {exc}") from None


def resolve_scenario_path(ref: str | Path) -> Path:
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioError(f"{path}: no such scenario file")
        return path
    shipped = SCENARIO_DIR / f"{ref}.yaml"
    if shipped.is_file():
        return shipped
    known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")))
    raise ScenarioError(f"{ref}: neither a file nor a shipped scenario id (shipped: {known})")


def describe_validation_error(exc: ValidationError) -> str:
    """The first error as `field: problem`, in the words of the format, not pydantic's internals."""
    error = exc.errors()[0]
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "literal_error":
        message = f"unknown value {error['input']!r}; expected {error['ctx']['expected']}"
    elif error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling against docs/scenarios.md)"
    elif error["type"] == "missing":
        message = "required field is missing"
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{loc}: {message}{more}" if loc else f"{message}{more}"
