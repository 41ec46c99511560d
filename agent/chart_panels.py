"""Which panels the report's chart shows: chosen by the diagnosed fault kind and entity, each one a few
named PromQL templates (tools/metrics/templates.py, so a deployment's overrides apply).

A chart answers "show me" for the diagnosis at hand: a leak is memory climbing to its limit and the
restarts it causes, not an error ratio; a node fault is the node's conditions and what happened to its
pods; a slow external dependency has no pods of its own, so only its callers can show it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.diagnosis import Diagnosis, EntityKind, FaultKind
from agent.incident import Incident
from tools.metrics.templates import workload_pod_regex

LineRole = Literal["value", "limit"]
PanelStyle = Literal["lines", "steps", "stacked", "states"]


@dataclass(frozen=True)
class Line:
    """One template on a panel. Its series are named by the label `key` (e.g. each pod) through
    `label`, or by `name` when the template sums to one series; a `limit` (or a target, such as the
    desired replicas) is drawn once, grey and dashed, as the highest of its series."""

    template: str
    key: str | None = None
    name: str = ""
    role: LineRole = "value"
    label: str = "{}"


@dataclass(frozen=True)
class PanelSpec:
    """A panel: its name (what the report lists), y unit and scale from the template's unit, and lines.
    `steps` for counts that change in jumps, `stacked` for counts that add up (pods by phase),
    `states` for 0/1 conditions drawn as bars where true."""

    name: str
    unit: str
    scale: float
    lines: tuple[Line, ...]
    style: PanelStyle = "lines"


ERROR_RATIO = PanelSpec("error ratio", "%", 100.0, (Line("error_ratio", name="5xx ratio"),))
LATENCY = PanelSpec("p99 latency", "ms", 1000.0, (Line("latency_quantile", name="p99"),))
REQUEST_RATE = PanelSpec("request rate", "req/s", 1.0, (Line("request_rate", name="incoming"),))
MEMORY = PanelSpec(
    "memory vs limit",
    "MiB",
    1 / 2**20,
    (Line("memory_working_set_bytes", key="pod"), Line("memory_limit_bytes", name="limit", role="limit")),
)
RESTARTS = PanelSpec("restarts", "count", 1.0, (Line("restart_count", key="pod"),), style="steps")
CPU = PanelSpec(
    "CPU vs limit",
    "cores",
    1.0,
    (Line("cpu_usage_cores", key="pod"), Line("cpu_limit_cores", name="limit", role="limit")),
)
THROTTLING = PanelSpec("CPU throttling", "% of periods", 100.0, (Line("cpu_throttling_ratio", key="pod"),))
POD_ERRORS = PanelSpec("error ratio per pod", "%", 100.0, (Line("error_ratio_by_pod", key="pod"),))
REPLICAS = PanelSpec(
    "replicas",
    "pods",
    1.0,
    (Line("replicas_available", name="available"), Line("replicas_desired", name="desired", role="limit")),
    style="steps",
)
CALLER_ERRORS = PanelSpec("callers' error ratio", "%", 100.0, (Line("client_error_ratio", key="service"),))
CALLER_LATENCY = PanelSpec(
    "callers' p99 latency", "ms", 1000.0, (Line("client_latency_quantile", key="service"),)
)
NODE_CONDITIONS = PanelSpec(
    "node conditions", "true", 1.0, (Line("node_conditions", key="condition"),), style="states"
)
NODE_PODS = PanelSpec(
    "pods on the node", "pods", 1.0, (Line("node_pod_phases", key="phase"),), style="stacked"
)
NODE_POD_LATENCY = PanelSpec(
    "p99 latency of the node's pods", "ms", 1000.0, (Line("node_pod_latency_quantile", key="pod"),)
)

# A crashlooping service stops reporting its own requests when no pod is up: its callers still see it.
ERROR_RATIO_AND_CALLERS = PanelSpec(
    "error ratio",
    "%",
    100.0,
    (
        Line("error_ratio", name="own 5xx ratio"),
        Line("client_error_ratio", key="service", label="seen by {}"),
    ),
)
LATENCY_AND_CALLERS = PanelSpec(
    "p99 latency",
    "ms",
    1000.0,
    (
        Line("latency_quantile", name="own p99"),
        Line("client_latency_quantile", key="service", label="seen by {}"),
    ),
)

OVERVIEW = (ERROR_RATIO, LATENCY, CPU)
POD_OVERVIEW = (POD_ERRORS, RESTARTS)
NODE_VIEW = (NODE_CONDITIONS, NODE_PODS, NODE_POD_LATENCY)
CALLERS_VIEW = (CALLER_ERRORS, CALLER_LATENCY)
BY_KIND: dict[FaultKind, tuple[PanelSpec, ...]] = {
    "memory_leak": (MEMORY, RESTARTS),
    "cpu_hog": (CPU, THROTTLING, REQUEST_RATE),  # at its limit *without* more traffic
    "pod_failure": (POD_ERRORS, ERROR_RATIO),  # one pod fails; the service's ratio is diluted
    "node_pressure": NODE_VIEW,
    "dependency_latency": (CALLER_LATENCY, CALLER_ERRORS),
    "packet_loss": (CALLER_ERRORS, CALLER_LATENCY),
    "traffic_surge": (REQUEST_RATE, CPU, REPLICAS),
    "bad_deploy": (ERROR_RATIO, LATENCY),
    "crashloop": (ERROR_RATIO_AND_CALLERS, LATENCY_AND_CALLERS, RESTARTS),
}
# Kinds whose story starts at a rollout: the window reaches back to show it.
ROLLOUT_KINDS: frozenset[FaultKind] = frozenset({"bad_deploy", "crashloop"})


def choose_panels(kind: FaultKind | None, entity_kind: EntityKind) -> tuple[PanelSpec, ...]:
    """The panels for a diagnosed kind on an entity; without a kind, an overview of the entity."""
    if entity_kind == "node":
        return NODE_VIEW  # a node has no request metrics of its own, whatever the kind
    if kind is not None:
        return BY_KIND[kind]
    return POD_OVERVIEW if entity_kind == "pod" else OVERVIEW


class ChartSubject(BaseModel):
    """What the chart is about: the diagnosed entity (or the alert's service, for an overview)."""

    model_config = ConfigDict(frozen=True)

    entity: str
    entity_kind: EntityKind = "service"
    service: str | None = None
    namespace: str | None = None
    fault_kind: FaultKind | None = None
    healthy: bool = Field(False, description="the verdict is that nothing is wrong: no onset to mark")

    @property
    def node(self) -> str:
        return self.entity.removeprefix("node/") if self.entity_kind == "node" else ""

    @property
    def pod(self) -> str | None:
        """The diagnosed pod, highlighted among its siblings."""
        return self.entity.removeprefix("pod/") if self.entity_kind == "pod" else None

    @property
    def pod_regex(self) -> str:
        if self.service:
            return workload_pod_regex(self.service)
        return re.escape(self.pod) if self.pod else "^$"  # a pod without a known owner: only itself

    @property
    def panels(self) -> tuple[PanelSpec, ...]:
        return choose_panels(self.fault_kind, self.entity_kind)


def subject_of(diagnosis: Diagnosis | None, incident: Incident) -> ChartSubject | None:
    """The top hypothesis whatever its label (an INCONCLUSIVE verdict still names an entity to look
    at); without one, an overview of the alert's first service; None when nothing is named."""
    top = diagnosis.top if diagnosis is not None else None
    if top is not None:
        service = top.service or (top.entity if top.entity_kind == "service" else None)
        return ChartSubject(
            entity=top.entity,
            entity_kind=top.entity_kind,
            service=service,
            namespace=incident.namespace,
            fault_kind=top.fault_kind,
        )
    if incident.services:
        service = incident.services[0]
        # no cause named (healthy, or inconclusive without a hypothesis): no onset to mark
        healthy = diagnosis is not None and (diagnosis.healthy or not diagnosis.hypotheses)
        return ChartSubject(entity=service, service=service, namespace=incident.namespace, healthy=healthy)
    return None
