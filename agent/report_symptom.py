"""The alerting symptom with its numbers, the line an on-call engineer reads before any hypothesis:
"frontend 5xx 30 % (was 0 % 1h before), p99 243 ms (was 237 ms) since 13:35 UTC".

It comes from what the tools measured, whoever planned the investigation: the alerted services'
golden signals (now and before), the onset the anomaly ranking found, and, when the alert names no
service (a node fault, a namespace-wide alert), the ranking's top entity and its strongest change.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import JsonValue

from agent.incident import Incident
from agent.state import Step
from tools.metrics.units import Unit, fmt_value

# golden_signals' server signals shown in the symptom: (key, short name, unit)
SHOWN: tuple[tuple[str, str, Unit], ...] = (
    ("error_ratio", "5xx", "ratio"),
    ("latency_p99_s", "p99", "seconds"),
)
TRAFFIC_CHANGE = 0.3  # a request rate that moved this much (either way) is part of the symptom


def _number(value: JsonValue | None) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _pair(server: dict[str, JsonValue], key: str) -> tuple[float | None, float | None]:
    entry = server.get(key)
    if not isinstance(entry, dict):
        return None, None
    return _number(entry.get("now")), _number(entry.get("before"))


def _time(text: JsonValue | None) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.0f}h" if seconds >= 3600 and seconds % 3600 == 0 else f"{seconds / 60:.0f} min"


def _golden_line(data: dict[str, JsonValue]) -> str | None:
    server = data.get("server")
    if not isinstance(server, dict):
        return None
    now_at, before_at = _time(data.get("as_of")), _time(data.get("baseline_at"))
    earlier = f" {_hours((now_at - before_at).total_seconds())} before" if now_at and before_at else ""
    parts: list[str] = []
    for key, name, unit in SHOWN:
        now, before = _pair(server, key)
        if now is None:
            continue
        was = f" (was {fmt_value(before, unit)}{'' if parts else earlier})" if before is not None else ""
        parts.append(f"{name} {fmt_value(now, unit)}{was}")
    rate_now, rate_before = _pair(server, "request_rate")
    if rate_now is not None and rate_before and abs(rate_now / rate_before - 1) >= TRAFFIC_CHANGE:
        parts.append(
            f"traffic {fmt_value(rate_now, 'per_second')} (was {fmt_value(rate_before, 'per_second')})"
        )
    return f"{data.get('service')} {', '.join(parts)}" if parts else None


def _rank(steps: list[Step]) -> dict[str, JsonValue] | None:
    ranks = [s for s in steps if s.call.tool == "rank_root_causes" and s.status == "ok"]
    return ranks[-1].data if ranks else None


def _top_change(rank: dict[str, JsonValue]) -> str | None:
    """The ranking's top entity and its strongest signal's change, for an alert that names no service."""
    candidates = rank.get("candidates")
    top = candidates[0] if isinstance(candidates, list) and candidates else None
    if not isinstance(top, dict):
        return None
    signals = top.get("signals")
    first = signals[0] if isinstance(signals, list) and signals else None
    change = first.get("change") if isinstance(first, dict) else None
    return f"{top.get('entity')}: {change}" if change else None


def symptom_of(incident: Incident, steps: list[Step]) -> str | None:
    """The symptom in numbers, with the onset when the ranking found one; None when nothing was measured."""
    lines = [
        line
        for step in steps
        if step.call.tool == "golden_signals"
        and step.status == "ok"
        and (not incident.services or step.call.args.get("service") in incident.services)
        and (line := _golden_line(step.data))
    ]
    rank = _rank(steps)
    if not lines and rank is not None and rank.get("anomalous") is True:
        lines = [line for line in [_top_change(rank)] if line]
    if not lines:
        return None
    onset = _time(rank.get("onset")) if rank is not None and rank.get("anomalous") is True else None
    since = f" since {onset.astimezone(UTC):%H:%M} UTC" if onset else ""
    return "; ".join(dict.fromkeys(lines)) + since
