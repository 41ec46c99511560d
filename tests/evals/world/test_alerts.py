"""The scenario's alert is in Prometheus as the ALERTS series a real cluster would have."""

from __future__ import annotations

import numpy as np

from evals.world.alerts import ALERTS
from evals.world.model import World
from evals.world.simulate import simulate
from tests.evals.world.query import index_at, select
from tests.evals.world.realism_worlds import shop_world, variant

LABELS = {"alertname": "ApiErrors", "severity": "page", "namespace": "shop", "service": "api"}
ALERT = {
    "labels": LABELS,
    "annotations": {"summary": "api 5xx above 5%"},
    "starts_at": "-20m",
}


def _present(world: World, **labels: str) -> np.ndarray:
    (series,) = select(world, ALERTS, **labels)
    assert set(np.unique(series.values[~np.isnan(series.values)])) == {1.0}
    return ~np.isnan(series.values)


def test_alerts_fires_from_starts_at_to_end_with_the_alerts_labels() -> None:
    world = shop_world(alert=ALERT)
    (series,) = select(world, ALERTS)
    assert dict(series.labels) == {**LABELS, "alertstate": "firing"}
    firing = _present(world, alertstate="firing")
    first = index_at(world, -20 * 60)
    assert not firing[:first].any() and firing[first:].all()


def test_a_rule_with_for_is_pending_before_it_fires() -> None:
    world = shop_world(alert={**ALERT, "for": "5m"})
    pending = _present(world, alertstate="pending", alertname="ApiErrors", service="api")
    firing = _present(world, alertstate="firing")
    assert np.flatnonzero(pending).tolist() == list(
        range(index_at(world, -25 * 60), index_at(world, -20 * 60))
    )
    assert not (pending & firing).any()


def test_no_alert_no_alerts_series() -> None:
    assert not select(shop_world(), ALERTS)


def test_shipped_scenarios_get_their_alert_added() -> None:
    scenario = variant("checkout-bad-deploy")
    world = simulate(scenario)
    assert scenario.alert is not None
    (series,) = select(world, ALERTS, alertstate="firing", **scenario.alert.labels)
    assert np.isnan(series.values[index_at(world, -21 * 60)]) and series.values[-1] == 1.0
