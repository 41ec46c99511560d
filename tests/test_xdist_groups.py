"""The modules tests/conftest.py names for pytest-xdist's workers exist: a renamed one would silently go
to either worker and bring the whole sandbox pool up a second time."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ONE_BY_ONE, SHIPPED_WALKS

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_named_for_the_workers_exists() -> None:
    assert SHIPPED_WALKS and all((ROOT / module).is_file() for module in SHIPPED_WALKS | ONE_BY_ONE)
