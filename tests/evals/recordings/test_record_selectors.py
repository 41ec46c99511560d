"""Which series a PromQL query reads, and how far back: what a recording must keep for the same query to
give the same answer on replay."""

from __future__ import annotations

import pytest

from evals.recordings.promql_selectors import LOOKBACK_S, PromQLError, Selector, duration_s, reads
from tools.metrics.profiles import PROFILES, base_templates
from tools.metrics.templates import render


def _texts(promql: str) -> list[str]:
    return [s.text for s in reads(promql).selectors]


def test_selectors_not_functions_keywords_or_grouping_labels() -> None:
    promql = (
        'histogram_quantile(0.99, sum by (le, service) (rate(http_server_request_duration_seconds_bucket{namespace=~"shop",service="cart"}[5m])))'
        ' / on (service) group_left (pod) max without (instance) (up) and vector(0) or count(kube_pod_info) > bool 1'
    )  # fmt: skip
    assert _texts(promql) == [
        'http_server_request_duration_seconds_bucket{namespace=~"shop",service="cart"}',
        "up",
        "kube_pod_info",
    ]


def test_matchers_kept_verbatim_with_braces_and_commas_inside_strings() -> None:
    promql = 'sum(rate(requests_total{path=~"/a{1,2},b", code!="5.."}[1m])) + {__name__="x", job="y"}'
    assert reads(promql).selectors == (
        Selector("requests_total", '{path=~"/a{1,2},b", code!="5.."}'),
        Selector("", '{__name__="x", job="y"}'),
    )


def test_reach_is_the_longest_window_plus_offset_plus_lookback() -> None:
    assert reads("x").reach_s == LOOKBACK_S
    assert reads("rate(x[5m]) / rate(y[1h])").reach_s == 3600 + LOOKBACK_S
    assert reads("rate(x[5m] offset 1d)").reach_s == 300 + 86400 + LOOKBACK_S
    assert reads("max_over_time(rate(x[5m])[1h30m:1m])").reach_s == 5400 + LOOKBACK_S
    assert reads("x offset -1h").reach_s == LOOKBACK_S  # a negative offset reads later, never earlier
    assert _texts("max_over_time(rate(x[5m])[1h:1m])") == ["x"]  # the subquery step is no metric


def test_durations() -> None:
    assert duration_s("1h30m") == 5400 and duration_s("500ms") == 0.5 and duration_s("90") == 90
    with pytest.raises(PromQLError):
        duration_s("5 minutes")


def test_a_query_it_cannot_read_is_refused_with_the_query() -> None:
    with pytest.raises(PromQLError, match="@ modifier"):
        reads("rate(x[5m] @ 1700000000)")
    with pytest.raises(PromQLError, match="position 4"):
        reads("x + ~y")


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_template_of_every_profile_is_readable(profile: str) -> None:
    """A template the recorder could not read would leave its series out of every recording."""
    for name, template in base_templates(profile).items():
        found = reads(render(template, namespace="shop", service="cart", node="node-1"))
        assert found.selectors, f"{profile}/{name} reads no series"
        assert all(s.name or "__name__" in s.matchers for s in found.selectors), (profile, name)
