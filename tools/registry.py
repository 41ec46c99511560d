"""The one registry of tools, and the one way to run a tool by name with untrusted arguments."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from pydantic import BaseModel, JsonValue, ValidationError

from tools.contract import ToolResult, ToolSpec, spec_of
from tools.errors import ToolError, UnknownEntity

if TYPE_CHECKING:
    from tools.context import ToolContext


class UnknownTool(LookupError):
    """A tool name the registry does not hold (e.g. one a model made up)."""


class Registry:
    """Tools by name. Read tools run through `run`; action tools return an ActionRequest for the guard."""

    def __init__(self, fns: Iterable[Callable[..., object]]) -> None:
        self._specs: dict[str, ToolSpec] = {}
        for fn in fns:
            spec = spec_of(fn)
            if spec.name in self._specs:
                raise ValueError(f"two tools are named {spec.name!r}")
            self._specs[spec.name] = spec

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    @property
    def specs(self) -> list[ToolSpec]:
        return list(self._specs.values())

    def get(self, name: str) -> ToolSpec:
        try:
            return self._specs[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._specs, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownTool(f"no tool named {name!r}{hint}") from None

    def schemas(self) -> list[dict[str, JsonValue]]:
        return [spec.json_schema() for spec in self._specs.values()]

    def parse_args(self, name: str, raw: Mapping[str, object] | BaseModel) -> BaseModel:
        """Validate untrusted arguments; raises ValidationError with what to fix."""
        spec = self.get(name)
        if isinstance(raw, spec.input_model):
            return raw
        return spec.input_model.model_validate(raw if isinstance(raw, Mapping) else raw.model_dump())

    def run(self, name: str, raw: Mapping[str, object] | BaseModel, ctx: ToolContext) -> ToolResult:
        """Run a read tool. Bad names and arguments, and ToolErrors, come back as `error` results."""
        try:
            spec = self.get(name)
        except UnknownTool as exc:
            return ToolResult(status="error", summary=str(exc), retryable=True)
        if spec.effect != "read":
            return ToolResult(status="error", summary=f"{name} is an action tool; propose it instead")
        try:
            args = self.parse_args(name, raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            return ToolResult(
                status="error", summary=f"invalid arguments for {name}: {problems}", retryable=True
            )
        try:
            result = spec.fn(ctx, args)
        except UnknownEntity as exc:
            return ToolResult(
                status="no_data",
                summary=str(exc),
                data={"closest": list(exc.closest)},
                retryable=True,
            )
        except ToolError as exc:
            return ToolResult(status="error", summary=str(exc), retryable=exc.retryable)
        if not isinstance(result, ToolResult):
            raise TypeError(f"read tool {name} returned {type(result).__name__}, not ToolResult")
        return _within_budget(result, ctx.config.summary_max_tokens)


def _within_budget(result: ToolResult, max_tokens: int) -> ToolResult:
    """The token budget holds for every tool, even one whose own bounding has a bug."""
    from tools.summary import count_tokens, truncate_to_tokens

    if count_tokens(result.summary) <= max_tokens:
        return result
    return result.model_copy(
        update={"summary": truncate_to_tokens(result.summary, max_tokens), "truncated": True}
    )


def default_registry() -> Registry:
    """Every read and action tool the agent may use, in one explicit list (DESIGN §3.1).

    A tool exists for the agent only once it is listed here; `tests/tools/test_registry.py` checks each
    one has an effect, a docstring and a JSON schema. Imports are local so that importing the registry
    module stays cheap and free of cycles.
    """
    from tools.anomaly.series_tools import anomaly_score, forecast_saturation
    from tools.anomaly.tools import rank_root_causes
    from tools.kube.logs import pod_logs
    from tools.kube.nodes import kube_nodes
    from tools.kube.tools import kube_events, kube_pods, kube_workload
    from tools.memory.tool import similar_incidents
    from tools.metrics.discovery import firing_alerts, prom_label_values, prom_list_metrics
    from tools.metrics.golden import golden_signals
    from tools.metrics.query import prom_query
    from tools.metrics.saturation import workload_saturation
    from tools.traces.tools import find_traces, get_trace, service_dependencies, trace_critical_path

    # ---- THE TOOL LIST: add new tools here, grouped by owner ---------------------------------------
    tools: list[Callable[..., object]] = [
        # metrics (Prometheus)
        golden_signals,
        workload_saturation,
        firing_alerts,
        prom_query,
        prom_list_metrics,
        prom_label_values,
        # Kubernetes and logs
        kube_workload,
        kube_pods,
        kube_events,
        kube_nodes,
        pod_logs,
        # traces
        find_traces,
        get_trace,
        service_dependencies,
        trace_critical_path,
        # anomaly models (tools/anomaly/): add their @tool functions here
        rank_root_causes,
        anomaly_score,
        forecast_saturation,
        # memory of past incidents (tools/memory/): hypotheses to verify, never answers
        similar_incidents,
        # action tools (return an ActionRequest, executed only through policies/guard.py): add here
    ]
    # ---- end of the tool list ------------------------------------------------------------------------
    return Registry(tools)
