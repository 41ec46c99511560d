"""Spans for medic's own work (graph nodes, tool calls): a no-op until the service installs an
exporter, so nothing here ever sends anything by itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeVar

from opentelemetry import trace

S = TypeVar("S", bound=Mapping[str, object])
tracer = trace.get_tracer("medic")


class StateNode(Protocol[S]):
    def __call__(self, state: S) -> S: ...


def traced(name: str, node: StateNode[S]) -> StateNode[S]:
    """`node` inside a span `node <name>`, tagged with the incident it works on."""

    def run(state: S) -> S:
        with tracer.start_as_current_span(f"node {name}") as span:
            span.set_attribute("medic.node", name)
            incident = state.get("incident")
            incident_id = getattr(incident, "id", None)
            if isinstance(incident_id, str):
                span.set_attribute("medic.incident_id", incident_id)
            return node(state)

    return run
