"""Real-shaped spans for the trace-signal tests: frontend -> checkout -> payment, as agents without span
kinds or status write them (Nezha's Train Ticket data looks like this): a root span, client-like
`HTTP POST` spans wrapping the callee's server span, local controller and database spans."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.anomaly.rank import SignalMatrix
from tools.traces.backend import Span

MS = 1_000_000
T0 = 1_699_999_980  # a minute boundary (unix seconds)
STEP = 60.0
GRID = T0 + STEP * np.arange(30)  # 30 minutes
ONSET = T0 + 20 * 60  # faults in these tests start at minute 20


@dataclass
class Hop:
    """What one checkout request looks like; the defaults are the healthy shape."""

    pay_ms: float = 20.0  # payment's own work (its server span minus nothing remote)
    pay_net_ms: float = 1.0  # network checkout <-> payment, each way
    work_ms: float = 10.0  # checkout's own work
    pays: bool = True  # False: checkout returns before calling payment
    extra_callee: str | None = None  # a call to another service after paying
    error: bool = False
    operation: str = "POST /checkout"


@dataclass
class TraceBuilder:
    spans: list[Span] = field(default_factory=list)
    _trace: int = 0

    def checkout(
        self, t_s: float, hop: Hop, *, with_frontend: bool = True, root_parent: str | None = None
    ) -> None:
        """One trace at `t_s`: frontend GET -> HTTP POST -> checkout -> controller -> HTTP POST -> payment."""
        self._trace += 1
        tid, n = f"{self._trace:032x}", iter(range(1, 1000))
        base = int(t_s * 1e9)

        def span(
            parent: Span | None, service: str, name: str, lo: float, hi: float, error: bool = False
        ) -> Span:
            made = Span(
                trace_id=tid,
                span_id=f"{self._trace:08x}{next(n):08x}",
                parent_span_id=parent.span_id if parent else root_parent,
                service=service,
                name=name,
                start_ns=base + int(lo * MS),
                end_ns=base + int(hi * MS),
                error=error,
            )
            self.spans.append(made)
            return made

        c0 = 3.0
        call_lo = c0 + hop.work_ms / 2
        p0, p1 = call_lo + hop.pay_net_ms, call_lo + hop.pay_net_ms + hop.pay_ms
        call_hi = p1 + hop.pay_net_ms if hop.pays else call_lo
        extra_hi = call_hi + (4.0 if hop.extra_callee else 0.0)
        c1 = extra_hi + hop.work_ms / 2
        front = client = None
        if with_frontend:
            front = span(None, "frontend", "GET /checkout", 0, c1 + 2)
            client = span(front, "frontend", "HTTP POST", 1, c1 + 1)
        entry = span(client, "checkout", hop.operation, c0, c1, hop.error)
        controller = span(entry, "checkout", "CheckoutController.place", c0 + 0.1, c1 - 0.1, hop.error)
        if hop.pays:
            pay_client = span(controller, "checkout", "HTTP POST", call_lo, call_hi)
            charge = span(pay_client, "payment", "POST /charge", p0, p1)
            span(charge, "payment", "INSERT charge", p0 + 1, p1 - 1)
        if hop.extra_callee:
            other = span(controller, "checkout", "HTTP GET", call_hi, extra_hi)
            span(other, hop.extra_callee, "GET /check", call_hi + 0.5, extra_hi - 0.5)


def shop(before: Hop, after: Hop | None = None, *, every_s: float = 2.0, minutes: int = 30) -> list[Span]:
    """One checkout every `every_s` seconds; requests from ONSET on take the `after` shape."""
    builder = TraceBuilder()
    for t in np.arange(T0, T0 + minutes * 60, every_s):
        builder.checkout(float(t), after if after is not None and t >= ONSET else before)
    return builder.spans


def rows(matrix: SignalMatrix) -> dict[tuple[str, str], np.ndarray]:
    return {(k.entity, k.signal): matrix.values[i] for i, k in enumerate(matrix.keys)}


def change(row: np.ndarray, times: np.ndarray = GRID) -> float:
    """The median after ONSET over the median before (skipping the minute the fault starts in)."""
    before = np.nanmedian(row[times < ONSET - STEP])
    after = np.nanmedian(row[times >= ONSET + STEP])
    return float(after / before)
