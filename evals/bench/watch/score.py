"""How early `medic watch` opens incidents, measured against each scenario's truth (its fault start,
its alert's starts_at, its root-cause service), and how well its forecasts predicted the limit.

Plain data in (what a replay printed and the saturation it observed), numbers out; the replay itself
is the CLI's (`medic bench watch`), since it runs the server's loop.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from pydantic import BaseModel

from evals.durations import parse_duration
from evals.scenario import Scenario


class Opened(BaseModel):
    """One incident a replay opened."""

    opened_at: datetime
    service: str
    kind: str
    time_to_limit_s: float | None = None
    resource: str | None = None


class CaseScore(BaseModel):
    scenario: str
    has_fault: bool
    detected: bool | None = None  # None: nothing to detect
    lead_min: float | None = None  # alert starts_at minus the first incident on the root cause
    false_incidents: int
    healthy_service_days: float
    forecasts: list[dict[str, float]] = []  # predicted vs observed minutes to the limit


def _fault_start(s: Scenario) -> datetime | None:
    return min((s.at(f.start) for f in s.faults), default=None)


def _matches(opened: Opened, cause: str | None) -> bool:
    """A node fault's incident shows on the services of the node: any service counts for it."""
    return cause is None or cause.startswith("node/") or opened.service == cause


def score_case(
    s: Scenario, opened: list[Opened], saturation: dict[str, list[tuple[float, float]]], limit_share: float
) -> CaseScore:
    start = _fault_start(s)
    cause = s.expect.root_cause.service
    services = sum(1 for v in s.topology.services.values() if v.has_pods)
    healthy_end = start or s.end_utc
    healthy_days = services * max((healthy_end - s.start_utc) / timedelta(days=1), 0.0)
    false = [o for o in opened if start is None or o.opened_at < start]
    score = CaseScore(
        scenario=s.id,
        has_fault=start is not None,
        false_incidents=len(false),
        healthy_service_days=healthy_days,
    )
    if start is None:
        return score
    hits = sorted(o.opened_at for o in opened if o.opened_at >= start and _matches(o, cause))
    score.detected = bool(hits)
    if hits and s.alert is not None:
        score.lead_min = (s.at(s.alert.starts_at) - hits[0]) / timedelta(minutes=1)
    namespace = s.topology.namespace
    for o in opened:
        if o.kind != "saturation_forecast" or o.time_to_limit_s is None or o.opened_at < start:
            continue
        points = saturation.get(f"{namespace}/{o.service}:{o.resource}_vs_limit", [])
        t0 = o.opened_at.timestamp()
        reached = next((t for t, v in points if t > t0 and v >= limit_share), None)
        score.forecasts.append(
            {
                "service_is_cause": float(o.service == cause),
                "predicted_min": o.time_to_limit_s / 60,
                "observed_min": (reached - t0) / 60 if reached is not None else float("nan"),
            }
        )
    return score


def summary(cases: list[CaseScore]) -> dict[str, float | int | None]:
    faulty = [c for c in cases if c.has_fault]
    leads = [c.lead_min for c in faulty if c.lead_min is not None]
    days = sum(c.healthy_service_days for c in cases)
    errors = [
        abs(f["predicted_min"] - f["observed_min"])
        for c in cases
        for f in c.forecasts
        if f["service_is_cause"] and f["observed_min"] == f["observed_min"]
    ]
    return {
        "scenarios": len(cases),
        "with_fault": len(faulty),
        "detection_rate": sum(bool(c.detected) for c in faulty) / len(faulty) if faulty else None,
        "median_lead_min": statistics.median(leads) if leads else None,
        "false_incidents": sum(c.false_incidents for c in cases),
        "healthy_service_days": round(days, 3),
        "false_per_service_day": sum(c.false_incidents for c in cases) / days if days else None,
        "forecast_abs_error_median_min": statistics.median(errors) if errors else None,
    }


def step_of(s: Scenario) -> float:
    return parse_duration(s.step).total_seconds()
