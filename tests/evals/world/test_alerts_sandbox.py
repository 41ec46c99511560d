"""The scenario's alert, read from a sandbox's real Prometheus the way medic reads a cluster: PromQL on
`ALERTS`, and the `firing_alerts` tool at the investigation's instant and before the alert fired."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from tests.evals.sandbox.promql import PromQL
from tests.sandbox_fixture import SandboxPool, tool_context
from tools.registry import default_registry

pytestmark = pytest.mark.sandbox


def test_the_alert_is_an_alerts_series_in_prometheus(sandbox_pool: SandboxPool) -> None:
    scenario, info = sandbox_pool.get("checkout-bad-deploy")  # alert FrontendHighErrorRate from -20m
    assert scenario.alert is not None
    prom = PromQL(info.prometheus_url, scenario.end_utc)
    (firing,) = prom.instant('ALERTS{alertname="FrontendHighErrorRate", alertstate="firing"}')
    assert firing.value == 1.0
    assert {
        k: v for k, v in firing.labels.items() if k not in ("__name__", "alertstate")
    } == scenario.alert.labels
    assert prom.instant("ALERTS", "21m") == []  # nothing before starts_at
    registry = default_registry()
    with ExitStack() as stack:
        now = registry.run("firing_alerts", {}, tool_context(info, scenario.end_utc, stack))
        assert now.status == "ok" and now.data["alerts"] == [{"labels": scenario.alert.labels}]
        before = registry.run("firing_alerts", {}, tool_context(info, scenario.at("-21m"), stack))
        assert before.status == "no_data"
