"""Fixtures for the policy tests: a real PostgreSQL server (session-wide) and a fresh database per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.postgres_server import create_database, postgres_server

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


# The guard tests' cluster: the Kubernetes emulator over real HTTP, with a SQLite audit log beside it.
from tests.policies.guard_fixtures import world  # noqa: E402, F401
