"""The service dependency graph, derived from spans: who calls whom, how often, how badly, how slowly.

A call is counted once per cross-service edge in a trace:
- a client span whose child is a server span of another service: caller = the client's service, callee =
  the server's; latency is the client span's (what the caller waited, network included); an error on
  either side counts;
- a child whose parent is in another service but is not a client span (instrumentation without client
  spans): latency and error are the child's;
- a client span with no instrumented child, naming its peer (`peer.service`, `server.address`,
  `net.peer.name`, `db.system`): the callee is that name (databases, external APIs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, ConfigDict

from tools.traces.backend import Span, Trace

_PEER_KEYS = ("peer.service", "server.address", "net.peer.name", "db.system")


class Call(BaseModel):
    model_config = ConfigDict(frozen=True)

    caller: str
    callee: str
    duration_ms: float
    error: bool


class Edge(BaseModel):
    """Aggregated calls from one service to another."""

    caller: str
    callee: str
    calls: int
    rate_per_s: float
    errors: int
    error_ratio: float
    p50_ms: float
    p99_ms: float


def calls_in(trace: Trace) -> list[Call]:
    """Every cross-service call in one trace (see the module docstring for the rules)."""
    out: list[Call] = []
    paired_clients: set[str] = set()
    for span in trace.spans:
        parent = trace.by_id.get(span.parent_span_id) if span.parent_span_id else None
        if parent is None or parent.service == span.service:
            continue
        if parent.kind == "client":
            if parent.span_id in paired_clients:
                continue  # retries answered by several server spans: the caller made one call
            paired_clients.add(parent.span_id)
            out.append(
                Call(
                    caller=parent.service,
                    callee=span.service,
                    duration_ms=parent.duration_ms,
                    error=parent.error or span.error,
                )
            )
        else:
            out.append(
                Call(
                    caller=parent.service, callee=span.service, duration_ms=span.duration_ms, error=span.error
                )
            )
    for span in trace.spans:
        if span.kind != "client" or span.span_id in paired_clients:
            continue
        if any(c.service != span.service for c in trace.children.get(span.span_id, [])):
            continue
        peer = _peer(span)
        if peer is not None and peer != span.service:
            out.append(Call(caller=span.service, callee=peer, duration_ms=span.duration_ms, error=span.error))
    return out


def _peer(span: Span) -> str | None:
    for key in _PEER_KEYS:
        value = span.attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def dependency_graph(traces: Iterable[Trace], window_s: float) -> list[Edge]:
    """Per-edge stats over `traces`, busiest edge first. `rate_per_s` divides by `window_s`."""
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    errors: dict[tuple[str, str], int] = defaultdict(int)
    for trace in traces:
        for call in calls_in(trace):
            key = (call.caller, call.callee)
            durations[key].append(call.duration_ms)
            errors[key] += call.error
    edges: list[Edge] = []
    for (caller, callee), values in durations.items():
        arr = np.asarray(values, dtype=np.float64)
        p50, p99 = np.percentile(arr, [50, 99])
        n = len(values)
        edges.append(
            Edge(
                caller=caller,
                callee=callee,
                calls=n,
                rate_per_s=n / window_s if window_s > 0 else 0.0,
                errors=errors[(caller, callee)],
                error_ratio=errors[(caller, callee)] / n,
                p50_ms=float(p50),
                p99_ms=float(p99),
            )
        )
    edges.sort(key=lambda e: (-e.calls, e.caller, e.callee))
    return edges
