"""The watch benchmark's scoring: lead time against the alert, false incidents on healthy spans only,
forecasts against the observed saturation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evals.bench.watch.score import Opened, score_case, summary
from evals.scenario import load_scenario


def test_lead_time_false_incidents_and_forecast_error() -> None:
    s = load_scenario("sock-shop-memory-leak")  # fault at -90m, alert at -40m, cause carts
    assert s.alert is not None
    fault, alert = s.at("-90m"), s.at(s.alert.starts_at)
    opened = [
        Opened(
            opened_at=fault - timedelta(minutes=5), service="orders", kind="anomaly"
        ),  # healthy span: false
        Opened(opened_at=fault + timedelta(minutes=3), service="orders", kind="anomaly"),  # not the cause
        Opened(
            opened_at=fault + timedelta(minutes=10),
            service="carts",
            kind="saturation_forecast",
            time_to_limit_s=600.0,
            resource="memory",
        ),
    ]
    t0 = (fault + timedelta(minutes=10)).timestamp()
    observed = {"sock-shop/carts:memory_vs_limit": [(t0 + 60, 0.8), (t0 + 480, 0.96), (t0 + 540, 0.97)]}
    case = score_case(s, opened, observed, limit_share=0.95)
    assert case.detected and case.lead_min == pytest.approx((alert - fault).total_seconds() / 60 - 10)
    assert case.false_incidents == 1 and case.healthy_service_days > 0
    assert case.forecasts == [{"service_is_cause": 1.0, "predicted_min": 10.0, "observed_min": 8.0}]
    totals = summary([case])
    assert totals["detection_rate"] == 1.0 and totals["forecast_abs_error_median_min"] == pytest.approx(2.0)


def test_a_nothing_wrong_scenario_counts_every_incident_as_false() -> None:
    s = load_scenario("sock-shop-noisy")
    case = score_case(s, [Opened(opened_at=s.at("-30m"), service="catalogue", kind="anomaly")], {}, 0.95)
    assert (case.has_fault, case.detected, case.false_incidents) == (False, None, 1)
