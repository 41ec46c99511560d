"""The spans the ranking reads: traces of a namespace's services over the ranking's window, bounded.

A trace backend answers a search with the most recent traces first, at most `max_traces`. One search
over a two-hour window would return only its last minutes, leaving the baseline without traces; the
window is therefore searched in slices (`slice_s`), each bounded by `max_traces`, so every part of it
is covered. A slice that comes back full (it may hold more) is searched again as two halves, until the
halves come back with room to spare, are a second wide, or the searches reach `MAX_SEARCHES`: a busy
minute right before a fault is read whole, not as its latest traces. Traces are trimmed to what was
known at `as_of` (DESIGN §3.2). Traces only add evidence: a backend that is missing or fails yields no
spans and the reason, never an error for the ranking.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from tools.context import ToolContext
from tools.errors import BackendError
from tools.traces.backend import Span, TraceQuery

MAX_SLICES = 48  # at most this many slices to begin with, whatever the window
MAX_SEARCHES = 2 * MAX_SLICES  # and this many searches in all, halving the full ones
MIN_SLICE_S = 1.0  # a full slice this narrow is not halved again (a burst of traces at one instant)
MAX_SPANS = 500_000  # a bound on memory: huge traces stop the fetch early (reported as capped)


class SpanFetch(BaseModel):
    """What a fetch found: the spans, how many traces they came from, whether a bound cut it short,
    and, when there are no spans because of the backend, why."""

    model_config = ConfigDict(frozen=True)

    spans: list[Span] = Field(default_factory=list)
    traces: int = 0
    capped: bool = Field(
        False, description="a slice hit max_traces or the span bound: counts are lower bounds"
    )
    reason: str | None = Field(None, description="why there are no trace rows (no backend, backend failed)")


def _slices(start: datetime, end: datetime, slice_s: float) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into equal slices of at most `slice_s` (fewer, longer ones past MAX_SLICES)."""
    total = (end - start).total_seconds()
    count = min(MAX_SLICES, max(1, math.ceil(total / slice_s)))
    width = timedelta(seconds=total / count)
    return [(start + width * i, end if i == count - 1 else start + width * (i + 1)) for i in range(count)]


def fetch_spans(
    ctx: ToolContext,
    start: datetime,
    services: Collection[str] | None = None,
    *,
    slice_s: float = 300.0,
    max_searches: int = MAX_SEARCHES,
) -> SpanFetch:
    """Spans of the traces that touch `services` (None: any) and started in [start, ctx.as_of], in
    at most `max_searches` searches of the backend."""
    backend = ctx.traces
    if backend is None:
        return SpanFetch(reason="no trace backend is configured (MEDIC_TRACES_BACKEND)")
    end = ctx.as_of
    if start >= end:
        return SpanFetch()
    wanted = set(services) if services is not None else None
    limit = ctx.config.traces.max_traces
    seen: set[str] = set()
    spans: list[Span] = []
    capped = False
    # the end of the window is inclusive: a trace starting exactly at as_of was known at as_of
    pending = deque(_slices(start, end + timedelta(microseconds=1), slice_s))
    searches = 0
    while pending:
        lo, hi = pending.popleft()
        try:
            found = backend.search(TraceQuery(start=lo, end=hi, limit=limit))
        except BackendError as exc:
            return SpanFetch(reason=f"trace backend failed: {exc}")
        searches += 1
        full = len(found) >= limit
        if (
            full
            and (hi - lo).total_seconds() >= 2 * MIN_SLICE_S
            and searches + len(pending) + 2 <= max_searches
        ):
            middle = lo + (hi - lo) / 2
            pending.extend([(lo, middle), (middle, hi)])  # breadth first: every full slice gets its turn
            continue
        capped = capped or full
        for trace in found:
            known = trace.seen_at(end)
            if known is None or known.trace_id in seen:
                continue
            if wanted is not None and not any(s.service in wanted for s in known.spans):
                continue
            if len(spans) + len(known.spans) > MAX_SPANS:
                return SpanFetch(spans=spans, traces=len(seen), capped=True)
            seen.add(known.trace_id)
            spans.extend(known.spans)
    return SpanFetch(spans=spans, traces=len(seen), capped=capped)
