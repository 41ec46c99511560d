"""Which spans hold a trace's time: its critical path.

Walking back from the end of the root: the child that ends last (among those that overlap what is left
of the parent) is on the path, and the parent owns the gaps between such children (its self time).
Recursing into each chosen child, clipped to the part of it that the parent waited for, splits the
root's whole duration into segments, each owned by exactly one span. The span owning the most time is
where to look (a slow dependency, a lock, a retry loop). Asynchronous children that outlive their
parent are clipped to the parent's end: the caller did not wait for them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from tools.traces.backend import Span, Trace


class Segment(BaseModel):
    """A stretch of wall time [start_ns, end_ns) on the critical path, owned by one span."""

    model_config = ConfigDict(frozen=True)

    span_id: str
    start_ns: int
    end_ns: int


class PathStep(BaseModel):
    """One span on the critical path with the time it holds there (its self time on the path)."""

    span_id: str
    service: str
    name: str
    depth: int
    duration_ms: float
    critical_ms: float
    share: float
    error: bool


def critical_segments(trace: Trace, root: Span | None = None) -> list[Segment]:
    """Segments covering [root.start, root.end) in time order."""
    start = root or trace.root
    segments: list[Segment] = []
    _walk(trace, start, start.end_ns, segments, set())
    segments.reverse()
    return segments


def _walk(trace: Trace, span: Span, until_ns: int, out: list[Segment], seen: set[str]) -> None:
    """Append (latest first) the segments of `span` up to `until_ns`."""
    seen.add(span.span_id)
    cursor = min(span.end_ns, until_ns)
    children = sorted(
        trace.children.get(span.span_id, []), key=lambda c: (c.end_ns, c.start_ns), reverse=True
    )
    for child in children:
        if child.span_id in seen or cursor <= span.start_ns:
            continue
        if child.start_ns >= cursor or child.end_ns <= span.start_ns:
            continue  # after what is left, or before the parent began: not waited for
        child_end = min(child.end_ns, cursor)
        if child_end < cursor:
            out.append(Segment(span_id=span.span_id, start_ns=child_end, end_ns=cursor))
        _walk(trace, child, child_end, out, seen)
        cursor = max(child.start_ns, span.start_ns)
    if cursor > span.start_ns:
        out.append(Segment(span_id=span.span_id, start_ns=span.start_ns, end_ns=cursor))


def critical_path(trace: Trace) -> list[PathStep]:
    """The spans on the critical path in the order they are first reached, with the time each holds."""
    root = trace.root
    total = max(1, root.duration_ns)
    held: dict[str, int] = {}
    for seg in critical_segments(trace, root):
        held[seg.span_id] = held.get(seg.span_id, 0) + (seg.end_ns - seg.start_ns)
    depth = _depths(trace, root)
    steps = []
    for span_id, ns in held.items():
        span = trace.by_id[span_id]
        steps.append(
            PathStep(
                span_id=span_id,
                service=span.service,
                name=span.name,
                depth=depth.get(span_id, 0),
                duration_ms=span.duration_ms,
                critical_ms=ns / 1e6,
                share=ns / total,
                error=span.error,
            )
        )
    steps.sort(key=lambda s: (s.depth, trace.by_id[s.span_id].start_ns))
    return steps


def _depths(trace: Trace, root: Span) -> dict[str, int]:
    depth = {root.span_id: 0}
    stack = [root]
    while stack:
        span = stack.pop()
        for child in trace.children.get(span.span_id, []):
            if child.span_id not in depth:
                depth[child.span_id] = depth[span.span_id] + 1
                stack.append(child)
    return depth
