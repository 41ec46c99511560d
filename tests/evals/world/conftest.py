from __future__ import annotations

from collections.abc import Callable

import pytest

from evals.world.model import World
from tests.evals.simulated_worlds import simulated_world


@pytest.fixture(scope="session")
def shipped_world() -> Callable[[str], World]:
    """The simulated World of a shipped scenario, computed once per test session (the cache is shared
    with tests/evals/test_answer_not_given_away.py, which walks every scenario's world too)."""
    return simulated_world
