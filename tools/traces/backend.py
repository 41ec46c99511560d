"""The trace backend Protocol and the normalized span/trace models every backend returns.

Jaeger, Tempo and OTLP files each spell a span differently (µs vs ns, tags vs attributes, base64 vs hex
ids, processes vs resources). Backends translate at their edge into `Span`/`Trace`, so graph and
critical-path code, and the tools, are written once.

Search semantics (the same for every backend, enforced again by `TraceQuery.matches` after the backend
has answered, so backend quirks cannot change results): a trace matches when one span of `service`
(and `operation`, if given) starts inside [start, end), lasts at least `min_duration_ms`, and, with
`errors_only`, has error status.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

SpanKind = Literal["unspecified", "internal", "server", "client", "producer", "consumer"]
AttributeValue = str | int | float | bool


def ns_to_datetime(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


def datetime_to_ns(when: datetime) -> int:
    """Unix nanoseconds of an aware datetime (naive is taken as UTC, the convention of this project)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


class Span(BaseModel):
    """One span. Ids are lowercase hex (32 chars trace, 16 chars span); times are unix nanoseconds."""

    model_config = ConfigDict(frozen=True)

    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    service: str
    name: str
    kind: SpanKind = "unspecified"
    start_ns: int
    end_ns: int
    error: bool = False
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    @property
    def duration_ms(self) -> float:
        return self.duration_ns / 1e6

    @property
    def start(self) -> datetime:
        return ns_to_datetime(self.start_ns)

    @property
    def end(self) -> datetime:
        return ns_to_datetime(self.end_ns)


class Trace(BaseModel):
    """All spans of one trace that the backend returned (possibly incomplete: spans can be missing)."""

    model_config = ConfigDict(frozen=True)

    trace_id: str
    spans: list[Span]

    @cached_property
    def by_id(self) -> dict[str, Span]:
        return {s.span_id: s for s in self.spans}

    @cached_property
    def children(self) -> dict[str, list[Span]]:
        """Children by parent span id, each list ordered by start time."""
        out: dict[str, list[Span]] = {}
        for s in sorted(self.spans, key=lambda s: (s.start_ns, s.span_id)):
            if s.parent_span_id is not None and s.parent_span_id in self.by_id:
                out.setdefault(s.parent_span_id, []).append(s)
        return out

    @cached_property
    def roots(self) -> list[Span]:
        """Spans without a (present) parent, earliest first. A complete trace has exactly one."""
        ids = self.by_id
        found = [s for s in self.spans if s.parent_span_id is None or s.parent_span_id not in ids]
        return sorted(found, key=lambda s: (s.start_ns, -s.end_ns))

    @property
    def root(self) -> Span:
        return self.roots[0]

    @property
    def start_ns(self) -> int:
        return min(s.start_ns for s in self.spans)

    @property
    def end_ns(self) -> int:
        return max(s.end_ns for s in self.spans)

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6

    @property
    def error(self) -> bool:
        return any(s.error for s in self.spans)

    @property
    def services(self) -> list[str]:
        return sorted({s.service for s in self.spans})

    def seen_at(self, when: datetime) -> Trace | None:
        """The trace as it was known at `when`: spans started later are dropped (DESIGN §3.2, exact replays)."""
        cutoff = datetime_to_ns(when)
        spans = [s for s in self.spans if s.start_ns <= cutoff]
        if len(spans) == len(self.spans):
            return self
        return Trace(trace_id=self.trace_id, spans=spans) if spans else None


class TraceQuery(BaseModel):
    """A search for traces; see the module docstring for the exact matching rule."""

    model_config = ConfigDict(frozen=True)

    service: str | None = None
    operation: str | None = None
    start: datetime
    end: datetime
    min_duration_ms: float | None = Field(None, ge=0)
    errors_only: bool = False
    limit: int = Field(20, ge=1)

    def span_matches(self, span: Span) -> bool:
        if self.service is not None and span.service != self.service:
            return False
        if self.operation is not None and span.name != self.operation:
            return False
        if not datetime_to_ns(self.start) <= span.start_ns < datetime_to_ns(self.end):
            return False
        if self.min_duration_ms is not None and span.duration_ms < self.min_duration_ms:
            return False
        return not (self.errors_only and not span.error)

    def matches(self, trace: Trace) -> bool:
        return any(self.span_matches(s) for s in trace.spans)


@runtime_checkable
class TraceBackend(Protocol):
    """Where traces are read from. Implementations raise `tools.errors.BackendError`/`BackendTimeout`
    when the backend fails, and never block longer than their configured timeout per request."""

    def services(self) -> list[str]:
        """Names of the services that have reported spans."""
        ...

    def search(self, query: TraceQuery) -> list[Trace]:
        """Complete traces matching `query`, at most `query.limit`, most recent first."""
        ...

    def get_trace(self, trace_id: str) -> Trace | None:
        """One trace by hex id, or None when the backend does not know it."""
        ...
