"""Test-wide guards: a clean environment and no network beyond this machine's loopback."""

from __future__ import annotations

import ipaddress
import itertools
import os
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from evals.deepeval_env import keep_deepeval_offline, offline_environment

# Before any test module is imported: deepeval reads its environment once, when it is first imported.
keep_deepeval_offline()

if TYPE_CHECKING:
    from xdist.remote import Producer
    from xdist.scheduler import LoadScopeScheduling

_ENV_PREFIXES = ("MEDIC_", "OPENAI_", "KUBECONFIG", "DEEPEVAL_", "SLACK_")


def _is_local(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    if not isinstance(address, tuple) or not address:
        return False
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: resolving it is already going outside


# The modules that walk every shipped scenario on the session's sandbox pool (tests/sandbox_fixture.py)
# and its `shipped_triage`s (tests/agent/triage_driver.py): one unit of work under pytest-xdist. The
# answer-leak walk also simulates every scenario file, as test_shipped does: together, once a session
# (tests/evals/simulated_worlds.py).
SHIPPED_WALKS = frozenset(
    {
        "tests/evals/test_answer_not_given_away.py",
        "tests/evals/world/test_shipped.py",
        "tests/agent/test_memory_sandbox.py",
        "tests/agent/test_report_chart_sandbox.py",
        "tests/agent/test_report_scenarios.py",
        "tests/agent/test_rules_degraded.py",
        "tests/agent/test_rules_planner.py",
        "tests/tools/anomaly/test_anomaly_tools.py",
        "tests/evals/sandbox/test_fault_visibility.py",
        "tests/evals/world/test_alerts_sandbox.py",
    }
)

# A module of long tests with no module fixtures, each test a unit of its own so both workers share it.
ONE_BY_ONE = frozenset({"tests/evals/recordings/test_record_round_trip.py", "tests/evals/test_runner.py"})


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadScopeScheduling | None:
    """`make test` runs two workers with --dist loadscope: each test module goes to one worker, so its
    module fixtures are built once, and the SHIPPED_WALKS all go to the same one, so that the pool's
    sandboxes and triages are made once, not on both; the tests of ONE_BY_ONE are spread. (--dist
    loadgroup would say this with marks, but pytest-xdist 3.8 cannot regroup test ids under pytest 9.)"""
    if config.getoption("dist") != "loadscope":
        return None  # pytest-xdist's own scheduler
    from xdist.scheduler import LoadScopeScheduling

    class ShippedWalksTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            if module in SHIPPED_WALKS:
                return "shipped-walks"
            return nodeid if module in ONE_BY_ONE else super()._split_scope(nodeid)

    return ShippedWalksTogether(config, log)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting leaks in from the developer's shell; deepeval never phones home."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    for name, value in offline_environment().items():
        monkeypatch.setenv(name, value)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any connection to a non-loopback address fails the test: no real LLM, no internet."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guard(address: object) -> None:
        if not _is_local(address):
            raise RuntimeError(f"test tried to reach {address!r}; tests talk to 127.0.0.1 only")

    def connect(self: socket.socket, address: object) -> None:
        guard(address)
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        guard(address)
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield


# Real servers shared by every test folder ------------------------------------------------------------
from tests.policies.guard_fixtures import world  # noqa: E402, F401 (the emulator with a guard beside it)
from tests.postgres_server import create_database, postgres_server  # noqa: E402
from tests.sandbox_fixture import sandbox_pool, tsdb_cache  # noqa: E402, F401 (each scenario's sandbox, once a session)

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """DSN of a PostgreSQL server started for this test session on 127.0.0.1, stopped by pid after."""
    with postgres_server() as dsn:
        yield dsn


@pytest.fixture
def fresh_postgres_dsn(postgres_dsn: str) -> str:
    """An empty database of its own for one test."""
    return create_database(postgres_dsn, f"test_{next(_database_numbers)}")
