"""The chart's panels follow the diagnosis: per fault kind, per entity kind, and for every verdict that
names an entity (an INCONCLUSIVE one too); a healthy verdict gets an overview of the alert's service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

import pytest

from agent.chart_panels import BY_KIND, ChartSubject, choose_panels, subject_of
from agent.diagnosis import Diagnosis, EntityKind, FaultKind, Hypothesis, Label
from agent.incident import Incident
from tools.metrics.templates import DEFAULT_TEMPLATES

AS_OF = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
INCIDENT = Incident(
    id="alert-1", as_of=AS_OF, source="alert", title="t", namespace="shop", services=["front"]
)


def _diagnosis(
    entity: str,
    kind: FaultKind | None,
    entity_kind: EntityKind = "service",
    service: str | None = None,
    label: Label = "CONFIRMED",
) -> Diagnosis:
    hypothesis = Hypothesis(
        entity=entity,
        entity_kind=entity_kind,
        service=service,
        fault_kind=kind,
        confidence=0.9 if label == "CONFIRMED" else 0.3,
        label=label,
        summary="s",
        evidence=["e1"],
    )
    return Diagnosis(hypotheses=[hypothesis])


def _panels(diagnosis: Diagnosis) -> list[str]:
    subject = subject_of(diagnosis, INCIDENT)
    assert subject is not None
    return [p.name for p in subject.panels]


@pytest.mark.parametrize(
    ("kind", "entity", "entity_kind", "service", "expected"),
    [
        ("memory_leak", "carts", "service", "carts", ["memory vs limit", "restarts"]),
        ("cpu_hog", "route", "service", "route", ["CPU vs limit", "CPU throttling", "request rate"]),
        ("pod_failure", "pod/order-7d9f-x2", "pod", "order", ["error ratio per pod", "error ratio"]),
        (
            "node_pressure",
            "node/n2",
            "node",
            None,
            ["node conditions", "pods on the node", "p99 latency of the node's pods"],
        ),
        ("dependency_latency", "fx", "service", "fx", ["callers' p99 latency", "callers' error ratio"]),
        ("packet_loss", "payment", "service", "payment", ["callers' error ratio", "callers' p99 latency"]),
        ("traffic_surge", "catalog", "service", "catalog", ["request rate", "CPU vs limit", "replicas"]),
        ("bad_deploy", "checkout", "service", "checkout", ["error ratio", "p99 latency"]),
        ("crashloop", "ledger", "service", "ledger", ["error ratio", "p99 latency", "restarts"]),
    ],
)
def test_panels_follow_the_diagnosed_kind(
    kind: FaultKind, entity: str, entity_kind: EntityKind, service: str | None, expected: list[str]
) -> None:
    assert _panels(_diagnosis(entity, kind, entity_kind, service)) == expected


def test_every_fault_kind_has_panels_and_every_panel_a_known_template() -> None:
    assert set(BY_KIND) == set(get_args(FaultKind))
    for kind in get_args(FaultKind):
        for entity_kind in get_args(EntityKind):
            for panel in choose_panels(kind, entity_kind):
                assert panel.lines and all(line.template in DEFAULT_TEMPLATES for line in panel.lines)
                assert any(line.role == "value" for line in panel.lines), panel.name


def test_the_entity_kind_decides_where_the_kind_does_not_say() -> None:
    # a node has no request metrics of its own: whatever the kind, its conditions and its pods
    assert _panels(_diagnosis("node/n1", None, "node")) == _panels(
        _diagnosis("node/n1", "node_pressure", "node")
    )
    # a pod without a kind: the per-pod view of its service, the pod picked out
    pod = subject_of(_diagnosis("pod/order-7d9f-x2", None, "pod", "order"), INCIDENT)
    assert pod is not None and [p.name for p in pod.panels] == ["error ratio per pod", "restarts"]
    assert pod.pod == "order-7d9f-x2" and pod.pod_regex.startswith("order-")
    # a service without a kind: the overview
    assert _panels(_diagnosis("cart", None, "service", "cart")) == [
        "error ratio",
        "p99 latency",
        "CPU vs limit",
    ]


def test_an_inconclusive_verdict_still_names_its_entity() -> None:
    low = _diagnosis("ledger", "dependency_latency", label="INCONCLUSIVE", service="ledger")
    subject = subject_of(low, INCIDENT)
    assert subject == ChartSubject(
        entity="ledger", service="ledger", namespace="shop", fault_kind="dependency_latency"
    )


def test_a_node_subject_fills_the_node_placeholder() -> None:
    subject = subject_of(_diagnosis("node/worker-x", "node_pressure", "node"), INCIDENT)
    assert subject is not None and subject.node == "worker-x" and subject.service is None


def test_healthy_or_unsupported_verdicts_get_an_overview_of_the_alerts_service_or_nothing() -> None:
    healthy = Diagnosis(healthy=True, summary="all calm")
    overview = subject_of(healthy, INCIDENT)
    assert overview == ChartSubject(entity="front", service="front", namespace="shop", healthy=True)
    assert [p.name for p in overview.panels] == ["error ratio", "p99 latency", "CPU vs limit"]
    undiagnosed = subject_of(None, INCIDENT)  # the investigation ended early: an onset may still show
    assert undiagnosed == overview.model_copy(update={"healthy": False})
    question = INCIDENT.model_copy(update={"services": []})
    assert subject_of(healthy, question) is None
