"""The `ALERTS` series Prometheus keeps for a firing alerting rule, for the scenario's alert.

A real Prometheus records one series per alert and state: `ALERTS{alertname, alertstate, <the alert's
labels>} 1`, `pending` while the rule's `for` runs and `firing` from then on; nothing before. The
scenario's alert fires from `starts_at` to `end`, so the series is what `ALERTS` shows on a cluster
where that rule fired then.
"""

from __future__ import annotations

import numpy as np

from evals.durations import parse_duration
from evals.scenario import Scenario
from evals.world.grid import Grid, to_ms
from evals.world.model import MetricFamily, Series

ALERTS = "ALERTS"


def alert_families(scenario: Scenario, grid: Grid) -> list[MetricFamily]:
    """[] without an alert, else the one `ALERTS` family (firing, and pending when the rule has a `for`)."""
    alert = scenario.alert
    if alert is None:
        return []
    fires_ms = to_ms(scenario.at(alert.starts_at))
    firing = grid.ts_ms >= fires_ms
    series = [_series(alert.labels, "firing", firing)]
    if alert.for_ is not None:
        pending_ms = fires_ms - round(parse_duration(alert.for_).total_seconds() * 1000)
        pending = (grid.ts_ms >= pending_ms) & ~firing
        if pending.any():
            series.insert(0, _series(alert.labels, "pending", pending))
    return [MetricFamily(ALERTS, "gauge", "Alerts of the rule that fired (recorded by Prometheus).", series)]


def _series(labels: dict[str, str], state: str, present: np.ndarray) -> Series:
    tagged = {**labels, "alertstate": state}
    return Series(ALERTS, tuple(sorted(tagged.items())), np.where(present, 1.0, np.nan))
