"""Shared sandboxes for end-to-end tests: each shipped scenario brought up at most once per session.

Usage in a test module:

    from tests.sandbox_fixture import SandboxPool, tool_context

    def test_x(sandbox_pool: SandboxPool) -> None:
        scenario, info = sandbox_pool.get("checkout-bad-deploy")
        ctx = tool_context(info, scenario.end_utc)

`sandbox_pool` (declared in tests/conftest.py only: a test module that imports it gets a pool of
its own, every scenario brought up again) is session-scoped: sandboxes stay up across the
modules that use it and are all brought down (by pid, through `evals.sandbox.sandbox.down`) when the
session ends. Scenarios can be
shipped ids or paths to YAML files (e.g. an inline topology written to tmp_path).

`tsdb_cache` is the session's cache of backfilled TSDBs (evals/sandbox/tsdb_cache.py): give it as
`SandboxConfig(tsdb_cache_dir=...)` to a sandbox of a test's own, so that a scenario the session has
already backfilled comes up without promtool. Tests of the backfill itself leave it out.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest

from evals.sandbox.sandbox import SandboxConfig, SandboxInfo, down, up
from evals.scenario import Scenario, load_scenario
from tools.backends import open_tool_context
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.traces.config import TracesConfig

# The scenarios the end-to-end tests walk one by one (reports, charts, the planner's verdicts): one per
# fault kind and the nothing-wrong and seasonal cases. The whole suite of evals/scenarios is scored by
# `medic eval` with its gates in `make test`; walking all of it here as well would double CI's time.
SHIPPED = [
    "boutique-crashloop",
    "boutique-node-pressure",
    "boutique-seasonal-peak",
    "boutique-traffic-surge",
    "checkout-bad-deploy",
    "ledger-crashloop",
    "payments-dependency-latency",
    "sock-shop-memory-leak",
    "sock-shop-noisy",
    "sock-shop-packet-loss",
    "train-ticket-cpu-hog",
    "train-ticket-pod-failure",
]


class SandboxPool:
    """Sandboxes by scenario id, started on first use and stopped by `close`."""

    def __init__(self, state_dir: Path, tsdb_cache_dir: Path | None = None) -> None:
        self.config = SandboxConfig(state_dir=state_dir, start_timeout_s=90, tsdb_cache_dir=tsdb_cache_dir)
        self._up: dict[str, tuple[Scenario, SandboxInfo]] = {}

    def get(self, ref: str | Path) -> tuple[Scenario, SandboxInfo]:
        scenario = load_scenario(ref)
        if scenario.id not in self._up:
            try:
                info = up(scenario, self.config)
            except FileNotFoundError as exc:  # prometheus/promtool missing
                pytest.fail(f"{exc}: install Prometheus (apt-get install prometheus) to run sandbox tests")
            self._up[scenario.id] = (scenario, info)
        return self._up[scenario.id]

    def close(self) -> None:
        for scenario_id in list(self._up):
            down(scenario_id, self.config)
            del self._up[scenario_id]


@pytest.fixture(scope="session")
def tsdb_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's backfilled TSDBs by scenario digest (declared in tests/conftest.py)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each worker's basetemp is in the run's: share one cache
        root = root.parent
    path = root / "tsdb-cache"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def sandbox_pool(tsdb_cache: Path) -> Iterator[SandboxPool]:
    """One pool for the whole session (declared once, in tests/conftest.py), stopped at its end."""
    pool = SandboxPool(Path(tempfile.mkdtemp(prefix="medic-sandboxes-")), tsdb_cache)
    try:
        yield pool
    finally:
        pool.close()
        shutil.rmtree(pool.config.state_dir, ignore_errors=True)


def tool_context(info: SandboxInfo, as_of: datetime, stack: ExitStack | None = None) -> ToolContext:
    """The ToolContext the agent gets against this sandbox: the production wiring, only the URLs differ.
    Pass an ExitStack to have the clients closed with it."""
    config = ToolsConfig(
        prometheus_url=info.prometheus_url,
        kubeconfig=info.kubeconfig,
        traces=TracesConfig(backend="otlp-file", dir=info.traces_dir),
    )
    ctx = open_tool_context(config, as_of)
    if stack is not None:
        for client in (ctx.metrics, ctx.kube):
            close = getattr(client, "close", None)
            if close is not None:
                stack.callback(close)
    return ctx
