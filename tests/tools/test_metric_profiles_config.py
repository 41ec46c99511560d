"""Metric profiles without a Prometheus: the detection rule, the templates' contract, pinning and
overrides in the config and the settings. (The templates themselves run against a real Prometheus in
test_metric_profiles.py.)"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from server.settings import Settings
from tools.config import ToolsConfig
from tools.metrics.conventions import ISTIO
from tools.metrics.profiles import CORE_TEMPLATES, PROFILES, detect_profile
from tools.metrics.templates import (
    OTEL_TEMPLATES,
    PROFILE_TEMPLATE_CONTRACT,
    SHARED_TEMPLATES,
    check_template,
)


@pytest.mark.parametrize("name", list(PROFILES))
def test_each_profile_is_detected_from_its_own_signature_alone(name: str) -> None:
    names = {n for group in PROFILES[name].signature for n in group} | {
        "up",
        "container_cpu_usage_seconds_total",
    }
    found = detect_profile(names)
    assert (found.name, found.how) == (name, "detected")
    assert PROFILES[name].signature[0][0] in found.why


def test_detection_is_a_deterministic_score_with_opentelemetry_as_fallback() -> None:
    nothing = detect_profile({"up", "node_cpu_seconds_total", "kube_pod_status_phase"})
    assert (nothing.name, nothing.how) == ("opentelemetry", "fallback")
    assert "no profile's key metrics" in nothing.why and "istio_requests_total" in nothing.why
    # Micrometer publishes no buckets by default: half its signature still beats nothing
    assert detect_profile({"http_server_requests_seconds_count"}).name == "spring-micrometer"
    # the full signature beats a half one, whatever the order of PROFILES
    mesh = {"istio_requests_total", "istio_request_duration_milliseconds_bucket"}
    edge = {"nginx_ingress_controller_requests", "nginx_ingress_controller_request_duration_seconds_bucket"}
    assert detect_profile(edge | {"istio_requests_total"}).name == "ingress-nginx"
    # a tie goes to the earlier profile: the mesh sees every service, the ingress those behind it
    both = mesh | edge
    assert [detect_profile(both).name for _ in range(3)] == ["istio"] * 3
    # gauges: an error-count gauge stands in for the success ratio
    assert (
        detect_profile({"request_latency_seconds", "request_errors_per_second"}).name == "percentile-gauges"
    )


def test_every_profile_keeps_the_template_contract() -> None:
    for profile in PROFILES.values():
        assert set(CORE_TEMPLATES) <= set(profile.templates) <= set(PROFILE_TEMPLATE_CONTRACT), profile.name
        assert not set(profile.templates) & set(SHARED_TEMPLATES)
        for name, text in profile.templates.items():
            check_template(name, text)  # no placeholder the renderer would leave as `$foo`
    assert set(PROFILES["opentelemetry"].templates) == set(PROFILE_TEMPLATE_CONTRACT)


def test_a_pinned_profile_sets_the_templates_and_overrides_survive_a_round_trip() -> None:
    pinned = ToolsConfig(metric_profile="istio")
    assert pinned.promql["request_rate"] == ISTIO["request_rate"] and pinned.overrides() == {}
    assert pinned.promql["cpu_usage_cores"] == SHARED_TEMPLATES["cpu_usage_cores"]
    assert "client_error_ratio" not in ToolsConfig(metric_profile="ingress-nginx").promql

    mine = 'sum(rate(my_requests_total{service="$service",code=~"5.."}[$window]))'
    config = ToolsConfig(promql={"error_ratio": mine})
    again = ToolsConfig.model_validate(config.model_dump())
    assert again.overrides() == config.overrides() == {"error_ratio": mine}
    istio = again.templates_for("istio")
    assert istio["error_ratio"] == mine and istio["latency_quantile"] == ISTIO["latency_quantile"]
    assert again.templates_for("opentelemetry")["request_rate"] == OTEL_TEMPLATES["request_rate"]


def test_unknown_profiles_and_templates_are_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"'opentelemetry'.*'percentile-gauges'"):
        ToolsConfig(metric_profile="envoy")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"unknown PromQL template 'errors'.*client_error_ratio"):
        ToolsConfig(promql={"errors": "vector(1)"})
    with pytest.raises(ValueError, match="unknown metric profile 'envoy'; known: opentelemetry, istio"):
        ToolsConfig().templates_for("envoy")


def test_the_setting_pins_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().tools_config().metric_profile is None
    monkeypatch.setenv("MEDIC_METRIC_PROFILE", "linkerd")
    tools = Settings().tools_config()
    assert (
        tools.metric_profile == "linkerd"
        and tools.promql["error_ratio"] == PROFILES["linkerd"].templates["error_ratio"]
    )
    monkeypatch.setenv("MEDIC_METRIC_PROFILE", "envoy")
    with pytest.raises(ValidationError, match="metric_profile"):
        Settings()
