"""What a fault-visibility test sees of a running sandbox: PromQL on the real Prometheus, the official
Kubernetes client on the emulator, and the trace file, all for one scenario of the shared pool.

Usage in a test module:

    from tests.evals.sandbox.visibility import open_sandbox_fixture  # noqa: F401 (fixture)

`sandbox_pool` comes from tests/conftest.py: importing it into a module would give that module a
pool of its own (pytest keeps a fixture's value per definition), every scenario brought up again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import pytest
from kubernetes import client, config

from evals.durations import parse_duration
from evals.sandbox.sandbox import SandboxInfo
from evals.scenario import Scenario
from evals.topology import Topology
from tests.evals.sandbox.promql import PromQL, error_ratio_by_service
from tests.evals.sandbox.trace_file import FileSpan, read_spans
from tests.sandbox_fixture import SandboxPool

REVISION = "deployment.kubernetes.io/revision"


@dataclass
class View:
    scenario: Scenario
    info: SandboxInfo
    prom: PromQL
    # Typed as Any on purpose (as in kube_fixtures): the client's models make every field Optional,
    # and a None check on each attribute would bury what the tests assert (a None fails them anyway).
    core: Any
    apps: Any

    @property
    def ns(self) -> str:
        return self.scenario.topology.namespace

    def at(self, ago: str) -> datetime:
        return self.scenario.end_utc - parse_duration(ago.removeprefix("-"))

    @cached_property
    def spans(self) -> list[FileSpan]:
        return read_spans(self.info.traces_dir)

    def pods(self, label_selector: str = "", field_selector: str = "") -> list[Any]:
        return list(
            self.core.list_namespaced_pod(
                self.ns, label_selector=label_selector, field_selector=field_selector
            ).items
        )

    def replica_sets(self, service: str) -> list[Any]:
        """The Deployment's ReplicaSets, oldest revision first."""
        found = self.apps.list_namespaced_replica_set(self.ns, label_selector=f"app={service}").items
        return sorted(found, key=lambda rs: int(rs.metadata.annotations[REVISION]))

    def revision(self, service: str) -> int:
        return int(self.apps.read_namespaced_deployment(service, self.ns).metadata.annotations[REVISION])

    def error_ratios(self, ago: str = "0s") -> dict[str, float]:
        return self.prom.by(error_ratio_by_service(), "service", ago)


def upstream(topology: Topology, service: str) -> set[str]:
    """Every service whose requests reach `service`, directly or through others."""
    found: set[str] = set()
    todo = list(topology.callers(service))
    while todo:
        caller = todo.pop()
        if caller not in found:
            found.add(caller)
            todo += topology.callers(caller)
    return found


def failing(ratios: dict[str, float], above: float = 0.0) -> set[str]:
    return {service for service, ratio in ratios.items() if ratio > above}


def assert_errors_confined(view: View, target: str, ago: str = "0s") -> dict[str, float]:
    """Only the target and the services that call it (directly or not) answer with errors."""
    ratios = view.error_ratios(ago)
    allowed = upstream(view.scenario.topology, target) | {target}
    assert failing(ratios) <= allowed, f"errors outside {target} and its callers: {ratios}"
    return ratios


def assert_healthy_now_and_before(view: View, before: str) -> None:
    """No service answers with errors at `end`, nor `before` it."""
    for ago in ("0s", before):
        ratios = view.error_ratios(ago)
        assert ratios and not failing(ratios), f"errors {ago} before end: {ratios}"


@pytest.fixture(name="open_sandbox")
def open_sandbox_fixture(sandbox_pool: SandboxPool) -> Iterator[Callable[[str], View]]:
    """Opens a View on the pool's sandbox of a scenario (brought up on first use)."""
    with ExitStack() as stack:

        def open_view(ref: str) -> View:
            scenario, info = sandbox_pool.get(ref)
            api = stack.enter_context(
                config.new_client_from_config(config_file=str(info.kubeconfig), persist_config=False)
            )
            prom = PromQL(info.prometheus_url, scenario.end_utc)
            return View(scenario, info, prom, client.CoreV1Api(api), client.AppsV1Api(api))

        yield open_view
