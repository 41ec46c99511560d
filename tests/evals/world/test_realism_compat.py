"""Realism is opt-in: the twelve original scenarios keep their telemetry (only ALERTS is added), a block
of defaults changes nothing, and the same seed gives the same bytes with every option on."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from evals.world.model import World
from evals.world.simulate import simulate
from tests.evals.world.query import fingerprint
from tests.evals.world.realism_worlds import shop, variant
from tests.evals.world.shipped_digests import DIGESTS, metric_digest
from tests.sandbox_fixture import SHIPPED

DEFAULTS = {
    "client_timeout": None,
    "retries": 0,
    "clients": {},
    "noise": 0.0,
    "seasonality": {"night_level": 0.4, "peak_hour_utc": 15, "weekend_level": 1.0},
    "benign_spikes": {"per_day": 0, "at": []},
}
EVERYTHING = {
    "client_timeout": "400ms",
    "retries": 2,
    "clients": {"web": {"timeout": "2s", "retries": 1}},
    "noise": 0.1,
    "seasonality": {"night_level": 0.3, "peak_hour_utc": 18, "weekend_level": 0.7},
    "benign_spikes": {"per_day": 8, "at": ["-50m"]},
}


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_shipped_scenarios_keep_their_metrics(
    scenario_id: str, shipped_world: Callable[[str], World]
) -> None:
    assert metric_digest(shipped_world(scenario_id)) == json.loads(DIGESTS.read_text())[scenario_id], (
        f"{scenario_id}: its telemetry changed; if on purpose, see tests/evals/world/shipped_digests.py"
    )


@pytest.mark.parametrize("scenario_id", ["payments-dependency-latency", "sock-shop-packet-loss"])
def test_a_realism_block_of_defaults_changes_nothing(
    scenario_id: str, shipped_world: Callable[[str], World]
) -> None:
    explicit = simulate(variant(scenario_id, realism=DEFAULTS))
    assert fingerprint(explicit) == fingerprint(shipped_world(scenario_id))


def test_the_same_seed_gives_the_same_bytes_with_every_option_on() -> None:
    faults = [{"kind": "dependency_latency", "target": "store", "start": "-30m", "ramp": "10m"}]
    scenario = shop(realism=EVERYTHING, faults=faults, history="1d", step="60s")
    first, second = simulate(scenario), simulate(scenario)
    assert fingerprint(first) == fingerprint(second)
    other = simulate(scenario.model_copy(update={"seed": scenario.seed + 1}))
    assert fingerprint(other)[0] != fingerprint(first)[0]
