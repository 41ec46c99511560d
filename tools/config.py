"""What the read tools need to know (DESIGN §2: each layer declares its config; `server/settings.py` composes).

Bounds live here, not in the tools, so a deployment can tighten them and no tool can hang or flood:
every backend request has `timeout_s`, every result is capped by `max_series`/`max_points`, every log read
by the tail limits, and every summary by `summary_max_tokens`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.metrics.templates import DEFAULT_TEMPLATES, check_template
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
    promql: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TEMPLATES),
        description="named PromQL templates ($namespace, $service, $pod_regex, $window, ...); "
        "a deployment overrides some by name, the others keep their defaults",
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
        merged = dict(DEFAULT_TEMPLATES)
        for name, text in self.promql.items():
            if name not in DEFAULT_TEMPLATES:
                raise ValueError(
                    f"unknown PromQL template {name!r}; known: {', '.join(sorted(DEFAULT_TEMPLATES))}"
                )
            check_template(name, text)
            merged[name] = text
        object.__setattr__(self, "promql", merged)
        if self.kube_in_cluster and self.kubeconfig is not None:
            raise ValueError("set either kubeconfig or kube_in_cluster, not both")
        return self
