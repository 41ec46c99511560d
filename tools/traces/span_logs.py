"""Log lines joined to the spans they were written in: which logging statements each span wrote.

A service's request that throws before a statement it always writes still arrives in the traces
(same operation, same latency), but the statement is missing from its spans; counted per minute the
statement's rate says little (a few lines a minute is a few Poisson sigmas), counted per request it
is exact: every request of that operation wrote it before, none does now, whatever the load.

A line joins the span whose id it carries (OpenTelemetry/W3C, Sleuth and SkyWalking style loggers
put the ids in the record: a column of the log store, or the text itself, `TraceID: <32 hex>
SpanID: <16 hex>`, `trace_id=... span_id=...`); a line without a span id joins nothing. Statements are
the templates of `tools.logs.templates` (one miner over the fault-free reference and the window, so
ids compare), per entity.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from tools.logs.templates import TemplateMiner, line_level

# `SpanID: 4bf9...`, `span_id=4bf9...`, `spanId":"4bf9...`: a span-id word, then the hex id
_SPAN_ID = re.compile(r"(?i)\bspan[_ .-]?id\W{1,4}([0-9a-f]{16})\b")


class SpanLogLine(NamedTuple):
    """One log line and the span it was written in ('' when it names none)."""

    entity: str  # the service the line belongs to
    time: float  # unix seconds
    message: str
    span_id: str


def span_id_in(message: str) -> str:
    """The span id a line's text names (W3C/OpenTelemetry 16 hex digits after a span-id word), or ''."""
    found = _SPAN_ID.search(message)
    return found[1].lower() if found else ""


def span_key(span_id: str) -> str:
    """A span id as both sides compare it: lowercase, without zero padding (stores pad differently)."""
    return span_id.strip().lower().lstrip("0") or "0"


@dataclass(frozen=True)
class SpanStatements:
    """Per span (by `span_key`), the statements written in it; per entity whose lines name spans, the
    time its lines cover (a request outside it cannot tell a missing statement from a line not
    collected)."""

    by_span: Mapping[str, frozenset[int]]
    covered: Mapping[str, tuple[float, float]]

    def covers(self, entity: str, at_s: float) -> bool:
        span = self.covered.get(entity)
        return span is not None and span[0] <= at_s <= span[1]


def span_statements(lines: Iterable[SpanLogLine], miner: TemplateMiner) -> SpanStatements:
    """The statements (template ids of `miner`) each span wrote, from the lines naming a span."""
    written: dict[str, set[int]] = defaultdict(set)
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    joined: set[str] = set()  # entities whose lines name spans: only they can tell what a span lacks
    for entity, at, message, span_id in lines:
        first[entity] = min(at, first.get(entity, at))
        last[entity] = max(at, last.get(entity, at))
        if span_id:
            joined.add(entity)
            written[span_key(span_id)].add(miner.add(entity, message, line_level(message)))
    return SpanStatements(
        by_span={span: frozenset(ids) for span, ids in written.items()},
        covered={entity: (first[entity], last[entity]) for entity in sorted(joined)},
    )


def with_span_ids(lines: Iterable[tuple[str, float, str]]) -> list[SpanLogLine]:
    """(entity, time, message) lines (pod logs, which keep no ids beside the text) with the span id
    their text names, for `trace_signals(..., logs=...)`."""
    return [SpanLogLine(entity, at, message, span_id_in(message)) for entity, at, message in lines]
