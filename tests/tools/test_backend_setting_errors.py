"""A backend that is down, silent or missing says which setting points at it (DESIGN, style §4):
the message ends up in the report's missing evidence, and a person acts on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.sandbox.kube import write_kubeconfig
from tests.tools.prom_fixture import AS_OF, free_port
from tools.backends import kube_api_client, open_tool_context
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.errors import ConfigurationError
from tools.kube.client import KubernetesReader
from tools.metrics.client import PrometheusBackend
from tools.registry import default_registry

REGISTRY = default_registry()


def test_a_refused_prometheus_names_its_url_and_the_setting() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    backend = PrometheusBackend(url, timeout_s=1)
    ctx = ToolContext(as_of=AS_OF, metrics=backend)
    for tool, args in (("prom_query", {"promql": "up"}), ("firing_alerts", {})):
        result = REGISTRY.run(tool, args, ctx)
        assert result.status == "error" and not result.retryable
        assert url in result.summary and "refused the connection" in result.summary, result.summary
        assert "MEDIC_PROMETHEUS_URL" in result.summary
    backend.close()


def test_a_silent_prometheus_names_the_settings_of_its_url_and_timeout(silent_server: str) -> None:
    backend = PrometheusBackend(silent_server, timeout_s=0.5)
    result = REGISTRY.run("prom_query", {"promql": "up"}, ToolContext(as_of=AS_OF, metrics=backend))
    backend.close()
    assert result.status == "error" and silent_server in result.summary
    assert "MEDIC_PROMETHEUS_URL" in result.summary and "MEDIC_TIMEOUT_S" in result.summary


@pytest.mark.parametrize(
    ("tool", "args", "setting"),
    [
        ("golden_signals", {"service": "checkout"}, "MEDIC_PROMETHEUS_URL"),
        ("kube_pods", {"namespace": "shop"}, "MEDIC_KUBECONFIG"),
        ("service_dependencies", {}, "MEDIC_TRACES_BACKEND"),
    ],
)
def test_an_unconfigured_backend_names_the_setting(tool: str, args: dict[str, object], setting: str) -> None:
    result = REGISTRY.run(tool, args, ToolContext(as_of=AS_OF))
    assert result.status == "error" and setting in result.summary, result.summary


def test_an_unreachable_kubernetes_api_names_its_address_and_the_setting(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    reader = KubernetesReader.from_kubeconfig(write_kubeconfig(url, tmp_path / "kubeconfig"), timeout_s=1)
    result = REGISTRY.run("kube_pods", {"namespace": "shop"}, ToolContext(as_of=AS_OF, kube=reader))
    reader.close()
    assert result.status == "error" and url in result.summary, result.summary
    assert "MEDIC_KUBECONFIG" in result.summary and "KUBECONFIG" in result.summary


def test_a_kubeconfig_that_does_not_exist_is_one_line_naming_the_setting_and_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "kubeconfig"
    with pytest.raises(ConfigurationError) as raised:
        open_tool_context(ToolsConfig(kubeconfig=missing), AS_OF)
    message = str(raised.value)
    assert str(missing) in message and "MEDIC_KUBECONFIG" in message and "\n" not in message


def test_a_kubeconfig_that_is_not_one_names_the_setting_and_path(tmp_path: Path) -> None:
    garbage = tmp_path / "kubeconfig"
    garbage.write_text("just: some yaml\n")
    with pytest.raises(ConfigurationError, match="MEDIC_KUBECONFIG") as raised:
        kube_api_client(ToolsConfig(kubeconfig=garbage))
    assert str(garbage) in str(raised.value)
