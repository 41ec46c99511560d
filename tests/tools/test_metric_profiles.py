"""Metric profiles against a real Prometheus holding the same incident in each convention
(tests/tools/profile_fixture.py): detection, golden signals, the root-cause ranking, and the gaps."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from agent.report import build_report
from agent.state import Step, ToolCall
from tests.agent.report_state import state
from tests.tools.conftest import js
from tests.tools.profile_fixture import AS_OF, FAULT_AT, FAULTY, NAMESPACE, PROFILE_NAMES, serving
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.metrics.client import InstantSeries, PrometheusBackend
from tools.metrics.profile_detect import active_profile
from tools.metrics.profiles import PROFILES
from tools.metrics.templates import render
from tools.registry import default_registry

REGISTRY = default_registry()
# conventions without a client side: what callers see cannot be shown
NO_CALLERS = {"ingress-nginx", "percentile-gauges"}


@pytest.fixture(scope="module", params=PROFILE_NAMES)
def profile_prometheus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    profile = str(request.param)
    with serving(profile, tmp_path_factory.mktemp(profile)) as url:
        yield profile, url


def context(url: str, config: ToolsConfig | None = None, as_of: Any = AS_OF) -> ToolContext:
    config = config or ToolsConfig(prometheus_url=url)
    return ToolContext(as_of=as_of, metrics=PrometheusBackend(url, timeout_s=10), config=config)


def test_the_profile_is_detected_from_the_metric_names(profile_prometheus: tuple[str, str]) -> None:
    profile, url = profile_prometheus
    active = active_profile(context(url))
    assert active.profile.name == profile
    assert active.how == "detected" and active.scores[profile] == 1.0


def test_golden_signals_show_the_jump_in_every_profile(profile_prometheus: tuple[str, str]) -> None:
    profile, url = profile_prometheus
    ctx = context(url)
    result = REGISTRY.run("golden_signals", {"service": FAULTY, "namespace": NAMESPACE}, ctx)
    assert result.status == "ok", result.summary
    data = js(result)
    assert data["metric_profile"]["name"] == profile and f"metric profile {profile}" in result.summary
    server = data["server"]
    assert abs(server["error_ratio"]["now"] - 0.3) < 0.03, result.summary
    assert server["error_ratio"]["before"] < 0.02
    assert server["latency_p99_s"]["now"] > 3 * server["latency_p99_s"]["before"]
    # per second in every convention; Spring's actuator probes are not traffic; gauges are noisier
    assert abs(server["request_rate"]["now"] - 5.0) < (0.75 if profile == "percentile-gauges" else 0.2)
    healthy = REGISTRY.run("golden_signals", {"service": "catalog", "namespace": NAMESPACE}, ctx)
    assert js(healthy)["server"]["error_ratio"]["now"] < 0.02, healthy.summary
    assert 0.02 < js(healthy)["server"]["latency_p99_s"]["now"] < 0.3
    if profile in NO_CALLERS:
        assert data["callers"] == {}
        note = f"what callers see (client-side metrics): not available in metric profile {profile}"
        assert any(note in u for u in data["unavailable"]) and note in result.summary
    else:
        assert abs(data["callers"]["orders"]["error_ratio"] - 0.3) < 0.03, result.summary
        assert data["unavailable"] == []


def test_the_ranking_finds_the_jumping_service_in_every_profile(profile_prometheus: tuple[str, str]) -> None:
    profile, url = profile_prometheus
    result = REGISTRY.run("rank_root_causes", {"namespace": NAMESPACE}, context(url))
    assert result.status == "ok", result.summary
    data = js(result)
    top = data["candidates"][0]
    assert data["anomalous"] and top["service"] == FAULTY, result.summary
    assert data["metric_profile"]["name"] == profile
    assert AS_OF.fromisoformat(data["onset"]) <= FAULT_AT + timedelta(minutes=3)
    ranked = {c["entity"] for c in data["candidates"]}
    assert {"frontend", "orders", "catalog"} & ranked  # the others were judged too, not missed
    if profile in NO_CALLERS:
        assert "callers" not in str(top["signals"])
        assert f"not available in metric profile {profile}" in data["unavailable"][0]
        assert "client_error_ratio" in data["unavailable"][0]
    else:
        assert data["calls"].get("orders") == [FAULTY] or FAULTY in data["calls"].get("orders", [])


def test_detection_sees_only_the_names_present_before_as_of(profile_prometheus: tuple[str, str]) -> None:
    _, url = profile_prometheus
    early = active_profile(context(url, as_of=AS_OF - timedelta(hours=5)))
    assert early.profile.name == "opentelemetry" and early.how == "fallback"
    assert "no profile's key metrics" in early.why


def test_a_pinned_profile_wins_over_detection(profile_prometheus: tuple[str, str]) -> None:
    profile, url = profile_prometheus
    other = "istio" if profile != "istio" else "linkerd"
    ctx = context(url, ToolsConfig(prometheus_url=url, metric_profile=other))
    active = active_profile(ctx)
    assert active.profile.name == other and active.how == "pinned" and "MEDIC_METRIC_PROFILE" in active.why
    result = REGISTRY.run("golden_signals", {"service": FAULTY, "namespace": NAMESPACE}, ctx)
    assert result.status == "no_data" and f"(metric profile {other})" in result.summary


class CountingBackend(PrometheusBackend):
    """The real backend, counting the metric-name look-ups detection makes."""

    name_lookups = 0

    def label_values(
        self, label: str, start: datetime, end: datetime, match: Sequence[str] = ()
    ) -> list[str]:
        if label == "__name__":
            self.name_lookups += 1
        return super().label_values(label, start, end, match)


def test_detection_runs_once_per_investigation(profile_prometheus: tuple[str, str]) -> None:
    profile, url = profile_prometheus
    backend = CountingBackend(url, timeout_s=10)
    ctx = ToolContext(as_of=AS_OF, metrics=backend, config=ToolsConfig(prometheus_url=url))
    for service in (FAULTY, "catalog"):  # each step runs on a copy of the context, as the graph does
        step = dataclasses.replace(ctx, as_of=AS_OF)
        assert (
            REGISTRY.run("golden_signals", {"service": service, "namespace": NAMESPACE}, step).status == "ok"
        )
    REGISTRY.run("rank_root_causes", {"namespace": NAMESPACE, "lookback": "1h"}, dataclasses.replace(ctx))
    assert backend.name_lookups == 1
    later = dataclasses.replace(ctx, as_of=AS_OF - timedelta(minutes=5))  # another investigation's instant
    assert active_profile(later).profile.name == profile and backend.name_lookups == 2


def test_overrides_apply_to_the_detected_profile(profile_prometheus: tuple[str, str]) -> None:
    profile, url = profile_prometheus
    config = ToolsConfig(prometheus_url=url, promql={"error_ratio": "vector(0.5)"})
    result = REGISTRY.run("golden_signals", {"service": FAULTY, "namespace": NAMESPACE}, context(url, config))
    server = js(result)["server"]
    assert server["error_ratio"]["now"] == 0.5  # the deployment's template
    assert server["latency_p99_s"]["now"] > 1.0  # the detected profile's, in seconds
    assert js(result)["metric_profile"]["name"] == profile


def test_series_of_a_profile_answer_only_its_own_templates(profile_prometheus: tuple[str, str]) -> None:
    """A profile's every template answers on its own convention, and every other profile's finds nothing
    there: picking the right profile is what makes the tools work."""
    profile, url = profile_prometheus
    backend = PrometheusBackend(url, timeout_s=10)

    def rows(template: str) -> list[InstantSeries]:
        promql = render(template, namespace=NAMESPACE, service=FAULTY, window="5m", node="node-1")
        return [s for s in backend.instant(promql, AS_OF) if s.value == s.value]

    for other in PROFILES.values():
        found = {name for name, text in other.templates.items() if rows(text)}
        if other.name == profile:  # every template of its own answers, client side and per pod included
            assert found == set(other.templates), set(other.templates) - found
        else:
            assert not found, (other.name, found)


def test_the_report_names_the_profile_the_tools_used(profile_prometheus: tuple[str, str]) -> None:
    profile, url = profile_prometheus
    args = {"service": FAULTY, "namespace": NAMESPACE}
    result = REGISTRY.run("golden_signals", args, context(url))
    finished = state()
    golden = Step(
        call=ToolCall(id="g1", tool="golden_signals", args=args),
        status=result.status,
        summary=result.summary,
        data=result.data,
    )
    finished["steps"] = [*finished["steps"], golden]
    report = build_report(finished, planner="rules")
    assert report.metric_profile is not None
    assert (report.metric_profile.name, report.metric_profile.how) == (profile, "detected")
    assert f"- Metric profile {profile} ({PROFILES[profile].title}; detected: " in report.to_markdown()
    assert build_report(state(), planner="rules").metric_profile is None  # no metric tool, no claim
