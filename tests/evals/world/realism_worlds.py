"""Small scenarios for the realism tests: a three-tier shop (web -> api -> store) on an inline topology,
so each test states the one fault and the one client policy it is about."""

from __future__ import annotations

from typing import Any

from evals.scenario import Scenario, load_scenario
from evals.world.model import World
from evals.world.simulate import simulate
from tests.evals.world.query import index_at, select, total_increase

SERVER = "http_server_request_duration_seconds"
CLIENT = "http_client_request_duration_seconds"

SHOP: dict[str, Any] = {
    "id": "shop",
    "title": "a three-tier shop",
    "seed": 7,
    "topology": {
        "namespace": "shop",
        "services": {
            "web": {"calls": ["api"], "entry": True, "rps": 60},
            "api": {"calls": ["store"]},
            "store": {"kind": "database"},
        },
    },
    "end": "2026-03-03T15:00:00Z",  # a Tuesday at the daily peak
    "history": "2h",
    "expect": {"root_cause": {"service": None}},
}


def shop(**fields: Any) -> Scenario:
    return Scenario.model_validate({**SHOP, **fields})


def shop_world(**fields: Any) -> World:
    return simulate(shop(**fields))


def variant(scenario_id: str, **fields: Any) -> Scenario:
    """A shipped scenario with some fields replaced."""
    data = load_scenario(scenario_id).model_dump(mode="json", by_alias=True)
    return Scenario.model_validate({**data, **fields})


def windows(world: World, fault_at_s: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """A window before a fault `fault_at_s` seconds before end, and one from 5 minutes after it."""
    return (index_at(world, fault_at_s - 1800), index_at(world, fault_at_s - 60)), (
        index_at(world, fault_at_s + 300),
        index_at(world, 0),
    )


def served_per_s(world: World, service: str, window: tuple[int, int]) -> float:
    """Requests/s a service's pods served over the window (every attempt counts)."""
    seconds = (world.timestamps[window[1]] - world.timestamps[window[0]]) / 1000.0
    return total_increase(select(world, f"{SERVER}_count", service=service), *window) / seconds


def client_calls(
    world: World, caller: str, callee: str, window: tuple[int, int], code: str | None = None
) -> float:
    extra = {"http_response_status_code": code} if code else {}
    series = select(world, f"{CLIENT}_count", service=caller, server_address=callee, **extra)
    return total_increase(series, *window)
