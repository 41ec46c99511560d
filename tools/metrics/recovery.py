"""Did the symptom recede after a remediation? The service's error ratio now against just before.

The guard asks this after an executed action's post-condition holds (rollout finished, replicas
available), when a metrics backend is at hand: a rollback that rolled out but left the errors where
they were did not fix the incident, and the audit log should say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel

from tools.errors import ToolError
from tools.metrics.client import MetricsBackend
from tools.metrics.templates import render

SYMPTOM_FLOOR = 0.01  # below 1 % errors before the action there was no error symptom to recede


class Recovery(BaseModel):
    ok: bool | None  # None: not applicable or unknown (no symptom before, no data, no service)
    detail: str


def error_ratio_recovery(
    metrics: MetricsBackend,
    templates: Mapping[str, str],
    *,
    namespace: str,
    service: str,
    before: datetime,
    now: datetime,
    window: str = "2m",
    keep: float = 0.5,
) -> Recovery:
    """ok when the error ratio at `now` is at most `keep` × what it was at `before`."""
    promql = render(templates["error_ratio"], namespace=namespace, service=service, window=window)
    try:
        was, is_now = _value(metrics, promql, before), _value(metrics, promql, now)
    except ToolError as exc:
        return Recovery(ok=None, detail=f"recovery unknown: {exc}")
    if was is None or is_now is None:
        return Recovery(ok=None, detail=f"recovery unknown: no error-ratio data for {service}")
    if was < SYMPTOM_FLOOR:
        return Recovery(ok=None, detail=f"{service} had no error symptom ({was:.2%}) to recede")
    ok = is_now <= keep * was
    verb = "receded" if ok else "has not receded"
    return Recovery(ok=ok, detail=f"{service} error ratio {verb}: {was:.2%} before, {is_now:.2%} now")


def _value(metrics: MetricsBackend, promql: str, at: datetime) -> float | None:
    rows = metrics.instant(promql, at)
    values = [r.value for r in rows if r.value == r.value]  # drop NaN (0/0: no traffic)
    return values[0] if values else None
