"""The scenario format's realism fields (`realism:`, a fault's `ramp`, an alert's `for`): they load from
YAML, their defaults are the plain model, and each mistake gives one clear error naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.scenario import Scenario, ScenarioError, load_scenario
from tests.evals.test_scenario import with_changes, write

BAD_DEPLOY = {"kind": "bad_deploy", "target": "checkoutservice", "start": "-25m"}


def test_the_realism_fields_load_from_yaml(tmp_path: Path) -> None:
    realism = {
        "client_timeout": "800ms",
        "retries": 2,
        "clients": {"frontend": {"timeout": "2s"}},
        "noise": 0.1,
        "seasonality": {"weekend_level": 0.6},
        "benign_spikes": {"per_day": 4, "at": ["-1h"], "services": ["frontend"]},
    }
    alert = {"labels": {"alertname": "FrontendErrors"}, "starts_at": "-20m", "for": "5m"}
    scenario = load_scenario(
        write(tmp_path, with_changes(realism=realism, alert=alert, faults=[{**BAD_DEPLOY, "ramp": "15m"}]))
    )
    assert scenario.realism.client("frontend") == (2000.0, 2)  # its own timeout, the block's retries
    assert scenario.realism.client("checkoutservice") == (800.0, 2)
    assert scenario.alert is not None and scenario.alert.for_ == "5m"
    assert scenario.faults[0].ramp == "15m"
    assert Scenario.model_validate(scenario.model_dump(mode="json")) == scenario  # dumps round-trip


def test_without_the_fields_nothing_changes(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, with_changes()))
    assert not scenario.realism.has_clients and scenario.realism.client("frontend") == (None, 0)
    assert scenario.realism.noise == 0 and scenario.realism.benign_spikes.per_day == 0
    assert (
        scenario.realism.seasonality.weekend_level == 1.0 and scenario.realism.seasonality.night_level == 0.4
    )
    assert scenario.faults[0].ramp is None and scenario.alert is not None and scenario.alert.for_ is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"realism": {"noize": 0.1}}, "realism.noize: unknown field"),
        ({"realism": {"retries": 9}}, "realism.retries: Input should be less than or equal to 5"),
        ({"realism": {"client_timeout": "0s"}}, "realism.client_timeout: '0s' must be a positive duration"),
        ({"realism": {"client_timeout": "soon"}}, "realism.client_timeout: malformed duration 'soon'"),
        (
            {"realism": {"clients": {"fronted": {"timeout": "1s"}}}},
            "realism.clients.fronted: 'fronted' is not a service of topology 'online-boutique'",
        ),
        (
            {"realism": {"clients": {"redis-cart": {"retries": 1}}}},
            "realism.clients.redis-cart: 'redis-cart' calls no service, so it has no client",
        ),
        (
            {"realism": {"benign_spikes": {"duration": "2h"}}},
            "realism.benign_spikes: duration: 2h is too long for a benign spike (at most 30m)",
        ),
        (
            {"realism": {"benign_spikes": {"services": ["cartservice"]}}},
            "realism.benign_spikes.services[0]: 'cartservice' is not an entry service (entry services: frontend)",
        ),
        (
            {"realism": {"benign_spikes": {"at": ["-3h"]}}},
            "realism.benign_spikes.at[0]: -3h must be between",
        ),
        (
            {"realism": {"seasonality": {"night_level": 0}}},
            "realism.seasonality.night_level: Input should be greater",
        ),
        ({"faults": [{**BAD_DEPLOY, "ramp": "-5m"}]}, "faults[0].ramp: '-5m' must be a positive duration"),
        (
            {"faults": [{**BAD_DEPLOY, "kind": "crashloop", "ramp": "5m"}]},
            "faults[0]: ramp: crashloop cannot ramp (a rollout is one event)",
        ),
        (
            {"faults": [{**BAD_DEPLOY, "kind": "memory_leak", "ramp": "5m"}]},
            "memory_leak cannot ramp (it grows by itself; a longer params.time_to_oom makes it slower)",
        ),
        ({"alert": {"labels": {"alertname": "A"}, "for": "five"}}, "alert.for: malformed duration 'five'"),
    ],
)
def test_each_realism_mistake_gives_one_clear_error(
    tmp_path: Path, changes: dict[str, object], expected: str
) -> None:
    path = write(tmp_path, with_changes(**changes))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert expected in str(info.value), str(info.value)
