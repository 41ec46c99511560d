"""Metric profiles: which request-metric convention a cluster speaks, as named sets of PromQL templates.

Real clusters do not all expose OpenTelemetry HTTP metrics: a mesh reports Istio's or Linkerd's,
Spring apps Micrometer's, an edge only ingress-nginx's, some monitoring systems only gauges of
percentiles. Each profile fills the request templates of `PROFILE_TEMPLATE_CONTRACT` in its own
metric names and labels (saturation, kube-state-metrics and alerts are `SHARED_TEMPLATES`, the same
in all), and leaves out what its convention cannot say; the tools then report that signal as not
available in the profile instead of failing.

Which profile an investigation uses is decided once, at its first metric query: the one whose key
metric names (`signature`) are present in the hour before as_of, by the share of them present; ties
go to the earlier profile in `PROFILES` (a mesh covers every service, an ingress only those behind
it). None present: OpenTelemetry, today's default. A setting (`ToolsConfig.metric_profile`,
MEDIC_METRIC_PROFILE) pins one instead.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import JsonValue

from tools.metrics.conventions import INGRESS_NGINX, ISTIO, LINKERD, PERCENTILE_GAUGES, SPRING
from tools.metrics.templates import OTEL_TEMPLATES, PROFILE_TEMPLATE_CONTRACT, SHARED_TEMPLATES

ProfileName = Literal[
    "opentelemetry", "istio", "linkerd", "spring-micrometer", "ingress-nginx", "percentile-gauges"
]
How = Literal["pinned", "detected", "fallback"]

# every profile answers these; the others (client side, per pod, call edges) only where it can
CORE_TEMPLATES = ("service_names", "request_rate", "error_ratio", "latency_quantile")


@dataclass(frozen=True)
class MetricProfile:
    """A convention: its name (the setting's value), a title for people, the metric names that
    identify it (groups of alternatives) and its request templates."""

    name: ProfileName
    title: str
    signature: tuple[tuple[str, ...], ...]
    templates: Mapping[str, str]

    def present(self, names: Collection[str]) -> list[str]:
        """The signature's metric names among `names`."""
        return [n for group in self.signature for n in group if n in names]

    def score(self, names: Collection[str]) -> float:
        """Share of the signature's groups with at least one name present."""
        hits = sum(1 for group in self.signature if any(n in names for n in group))
        return hits / len(self.signature)


def _profile(
    name: ProfileName, title: str, signature: tuple[tuple[str, ...], ...], templates: Mapping[str, str]
) -> MetricProfile:
    unknown = set(templates) - set(PROFILE_TEMPLATE_CONTRACT)
    missing = [t for t in CORE_TEMPLATES if t not in templates]
    if unknown or missing:
        raise ValueError(f"profile {name}: unknown templates {sorted(unknown)}, missing {missing}")
    return MetricProfile(name, title, signature, dict(templates))


PROFILES: dict[ProfileName, MetricProfile] = {
    p.name: p
    for p in (
        _profile(
            "opentelemetry",
            "OpenTelemetry semantic conventions",
            (
                ("http_server_request_duration_seconds_count",),
                ("http_server_request_duration_seconds_bucket",),
            ),
            OTEL_TEMPLATES,
        ),
        _profile(
            "istio",
            "Istio/Envoy",
            (("istio_requests_total",), ("istio_request_duration_milliseconds_bucket",)),
            ISTIO,
        ),
        _profile("linkerd", "Linkerd", (("response_total",), ("response_latency_ms_bucket",)), LINKERD),
        _profile(
            "spring-micrometer",
            "Spring Boot/Micrometer",
            (("http_server_requests_seconds_count",), ("http_server_requests_seconds_bucket",)),
            SPRING,
        ),
        _profile(
            "ingress-nginx",
            "ingress-nginx",
            (
                ("nginx_ingress_controller_requests",),
                ("nginx_ingress_controller_request_duration_seconds_bucket",),
            ),
            INGRESS_NGINX,
        ),
        _profile(
            "percentile-gauges",
            "latency percentile and success-rate gauges",
            (("request_latency_seconds",), ("request_success_ratio", "request_errors_per_second")),
            PERCENTILE_GAUGES,
        ),
    )
}
FALLBACK: ProfileName = "opentelemetry"
# the names a deployment may override (`ToolsConfig.promql`)
TEMPLATE_NAMES = frozenset(PROFILE_TEMPLATE_CONTRACT) | frozenset(SHARED_TEMPLATES)


def profile_named(name: str) -> MetricProfile:
    """The profile called `name`, or an error listing the known ones."""
    for profile in PROFILES.values():
        if profile.name == name:
            return profile
    raise ValueError(f"unknown metric profile {name!r}; known: {', '.join(PROFILES)}")


def base_templates(name: str) -> dict[str, str]:
    """A profile's request templates with the shared ones."""
    return {**profile_named(name).templates, **SHARED_TEMPLATES}


@dataclass(frozen=True)
class Detection:
    """Which profile the metric names point to, how it was chosen and why, with every score."""

    name: ProfileName
    how: How
    why: str
    scores: dict[str, float] = field(default_factory=dict)


def detect_profile(names: Collection[str], window: str = "the hour before as_of") -> Detection:
    """The profile whose signature is most present in `names` (earlier in PROFILES on a tie);
    OpenTelemetry when none is."""
    scores: dict[str, float] = {p.name: p.score(names) for p in PROFILES.values()}
    best = max(PROFILES.values(), key=lambda p: scores[p.name])  # max keeps the first of equals
    if scores[best.name] == 0:
        looked = ", ".join(group[0] for p in PROFILES.values() for group in p.signature[:1])
        why = (
            f"no profile's key metrics in {window} (looked for {looked}): {PROFILES[FALLBACK].title} assumed"
        )
        return Detection(FALLBACK, "fallback", why, scores)
    why = f"{', '.join(best.present(names))} present in {window}"
    return Detection(best.name, "detected", why, scores)


@dataclass(frozen=True)
class ActiveProfile:
    """The profile an investigation's tools use, with its templates (shared ones and overrides in)."""

    profile: MetricProfile
    templates: Mapping[str, str]
    how: How
    why: str
    scores: Mapping[str, float] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """The template, or None where the profile's convention has no such signal."""
        return self.templates.get(name)

    def unavailable(self, what: str) -> str:
        """The sentence a tool says instead of a signal the profile cannot give."""
        return f"{what}: not available in metric profile {self.profile.name} ({self.profile.title})"

    def describe(self) -> dict[str, JsonValue]:
        """For tools' data and the report: which profile, how it was chosen and why."""
        return {
            "name": self.profile.name,
            "title": self.profile.title,
            "how": self.how,
            "why": self.why,
            "scores": {k: round(v, 2) for k, v in self.scores.items()},
        }


class ProfileCache:
    """Detections per (metrics backend, as_of), so an investigation detects once however many tools
    run, in parallel or not. It lives on the ToolContext and survives `dataclasses.replace`."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._found: OrderedDict[tuple[int, datetime], tuple[object, Detection]] = OrderedDict()

    def get(self, backend: object, as_of: datetime, detect: Callable[[], Detection]) -> Detection:
        """The cached detection, or `detect()` (under the lock: parallel callers wait for one answer).
        A detection that raised is not cached, so the next tool tries again."""
        key = (id(backend), as_of)
        with self._lock:
            hit = self._found.get(key)
            if hit is not None and hit[0] is backend:  # the same backend, not one reusing its id
                self._found.move_to_end(key)
                return hit[1]
            found = detect()
            self._found[key] = (backend, found)
            while len(self._found) > self._size:
                self._found.popitem(last=False)
            return found
