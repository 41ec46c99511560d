"""A Nezha window's trace and log rows, their fault-free reference, and the call graph from its spans.

The rows come from the product's builders, fed what they take: `tools.traces.signals.trace_signals`
(spans → rows, with the fault-free spans as the reference of what requests usually look like) and
`tools.logs.signals.log_signals_with_reference` (lines → rows, the fault-free lines teaching the usual
templates, and the same rows over them as the ranking's reference). Builders take bucket STARTS; the
bench's grid is stamped at bucket ENDS, so the rows are re-stamped one step later.

What is read: the minute files that may hold rows in the window (the day's and the construct
stretch's), keeping what started inside the window, ended by `latest` and lies outside earlier faults'
windows; the construct stretch whole as the reference. A bucket no file covers is NaN in every trace
and log row: the data has spans and lines only around faults, and not read is not zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from evals.bench.rca.case_model import ALL_SOURCES, BoolArray, Calls, FloatArray, Source
from evals.bench.rca.nezha_minutes import MinuteLogs, read_logs, read_spans
from evals.recordings.importers.nezha_layout import Day, minute_files
from tools.anomaly.rank import SignalMatrix
from tools.traces.backend import Span
from tools.traces.span_logs import SpanLogLine

MINUTE_S = 60.0
_MINUTE = re.compile(r"^(\d\d)_(\d\d)_")


@dataclass
class SourceRows:
    rows: list[SignalMatrix] = field(default_factory=list)  # on the window's grid
    reference: list[SignalMatrix] = field(default_factory=list)  # the same keys over the construct stretch
    calls: list[Calls] = field(default_factory=list)


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def _outside(t: float, blocked: list[tuple[float, float]]) -> bool:
    return not any(lo <= t < hi for lo, hi in blocked)


def _restamped(matrix: SignalMatrix, ends: FloatArray, mask: BoolArray | None = None) -> SignalMatrix:
    values = matrix.values.copy()
    if mask is not None:
        values[:, mask] = np.nan
    return SignalMatrix(times=ends, keys=list(matrix.keys), values=values)


def coverage(ends: FloatArray, step: float, spans: list[tuple[float, float]]) -> BoolArray:
    """Buckets [end - step, end) that some file's [first, last] overlaps."""
    covered = np.zeros(ends.size, dtype=bool)
    for first, last in spans:
        covered |= (ends > first) & (ends - step <= last)
    return covered


def minute_grid(first: float, last: float, step: float) -> FloatArray:
    """Bucket ends covering [first, last]."""
    return np.arange(np.floor(first / step) * step + step, np.ceil(last / step) * step + step / 2, step)


def _readable(paths: list[Path], day: Day, blocked: list[tuple[float, float]]) -> list[Path]:
    """`paths` without the files lying mostly inside an earlier fault's window (a file named for minute
    M holds about the minute before M; its lines are filtered one by one anyway)."""
    kept = []
    for path in paths:
        found = _MINUTE.match(path.name)
        if found:
            minute = datetime(
                day.date.year, day.date.month, day.date.day, int(found[1]), int(found[2]), tzinfo=UTC
            )
            end = minute.timestamp()
            inside = max((min(end, hi) - max(end - MINUTE_S, lo) for lo, hi in blocked), default=0.0)
            if inside >= MINUTE_S / 2:
                continue
        kept.append(path)
    return kept


def _unique_spans(spans: list[Span]) -> list[Span]:
    seen: dict[tuple[str, str], Span] = {}
    for span in spans:  # minute files overlap by a few seconds
        seen.setdefault((span.trace_id, span.span_id), span)
    return list(seen.values())


def read_sources(
    day: Day,
    ends: FloatArray,
    step: float,
    latest: float,
    blocked: list[tuple[float, float]],
    blank: BoolArray,
    sources: frozenset[Source] = frozenset(ALL_SOURCES),
) -> SourceRows:
    """Trace and log rows of the window whose buckets end at `ends` (those `sources` ask for), their
    reference, and the calls the spans show (always: the call graph is not evidence)."""
    out = SourceRows()
    start = float(ends[0]) - step
    folders = [day.folder, *([day.construct] if day.construct else [])]
    construct = [day.construct] if day.construct else []

    def keep(t0: float, t1: float) -> bool:
        return start <= t0 and t1 <= latest and _outside(t0, blocked)

    trace_files = _readable(minute_files(folders, "trace", day.date, _utc(start), _utc(latest)), day, blocked)
    parsed = [read_spans(p) for p in trace_files]
    spans = _unique_spans([s for m in parsed for s in m.spans if keep(s.start_ns / 1e9, s.end_ns / 1e9)])
    ref_parsed = [read_spans(p) for p in minute_files(construct, "trace", day.date)]
    reference = _unique_spans([s for m in ref_parsed for s in m.spans])
    from tools.traces.signals import trace_calls, trace_signals

    out.calls = [trace_calls(reference), trace_calls(spans)]
    ref_logs = [read_logs(p) for p in minute_files(construct, "log", day.date)] if "logs" in sources else []
    log_files: list[MinuteLogs] = []
    if "logs" in sources:
        paths = _readable(minute_files(folders, "log", day.date, _utc(start), _utc(latest)), day, blocked)
        log_files = [read_logs(p) for p in paths]
    lines = list(dict.fromkeys(line for line in _span_lines(log_files) if keep(line.time, line.time)))
    reference_lines = list(dict.fromkeys(_span_lines(ref_logs)))
    bounds = [(m.first, m.last) for m in ref_parsed if m.first <= m.last]
    bounds += [(m.first, m.last) for m in ref_logs if m.first <= m.last]
    ref_ends = minute_grid(min(b[0] for b in bounds), max(b[1] for b in bounds), step) if bounds else None
    if "traces" in sources:
        unread = blank | ~coverage(ends, step, [(m.first, m.last) for m in parsed])
        # the lines joined to their spans: which statements each request wrote (none without logs)
        trace_rows = trace_signals(
            spans, ends - step, step, reference=reference, logs=lines, reference_logs=reference_lines
        )
        out.rows.append(_restamped(trace_rows, ends, unread))
        if reference and ref_ends is not None:
            usual = trace_signals(
                reference,
                ref_ends - step,
                step,
                reference=reference,
                logs=reference_lines,
                reference_logs=reference_lines,
            )
            out.reference.append(_restamped(usual, ref_ends))
    if "logs" in sources:
        from tools.logs.signals import log_signals_with_reference

        log_rows, usual_logs = log_signals_with_reference(
            [line[:3] for line in lines],
            ends - step,
            step,
            [line[:3] for line in reference_lines],
            None if ref_ends is None else ref_ends - step,
        )
        unread = blank | ~coverage(ends, step, [(m.first, m.last) for m in log_files])
        out.rows.append(_restamped(log_rows, ends, unread))
        if usual_logs is not None and ref_ends is not None:
            out.reference.append(_restamped(usual_logs, ref_ends))
    return out


def _span_lines(files: list[MinuteLogs]) -> list[SpanLogLine]:
    """The files' lines with the span each was written in."""
    out: list[SpanLogLine] = []
    for m in files:
        out += [SpanLogLine(*line, span_id) for line, span_id in zip(m.lines, m.span_ids, strict=True)]
    return out
