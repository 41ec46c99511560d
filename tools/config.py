"""What the read tools need to know (DESIGN §2: each layer declares its config; `server/settings.py` composes).

Bounds live here, not in the tools, so a deployment can tighten them and no tool can hang or flood:
every backend request has `timeout_s`, every result is capped by `max_series`/`max_points`, every log read
by the tail limits, and every summary by `summary_max_tokens`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.metrics.profiles import TEMPLATE_NAMES, ProfileName, base_templates
from tools.metrics.templates import check_template
from tools.traces.config import TracesConfig


class ToolsConfig(BaseModel):
    """Backends and bounds for the read tools."""

    model_config = ConfigDict(frozen=True)

    prometheus_url: str | None = Field(
        None, description="Prometheus-compatible API base URL; None: no metrics"
    )
    timeout_s: float = Field(
        10.0, gt=0, le=300, description="per backend request (Prometheus and Kubernetes)"
    )
    max_points: int = Field(
        500, ge=10, le=11_000, description="most points per series a range query may return"
    )
    max_series: int = Field(50, ge=1, le=10_000, description="most series a query result keeps in `data`")
    metric_profile: ProfileName | None = Field(
        None,
        description="the request-metric convention (tools/metrics/profiles.py); None: detected per "
        "investigation from the metric names present",
    )
    promql: dict[str, str] = Field(
        default_factory=dict,
        description="named PromQL templates ($namespace, $service, $pod_regex, $window, ...); "
        "a deployment overrides some by name, the others are the profile's. Holds the pinned profile's "
        "(or, when none is pinned, OpenTelemetry's) templates with the overrides; a detected profile "
        "gets the same overrides through `templates_for`",
    )
    kubeconfig: Path | None = Field(
        None, description="kubeconfig file; None with kube_in_cluster=False: no Kubernetes"
    )
    kube_context: str | None = None
    kube_in_cluster: bool = Field(False, description="use the pod's service account instead of a kubeconfig")
    log_tail_lines: int = Field(500, ge=1, le=10_000, description="lines read from the end of a pod log")
    log_max_lines: int = Field(100, ge=1, le=5_000, description="matching lines kept in a log tool's data")
    log_max_line_chars: int = Field(500, ge=40, le=10_000, description="longer log lines are cut")
    summary_max_tokens: int = Field(400, ge=50, le=4_000, description="cl100k_base tokens per tool summary")
    traces: TracesConfig = Field(default_factory=TracesConfig)

    @model_validator(mode="after")
    def _complete_templates(self) -> Self:
        """Overrides replace defaults by name; an unknown name or placeholder is refused at load time."""
        merged = base_templates(self.metric_profile or "opentelemetry")
        for name, text in self.promql.items():
            if name not in TEMPLATE_NAMES:
                raise ValueError(
                    f"unknown PromQL template {name!r}; known: {', '.join(sorted(TEMPLATE_NAMES))}"
                )
            check_template(name, text)
            merged[name] = text
        object.__setattr__(self, "promql", merged)
        if self.kube_in_cluster and self.kubeconfig is not None:
            raise ValueError("set either kubeconfig or kube_in_cluster, not both")
        return self

    def overrides(self) -> dict[str, str]:
        """The templates the deployment set itself: those of `promql` that its base profile's differ from
        (computed, so a config that went through model_dump and back keeps the same overrides)."""
        base = base_templates(self.metric_profile or "opentelemetry")
        return {name: text for name, text in self.promql.items() if base.get(name) != text}

    def templates_for(self, profile: str) -> dict[str, str]:
        """A profile's templates with the shared ones and the deployment's overrides."""
        if profile == (self.metric_profile or "opentelemetry"):
            return dict(self.promql)
        return {**base_templates(profile), **self.overrides()}
