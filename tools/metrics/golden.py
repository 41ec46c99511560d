"""Golden signals of a service: request rate, error ratio, p50/p99 latency, from the service's own server
metrics and from the client side of its callers, at as_of and one `compare_to` earlier. The queries are
the investigation's metric profile's (`profile_detect.py`); a signal the profile has no template for is
reported as not available in it."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tools.context import ToolContext
from tools.contract import Evidence, ToolResult, evidence_id, tool
from tools.errors import UnknownEntity
from tools.metrics.client import MetricsBackend
from tools.metrics.profile_detect import active_profile
from tools.metrics.query import metrics_backend
from tools.metrics.templates import DURATION_PATTERN, NAME_PATTERN, duration_seconds, render
from tools.metrics.units import fmt_value, unit_of
from tools.summary import bounded_summary

SERVER_SIGNALS = {  # signal -> (template, quantile)
    "request_rate": ("request_rate", 0.0),
    "error_ratio": ("error_ratio", 0.0),
    "latency_p50_s": ("latency_quantile", 0.5),
    "latency_p99_s": ("latency_quantile", 0.99),
}
CLIENT_SIGNALS = {
    "request_rate": ("client_request_rate", 0.0),
    "error_ratio": ("client_error_ratio", 0.0),
    "latency_p99_s": ("client_latency_quantile", 0.99),
}


class GoldenSignalsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str = Field(pattern=NAME_PATTERN, description="service name, e.g. checkoutservice")
    namespace: str | None = Field(None, pattern=NAME_PATTERN, description="omit to match any namespace")
    window: str = Field("5m", pattern=DURATION_PATTERN, description="rate window")
    compare_to: str = Field("1h", pattern=DURATION_PATTERN, description="baseline: this long before as_of")


def known_services(
    backend: MetricsBackend, ctx: ToolContext, namespace: str | None, templates: Mapping[str, str]
) -> list[str]:
    """Services that reported request metrics in the hour before as_of (the names `closest` draws on)."""
    promql = render(templates["service_names"], namespace=namespace, lookback="1h")
    return sorted(
        {s.labels["service"] for s in backend.instant(promql, ctx.as_of) if s.labels.get("service")}
    )


def _words(signal: str) -> str:
    return signal.replace("_s", "").replace("_", " ")


def closest_names(name: str, names: list[str]) -> list[str]:
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.4)
    close += [n for n in names if (name in n or n in name) and n not in close]
    return close[:5] or names[:5]


def _scalar(backend: MetricsBackend, promql: str, at: datetime) -> float | None:
    series = backend.instant(promql, at)
    return series[0].value if series else None


def _fmt(signal: str, value: float | None) -> str:
    return fmt_value(value, unit_of(signal))


@tool(effect="read")
def golden_signals(ctx: ToolContext, args: GoldenSignalsInput) -> ToolResult:
    """Request rate, 5xx error ratio and p50/p99 latency of a service at the investigation's instant,
    compared with a baseline before it, plus what each caller sees when calling the service."""
    backend = metrics_backend(ctx)
    active = active_profile(ctx)
    services = known_services(backend, ctx, args.namespace, active.templates)
    if args.service not in services:
        raise UnknownEntity(
            f"no service named {args.service!r} reported request metrics in the hour before as_of"
            f" (metric profile {active.profile.name})",
            closest_names(args.service, services),
        )
    window = args.window
    before = ctx.as_of - timedelta(seconds=duration_seconds(args.compare_to))
    server: dict[str, JsonValue] = {}
    queries: dict[str, JsonValue] = {}
    evidence: list[Evidence] = []
    lines: list[str] = []
    unavailable: list[str] = []
    rates: list[float] = []
    for signal, (name, quantile) in SERVER_SIGNALS.items():
        template = active.get(name)
        if template is None:
            note = active.unavailable(_words(signal))
            server[signal] = {"now": None, "before": None, "unit": unit_of(signal), "unavailable": note}
            lines.append(note)
            unavailable.append(note)
            continue
        promql = render(
            template, namespace=args.namespace, service=args.service, window=window, quantile=quantile
        )
        now, then = _scalar(backend, promql, ctx.as_of), _scalar(backend, promql, before)
        server[signal] = {"now": now, "before": then, "unit": unit_of(signal)}
        if signal == "request_rate":
            rates = [v for v in (now, then) if v is not None]
        queries[signal] = promql
        line = f"{_words(signal)}: {_fmt(signal, now)} (was {_fmt(signal, then)})"
        lines.append(line)
        evidence.append(
            Evidence(
                id=evidence_id("prom", f"golden.{signal}", args.service, promql, ctx.as_of.isoformat()),
                source="prometheus",
                description=f"{args.service} {line} at {ctx.as_of.isoformat()}, {args.compare_to} earlier in brackets",
                query=promql,
            )
        )
    callers: dict[str, dict[str, JsonValue]] = {}
    for signal, (name, quantile) in CLIENT_SIGNALS.items():
        template = active.get(name)
        if template is None:
            continue
        promql = render(
            template, namespace=args.namespace, service=args.service, window=window, quantile=quantile
        )
        queries[f"callers.{signal}"] = promql
        for s in backend.instant(promql, ctx.as_of):
            callers.setdefault(s.labels.get("service", "?"), {})[signal] = s.value
    if any(active.get(name) is None for name, _ in CLIENT_SIGNALS.values()):
        note = active.unavailable("what callers see (client-side metrics)")
        lines.append(note)
        unavailable.append(note)
    caller_lines = []
    for caller, values in sorted(callers.items()):
        parts = ", ".join(f"{_words(k)} {_fmt(k, v)}" for k, v in values.items())  # type: ignore[arg-type]
        caller_lines.append(f"caller {caller} → {args.service}: {parts}")
    lines += caller_lines
    if callers:
        evidence.append(
            Evidence(
                id=evidence_id("prom", "golden.callers", args.service, str(queries), ctx.as_of.isoformat()),
                source="prometheus",
                description=f"what callers of {args.service} see: " + "; ".join(caller_lines),
                query=str(queries.get("callers.error_ratio")),
            )
        )
    summary, cut = bounded_summary(
        f"{args.service} golden signals at {ctx.as_of.isoformat()} ({window} window; in brackets"
        f" {args.compare_to} earlier; metric profile {active.profile.name}):",
        lines,
        max_tokens=ctx.config.summary_max_tokens,
        unit="lines",
    )
    no_traffic = not rates
    return ToolResult(
        status="no_data" if no_traffic else "ok",
        data={
            "service": args.service,
            "namespace": args.namespace,
            "as_of": ctx.as_of.isoformat(),
            "baseline_at": before.isoformat(),
            "window": window,
            "server": server,
            "callers": dict(callers),
            "queries": queries,
            "metric_profile": active.describe(),
            "unavailable": list(unavailable),
        },
        summary=summary,
        truncated=cut,
        evidence=evidence,
    )
