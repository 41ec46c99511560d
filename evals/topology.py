"""Topologies: the services of a namespace, how they call each other, and what each can carry.

A topology is a shipped name (`evals/topologies/<name>.yaml`) or an inline mapping in a scenario
(DESIGN §3.5). The load model that turns it into traffic lives in `evals.world.load`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

ServiceKind = Literal["service", "database", "cache", "queue", "external"]

TOPOLOGY_DIR = Path(__file__).parent / "topologies"

# Requests per second one replica carries before it saturates; None = unbounded.
_DEFAULT_CAPACITY: dict[ServiceKind, float | None] = {
    "service": 100.0,
    "database": 500.0,
    "cache": 1000.0,
    "queue": None,
    "external": None,
}


class ServiceSpec(BaseModel):
    """One service of a topology; every field has the default of DESIGN §3.5."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calls: list[str] = Field(default_factory=list, description="services called once per request")
    replicas: int = Field(2, ge=1, le=100, description="pods of the Deployment")
    entry: bool = Field(False, description="receives outside traffic")
    rps: float = Field(50.0, gt=0, description="daily peak of outside requests/s (entry services only)")
    kind: ServiceKind = "service"
    cpu_limit: float = Field(1.0, gt=0, description="cores per pod")
    memory_limit: str = Field("512Mi", pattern=r"^\d+(Ki|Mi|Gi)$", description="per pod, e.g. 512Mi")
    latency_ms: float = Field(20.0, gt=0, description="own median processing time")
    capacity_rps: float | None = Field(None, gt=0, description="per replica; default by kind")

    @property
    def capacity(self) -> float | None:
        """Requests/s one replica carries (None = unbounded)."""
        return self.capacity_rps if self.capacity_rps is not None else _DEFAULT_CAPACITY[self.kind]

    @property
    def memory_limit_bytes(self) -> int:
        units = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}
        return int(self.memory_limit[:-2]) * units[self.memory_limit[-2:]]

    @property
    def has_pods(self) -> bool:
        """Externals run outside the cluster: no Deployment, no pods."""
        return self.kind != "external"


class Topology(BaseModel):
    """A namespace of services and the nodes their pods run on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "inline"
    namespace: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    nodes: list[str] = Field(default_factory=lambda: ["node-1", "node-2", "node-3"], min_length=1)
    services: dict[str, ServiceSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_graph(self) -> Topology:
        for name, spec in self.services.items():
            unknown = [c for c in spec.calls if c not in self.services]
            if unknown:
                raise ValueError(
                    f"service {name!r} calls unknown service {unknown[0]!r}; "
                    f"known services: {', '.join(sorted(self.services))}"
                )
        if not any(s.entry for s in self.services.values()):
            raise ValueError("no entry service; mark at least one service with `entry: true`")
        cycle = _find_cycle(self.services)
        if cycle:
            raise ValueError(f"call cycle {' -> '.join(cycle)}; calls must form a directed acyclic graph")
        return self

    def callers(self, service: str) -> list[str]:
        return [name for name, spec in self.services.items() if service in spec.calls]


def _find_cycle(services: dict[str, ServiceSpec]) -> list[str]:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for callee in services[node].calls:
            if state.get(callee) == 1:
                return [*path, node, callee]
            if callee not in state and (found := visit(callee, [*path, node])):
                return found
        state[node] = 2
        return []

    for name in services:
        if name not in state and (found := visit(name, [])):
            return found[found.index(found[-1]) :]
    return []


def shipped_topologies() -> list[str]:
    return sorted(p.stem for p in TOPOLOGY_DIR.glob("*.yaml"))


@cache
def load_shipped(name: str) -> Topology:
    """A shipped topology by name; raises ValueError listing the shipped names."""
    path = TOPOLOGY_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown topology {name!r}; shipped: {', '.join(shipped_topologies())}")
    data = yaml.safe_load(path.read_text())
    return Topology.model_validate({"name": name, **data})
