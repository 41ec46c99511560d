"""Nezha's per-minute span and log files as the inputs of the trace and log row builders.

`trace/HH_MM_trace.csv`: `TraceID, SpanID, ParentID ('root' for roots), PodName, OperationName,
StartTimeUnixNano, EndTimeUnixNano, Duration` → `tools.traces.backend.Span` (service = the pod's
workload; no status: the data records none, so no span is an error). `log/HH_MM_log.csv`:
`Timestamp, TimeUnixNano, Node, PodName, Container, TraceID, SpanID, Log` → `(service, unix seconds,
message)`, the time from `TimeUnixNano` (UTC, the container runtime's clock; a few published rows
have an overflowed, negative one, and then `Timestamp` is read; the application's own timestamp
inside the message is UTC+8 and is left in the text), the message from the runtime's JSON record
(`{"log": ...}`), and the span it was written in (`SpanID`, or the id the text names) kept beside
it for joining lines to requests (`tools/traces/span_logs.py`).

A file is parsed once per run (`lru_cache`): a fault's window and the fault-free reference read the
same few files again and again, while the day's 84 minute files are never all held at once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from evals.recordings.importers.nezha_layout import parse_time, workload_of
from evals.recordings.importers.nezha_spans import message_of
from tools.traces.backend import Span
from tools.traces.span_logs import span_id_in

LogLine = tuple[str, float, str]  # (service, unix seconds, message)
_HEX = frozenset("0123456789abcdef")
CACHED_FILES = 12  # per kind: a window reads about 8 (its own 3, earlier lead-ins, the construct stretch)
PLAUSIBLE_S = 1e9  # unix seconds of 2001: an earlier time is a broken stamp


@dataclass(frozen=True)
class MinuteSpans:
    spans: tuple[Span, ...]
    first: float  # unix seconds: the earliest start and latest end in the file (its coverage)
    last: float


@dataclass(frozen=True)
class MinuteLogs:
    lines: tuple[LogLine, ...]
    first: float
    last: float
    span_ids: tuple[str, ...]  # per line: the span it was written in, '' when none


def _hex(path: Path, number: int, name: str, raw: str, digits: int) -> str:
    value = raw.strip().lower()
    if not value or len(value) > digits or not set(value) <= _HEX:
        raise ValueError(f"{path}:{number}: {name} {raw!r} is not a hex id of at most {digits} digits")
    return value.zfill(digits)


@lru_cache(maxsize=CACHED_FILES)
def read_spans(path: Path) -> MinuteSpans:
    spans: list[Span] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                parent = row["ParentID"].strip()
                pod = row["PodName"]
                spans.append(
                    Span(
                        trace_id=_hex(path, number, "TraceID", row["TraceID"], 32),
                        span_id=_hex(path, number, "SpanID", row["SpanID"], 16),
                        parent_span_id=None
                        if not parent or parent.lower() == "root"
                        else _hex(path, number, "ParentID", parent, 16),
                        service=workload_of(pod),
                        name=row.get("OperationName") or "",
                        start_ns=int(row["StartTimeUnixNano"]),
                        end_ns=int(row["EndTimeUnixNano"]),
                        attributes={"k8s.pod.name": pod},
                    )
                )
            except (KeyError, TypeError, AttributeError) as exc:
                raise ValueError(
                    f"{path}:{number}: column {exc} missing (expected the Nezha trace columns)"
                ) from None
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None
    if not spans:
        return MinuteSpans((), float("inf"), float("-inf"))
    return MinuteSpans(tuple(spans), min(s.start_ns for s in spans) / 1e9, max(s.end_ns for s in spans) / 1e9)


@lru_cache(maxsize=CACHED_FILES)
def read_logs(path: Path) -> MinuteLogs:
    lines: list[LogLine] = []
    span_ids: list[str] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                at = int(row["TimeUnixNano"]) / 1e9
                if at < PLAUSIBLE_S:  # an overflowed stamp (year 1754) in the source: its Timestamp is right
                    at = parse_time(row["Timestamp"]).timestamp()
                message = message_of(row.get("Log") or "")
                lines.append((workload_of(row["PodName"]), at, message))
                span_ids.append((row.get("SpanID") or "").strip().lower() or span_id_in(message))
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(
                    f"{path}:{number}: {exc} (expected the Nezha log columns, TimeUnixNano in ns)"
                ) from None
    if not lines:
        return MinuteLogs((), float("inf"), float("-inf"), ())
    times = [t for _, t, _ in lines]
    return MinuteLogs(tuple(lines), min(times), max(times), tuple(span_ids))
