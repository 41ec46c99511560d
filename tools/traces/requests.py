"""The requests a trace holds, per service: what each service did for one call it served.

A service's *request* is one of its entry spans (a span whose parent is missing or belongs to another
service: a server span, a consumer span, or a root) together with the spans of the same service below
it (its local subtree). Spans carry no reliable kind in many data sets (Nezha's have none), so a span
is treated as the caller's side of a call ("client-like") when its kind says `client`, or when it has
no kind, is not an entry, and all its children run in one other service (an `HTTP GET` span wrapping
the callee's server span). From that:

- latency: the entry span's duration;
- self time: the time the service's own spans spent outside their children (a parent's interval minus
  the union of its children's intervals, clipped to the parent: clock skew between pods cannot make it
  negative), client-like spans excluded: their gap is the network and the callee's queue, which the
  caller-seen time attributes to the callee; a call to an uninstrumented peer (a database span without
  children) counts as the service's own time, as no other service would show it;
- calls: how many spans of each other service the request's spans parent (its fan-out);
- pattern: the entry operation, the local operations and the (callee, operation) pairs it called, as a
  bounded set (`max_items`), so a request that skips work or takes a new path reads as a new pattern;
- caller-seen time: a client-like span's duration, attributed to the callee it waited for;
- statements: the log templates its own spans wrote (`tools/traces/span_logs.py`), when logs were
  read for it (None otherwise: nothing read is not nothing written).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from tools.traces.backend import Span
from tools.traces.span_logs import SpanStatements, span_key

ServiceOf = Callable[[Span], str]
Pattern = tuple[str, tuple[str, ...], tuple[str, ...]]

# Ids, numbers and hashes inside operation names (raw SQL, URLs with ids) would make every request a new
# pattern; they are folded to one placeholder.
_VOLATILE = re.compile(r"[0-9a-fA-F]{8,}|\d+")
_NAME_CHARS = 80


@dataclass(frozen=True)
class Request:
    """One request a service served (its entry span and local subtree)."""

    service: str
    start_ns: int
    latency_ms: float
    self_ms: float
    error: bool
    calls: Counter[str]
    pattern: Pattern
    wrote: frozenset[int] | None = None  # statements its spans logged; None: its logs were not read


@dataclass(frozen=True)
class CallerView:
    """How long a caller waited for `callee` (its client-like span), starting at `start_ns`."""

    callee: str
    start_ns: int
    ms: float


def by_trace(spans: Sequence[Span]) -> dict[str, list[Span]]:
    """Spans grouped by (lowercased) trace id; a span id seen twice keeps its last copy."""
    grouped: dict[str, dict[str, Span]] = defaultdict(dict)
    for span in spans:
        grouped[span.trace_id.lower()][span.span_id.lower()] = span
    return {tid: list(found.values()) for tid, found in grouped.items()}


@lru_cache(maxsize=65_536)
def operation(name: str) -> str:
    """A span name with its volatile parts folded (bounded length)."""
    return _VOLATILE.sub("#", name)[:_NAME_CHARS]


@dataclass(eq=False, slots=True)
class _Node:
    span: Span
    service: str
    start_ns: int
    end_ns: int
    parent: _Node | None = None
    children: list[_Node] = field(default_factory=list)

    @property
    def is_entry(self) -> bool:
        return self.parent is None or self.parent.service != self.service

    def callee(self) -> str | None:
        """The service this span is the caller's side of, or None when it is not client-like."""
        kind = self.span.kind
        if not self.children:
            return None
        if kind not in ("client", "unspecified") or (kind != "client" and self.is_entry):
            return None
        around = {c.service for c in self.children}
        if len(around) != 1 or self.service in around:  # one callee, and no local work inside
            return None
        return next(iter(around))

    def self_ns(self) -> int:
        """Its interval minus the union of its children's, clipped to it (skewed clocks cannot overlap)."""
        if not self.children:
            return self.end_ns - self.start_ns
        intervals = sorted(
            (max(c.start_ns, self.start_ns), min(c.end_ns, self.end_ns))
            for c in self.children
            if min(c.end_ns, self.end_ns) > max(c.start_ns, self.start_ns)
        )
        covered, cursor = 0, self.start_ns
        for lo, hi in intervals:
            lo = max(lo, cursor)
            if hi > lo:
                covered += hi - lo
                cursor = hi
        return max(0, self.end_ns - self.start_ns - covered)


def _nodes(spans: Sequence[Span], service_of: ServiceOf) -> list[_Node]:
    by_id = {
        s.span_id.lower(): _Node(
            span=s, service=service_of(s), start_ns=s.start_ns, end_ns=max(s.start_ns, s.end_ns)
        )
        for s in spans
    }
    for node in by_id.values():
        parent = by_id.get((node.span.parent_span_id or "").lower())
        if parent is not None and parent is not node:
            node.parent = parent
            parent.children.append(node)
    return list(by_id.values())


def trace_requests(
    spans: Sequence[Span],
    service_of: ServiceOf,
    max_items: int = 24,
    statements: SpanStatements | None = None,
) -> tuple[list[Request], list[CallerView]]:
    """The requests of every service in one trace, and what callers saw of their callees (with the
    statements each request's spans wrote, where `statements` covers the service at its start)."""
    requests: list[Request] = []
    views: list[CallerView] = []
    seen: set[int] = set()
    for entry in _nodes(spans, service_of):
        if not entry.is_entry:
            continue
        service = entry.service
        self_ns, error = 0, False
        calls: Counter[str] = Counter()
        local_ops: set[str] = set()
        remote_ops: set[str] = set()
        read = statements is not None and statements.covers(service, entry.start_ns / 1e9)
        wrote: set[int] = set()
        stack = [entry]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue  # a parent-id cycle
            seen.add(id(node))
            callee = node.callee()
            if callee is not None:
                views.append(
                    CallerView(callee=callee, start_ns=node.start_ns, ms=(node.end_ns - node.start_ns) / 1e6)
                )
            elif node.span.kind != "producer":
                self_ns += node.self_ns()
            if node is not entry and len(local_ops) < max_items:
                local_ops.add(operation(node.span.name))
            error = error or node.span.error
            if read and statements is not None:
                wrote.update(statements.by_span.get(span_key(node.span.span_id), ()))
            for child in node.children:
                if child.service == service:
                    stack.append(child)
                    continue
                calls[child.service] += 1
                if len(remote_ops) < max_items:
                    remote_ops.add(f"{child.service} {operation(child.span.name)}")
        requests.append(
            Request(
                service=service,
                start_ns=entry.start_ns,
                latency_ms=(entry.end_ns - entry.start_ns) / 1e6,
                self_ms=self_ns / 1e6,
                error=error,
                calls=calls,
                pattern=(operation(entry.span.name), tuple(sorted(local_ops)), tuple(sorted(remote_ops))),
                wrote=frozenset(wrote) if read else None,
            )
        )
    return requests, views


def all_requests(
    spans: Sequence[Span],
    service_of: ServiceOf,
    max_items: int = 24,
    statements: SpanStatements | None = None,
) -> Iterator[tuple[list[Request], list[CallerView]]]:
    """`trace_requests` of every trace in `spans`."""
    for trace_spans in by_trace(spans).values():
        yield trace_requests(trace_spans, service_of, max_items, statements)
