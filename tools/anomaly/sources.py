"""The ranking's other sources, read for the agent's tool: trace rows and log rows beside the metrics.

Traces (`tools/traces/signals.py`) and logs (`tools/logs/signals.py`) become per-service rows on the
metrics' time grid and join the same ranking, so one scale, one onset and one call-graph explanation
cover every source. Each source only adds evidence: one that is not configured or fails contributes no
rows and says why (`Sources.unavailable`), and the metrics ranking stands without it. Log lines whose
text names the span they were written in (`tools/traces/span_logs.py`) also tell the trace rows which
statements each request wrote, so logs are read first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from tools.anomaly.signal_matrix import SignalMatrix
from tools.context import ToolContext
from tools.logs.fetch import fetch_pod_logs
from tools.logs.signals import LogLine, log_signals
from tools.traces.signals import trace_calls, trace_signals
from tools.traces.span_fetch import fetch_spans
from tools.traces.span_logs import with_span_ids


@dataclass
class Sources:
    """Rows to join to the metrics' matrix, the call edges the traces show, and what could not be read."""

    rows: list[SignalMatrix] = field(default_factory=list)
    calls: dict[str, list[str]] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)
    read: dict[str, str] = field(default_factory=dict)  # source -> what was read, for the summary


def _empty(times: np.ndarray) -> SignalMatrix:
    return SignalMatrix(times=times, keys=[], values=np.empty((0, times.size)))


def trace_source(
    ctx: ToolContext,
    times: np.ndarray,
    step_s: float,
    start: datetime,
    services: Sequence[str],
    out: Sources,
    logs: Sequence[LogLine] = (),
) -> None:
    """Trace rows of `services` and the call edges between them, over [start, as_of]; `logs`, the lines
    read for the log rows, joined to their spans where their text names one (which statements each
    request wrote)."""
    fetched = fetch_spans(ctx, start, services)
    if fetched.reason is not None:
        out.unavailable.append(f"traces: {fetched.reason}")
        return
    if not fetched.spans:
        return
    out.rows.append(trace_signals(fetched.spans, times, step_s, logs=with_span_ids(logs)))
    for caller, callees in trace_calls(fetched.spans).items():
        out.calls.setdefault(caller, []).extend(c for c in callees if c not in out.calls[caller])
    capped = " (capped: counts are lower bounds)" if fetched.capped else ""
    out.read["traces"] = f"{len(fetched.spans)} spans of {fetched.traces} traces{capped}"


def log_source(
    ctx: ToolContext,
    times: np.ndarray,
    step_s: float,
    start: datetime,
    namespace: str,
    services: Sequence[str],
    out: Sources,
) -> list[LogLine]:
    """Log rows per service from its pods' logs over [start, as_of]; the lines they were made of."""
    if ctx.kube is None:
        out.unavailable.append("logs: no Kubernetes access is configured (MEDIC_KUBECONFIG)")
        return []
    fetched = fetch_pod_logs(ctx.kube, namespace, start, ctx.as_of, workloads=services)
    if fetched.reason is not None:
        out.unavailable.append(f"logs: {fetched.reason}")
    if fetched.skipped:
        shown = ", ".join(f"{pod} ({why})" for pod, why in list(fetched.skipped.items())[:3])
        out.unavailable.append(f"logs: not read for {len(fetched.skipped)} pods: {shown}")
    wanted = set(services)
    lines = [line for line in fetched.lines if line.entity in wanted]
    if not lines:
        return []
    out.rows.append(log_signals(lines, times, step_s, covered_from=fetched.covered_from))
    pods = len(fetched.pod_service) - len(fetched.skipped)
    cut = f" (tail cut for {len(fetched.cut)} pods)" if fetched.cut else ""
    out.read["logs"] = f"{len(lines)} lines of {pods} pods{cut}"
    return lines


def read_sources(
    ctx: ToolContext,
    times: np.ndarray,
    step_s: float,
    start: datetime,
    namespace: str,
    services: Sequence[str],
) -> Sources:
    """Every other source the investigation can read, as rows on `times`."""
    out = Sources()
    lines = log_source(ctx, times, step_s, start, namespace, services, out)
    trace_source(ctx, times, step_s, start, services, out, logs=lines)
    if not out.rows:
        out.rows.append(_empty(times))
    return out
