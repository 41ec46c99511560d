"""Opening the backends a ToolsConfig names: the one place the read side is wired to real servers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.errors import ConfigurationError
from tools.kube.client import SETTINGS as KUBE_SETTINGS
from tools.kube.client import KubeReader, KubernetesReader
from tools.metrics.client import MetricsBackend, PrometheusBackend
from tools.traces.factory import open_trace_backend


def kube_api_client(config: ToolsConfig) -> k8s.ApiClient | None:
    """An API client from the kubeconfig or the pod's service account; None when neither is set.
    A kubeconfig that is missing or unusable is a ConfigurationError naming the settings and the path."""
    configuration = k8s.Configuration()
    if config.kube_in_cluster:
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)
        except ConfigException as exc:
            raise ConfigurationError(f"MEDIC_KUBE_IN_CLUSTER is set but this is not a pod: {exc}") from None
    elif config.kubeconfig is not None:
        path = config.kubeconfig
        if not path.is_file():
            raise ConfigurationError(f"the kubeconfig {path} does not exist: check {KUBE_SETTINGS}")
        try:
            k8s_config.load_kube_config(
                config_file=str(path),
                context=config.kube_context,
                client_configuration=configuration,
                persist_config=False,
            )
        except ConfigException as exc:
            raise ConfigurationError(
                f"the kubeconfig {path} is not usable ({exc}): check {KUBE_SETTINGS}"
            ) from None
    else:
        return None
    configuration.retries = 0  # a request either answers within the timeout or fails; no hidden retries
    return k8s.ApiClient(configuration)


def act_api_client(config: ToolsConfig, kubeconfig: Path, context: str | None) -> k8s.ApiClient:
    """The executor's credential: its own kubeconfig (e.g. the medic-act service account's token),
    with the same timeouts and no retries as the read side."""
    act = config.model_copy(
        update={"kubeconfig": kubeconfig, "kube_context": context, "kube_in_cluster": False}
    )
    api = kube_api_client(act)
    assert api is not None  # a kubeconfig is set
    return api


def open_tool_context(config: ToolsConfig, as_of: datetime) -> ToolContext:
    """A ToolContext with every configured backend; an unconfigured one stays None (its tools say so)."""
    metrics: MetricsBackend | None = None
    if config.prometheus_url:
        metrics = PrometheusBackend(config.prometheus_url, config.timeout_s)
    api = kube_api_client(config)
    kube: KubeReader | None = KubernetesReader(api, config.timeout_s) if api is not None else None
    return ToolContext(
        as_of=as_of, metrics=metrics, kube=kube, traces=open_trace_backend(config.traces), config=config
    )
