"""A limit the alerted service will reach soon: the hypothesis a saturation forecast supports.

When the ranking names nothing, the survey also forecasts the alerted service's memory and CPU
against their limits (`forecast_saturation`). Nothing has failed yet, so nothing else stands out, but
a pod already past half its limit and forecast to reach it within the horizon is a fault in the
making, and the runbook has an answer for it ahead of the crash: a working set climbing to its limit
reads as a leak (a restart buys time); CPU climbing to its limit reads as more traffic when the
request rate rose with it (a bounded scale: predictive autoscaling, approved by a person like any
action), otherwise as a runaway. The confidence is LIKELY, never CONFIRMED: a trend is a forecast.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agent.diagnosis import FaultKind, Hypothesis, label_for
from agent.planners.findings import num, rows, steps_of
from agent.state import PlannerView
from tools.metrics.templates import duration_seconds

HORIZON = "2h"  # how far ahead a forecast may warn: enough to act before the pager would ring
HORIZON_S = duration_seconds(HORIZON)
LOOKBACK = "1h"  # the trend the forecast is fitted on
MIN_SHARE = 0.5  # a pod below half its limit is not close enough for a trend to mean much
CONFIDENCE = 0.6  # LIKELY: enough for the runbook to propose, and a person approves it
SURGE_RATIO = 1.2  # request rate now / an hour earlier that reads a CPU climb as more traffic


class LimitAhead(BaseModel):
    """The soonest pod of a service forecast to reach its limit within the horizon."""

    model_config = ConfigDict(frozen=True)

    service: str
    resource: str
    pod: str
    share: float
    seconds: float
    evidence: list[str]


def limit_ahead(view: PlannerView, service: str) -> LimitAhead | None:
    """The forecast of `service` that reaches a limit soonest, if any does within the horizon."""
    best: LimitAhead | None = None
    for step in steps_of(view, "forecast_saturation"):
        if step.data.get("workload") != service:
            continue
        for pod in rows(step.data.get("pods")):
            seconds, share = pod.get("seconds_to_limit"), num(pod.get("share_of_limit"))
            if seconds is None or share < MIN_SHARE or num(seconds) > HORIZON_S:
                continue
            if best is None or num(seconds) < best.seconds:
                best = LimitAhead(
                    service=service,
                    resource=str(step.data.get("resource")),
                    pod=str(pod.get("pod")),
                    share=share,
                    seconds=num(seconds),
                    evidence=list(step.evidence),
                )
    return best


def _rate_rose(view: PlannerView, service: str) -> bool:
    for step in steps_of(view, "golden_signals"):
        if step.data.get("service") != service:
            continue
        server = step.data.get("server")
        rate = server.get("request_rate") if isinstance(server, dict) else None
        if isinstance(rate, dict):
            now, before = num(rate.get("now")), num(rate.get("before"))
            return before > 0 and now / before >= SURGE_RATIO
    return False


def forecast_hypothesis(view: PlannerView) -> Hypothesis | None:
    """The alerted service's coming saturation as a LIKELY hypothesis, or None."""
    for service in view.incident.services[:1]:
        ahead = limit_ahead(view, service)
        if ahead is None:
            continue
        kind: FaultKind
        if ahead.resource == "memory":
            kind, reads = "memory_leak", "its working set climbs steadily"
        elif _rate_rose(view, service):
            kind, reads = "traffic_surge", "CPU climbs with the request rate"
        else:
            kind, reads = "cpu_hog", "CPU climbs without more requests"
        minutes = max(1, round(ahead.seconds / 60))
        return Hypothesis(
            entity=service,
            service=service,
            fault_kind=kind,
            confidence=CONFIDENCE,
            label=label_for(CONFIDENCE),
            summary=f"{service}: {kind.replace('_', ' ')} in the making ({ahead.pod} at "
            f"{ahead.share:.0%} of its {ahead.resource} limit, forecast to reach it in ~{minutes} min; "
            f"{reads}); nothing has failed yet",
            evidence=ahead.evidence,
        )
    return None
