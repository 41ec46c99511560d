"""Nezha's per-minute span and log CSVs, streamed into a recording's spans/*.jsonl and logs/<pod>.log.

Spans: `TraceID, SpanID, ParentID ('root' for roots), PodName, OperationName, StartTimeUnixNano,
EndTimeUnixNano, Duration` become OTLP JSON, one ExportTraceServiceRequest per minute file (the
OpenTelemetry Collector file exporter's format), grouped by pod with `service.name` (the pod's
workload) and `k8s.pod.name` as resource attributes. The dataset records no status codes, so no span
has an error status: nothing is invented. A span is kept when it ENDED inside the recording's window
(a span still running at as_of was not yet exported).
Logs: `Timestamp, TimeUnixNano, Node, PodName, Container, TraceID, SpanID, Log` where `Log` is the
container runtime's JSON (`{"log": ..., "stream", "time"}`); a pod's lines are written in time order,
each prefixed with its RFC 3339 timestamp, as `kubectl logs --timestamps` prints them.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from evals.recordings.importers.common import DatasetError

_HEX = frozenset("0123456789abcdef")
Keep = Callable[[int], bool]  # nanoseconds → inside the window and outside every left-out stretch


@dataclass
class Seen:
    """What the spans and logs say about the cluster, for the manifest and the kube objects."""

    edges: set[tuple[str, str]] = field(default_factory=set)  # (caller service, callee service)
    roots: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # service → root spans
    nodes: dict[str, str] = field(default_factory=dict)  # pod → node
    containers: dict[str, str] = field(default_factory=dict)  # pod → container
    spans: int = 0
    lines: int = 0


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            yield from enumerate(csv.DictReader(fh), start=2)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror}") from None


def _hex_id(path: Path, number: int, field_name: str, raw: str, digits: int) -> str:
    value = raw.strip().lower()
    if not value or len(value) > digits or not set(value) <= _HEX:
        raise DatasetError(
            f"{path}:{number}: {field_name} {raw!r} is not a hex id of at most {digits} digits"
        )
    return value.zfill(digits)


def _spans(path: Path, keep: Keep) -> Iterator[tuple[str, dict[str, object]]]:
    """(pod, OTLP span) for every kept row of one trace file."""
    for number, row in _rows(path):
        try:
            start, end = int(row["StartTimeUnixNano"]), int(row["EndTimeUnixNano"])
            pod, parent = row["PodName"], row["ParentID"].strip()
            span: dict[str, object] = {
                "traceId": _hex_id(path, number, "TraceID", row["TraceID"], 32),
                "spanId": _hex_id(path, number, "SpanID", row["SpanID"], 16),
                "name": row.get("OperationName") or "",
                "startTimeUnixNano": str(start),
                "endTimeUnixNano": str(end),
            }
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise DatasetError(f"{path}:{number}: {exc} (expected the Nezha trace columns)") from None
        if parent and parent.lower() != "root":
            span["parentSpanId"] = _hex_id(path, number, "ParentID", parent, 16)
        if keep(end):
            yield pod, span


def write_spans(
    files: list[Path], keep: Keep, out: Path, namespace: str, service_of: Callable[[str], str], seen: Seen
) -> None:
    """Write the kept spans of `files` to `out`, one request per file; note edges and roots in `seen`."""
    written: set[tuple[object, object]] = set()  # minute files overlap by a few seconds
    services: dict[object, str] = {}
    parents: list[tuple[object, str]] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as sink:
        for path in files:
            by_pod: dict[str, list[dict[str, object]]] = defaultdict(list)
            for pod, span in _spans(path, keep):
                if (span["traceId"], span["spanId"]) not in written:
                    written.add((span["traceId"], span["spanId"]))
                    by_pod[pod].append(span)
                    _note(span, service_of(pod), services, parents, seen)
            if by_pod:
                sink.write(
                    json.dumps(_request(by_pod, namespace, service_of, seen), separators=(",", ":")) + "\n"
                )
                seen.spans += sum(len(s) for s in by_pod.values())
    _edges(services, parents, seen)


def note_spans(files: list[Path], service_of: Callable[[str], str], seen: Seen) -> None:
    """Only the call edges and root services of these trace files."""
    services: dict[object, str] = {}
    parents: list[tuple[object, str]] = []
    for path in files:
        for pod, span in _spans(path, lambda _: True):
            _note(span, service_of(pod), services, parents, seen)
    _edges(services, parents, seen)


def _note(
    span: dict[str, object],
    service: str,
    services: dict[object, str],
    parents: list[tuple[object, str]],
    seen: Seen,
) -> None:
    services[span["spanId"]] = service
    if "parentSpanId" in span:
        parents.append((span["parentSpanId"], service))
    else:
        seen.roots[service] += 1


def _edges(services: dict[object, str], parents: list[tuple[object, str]], seen: Seen) -> None:
    for parent, child in parents:
        caller = services.get(parent)
        if caller is not None and caller != child:
            seen.edges.add((caller, child))


def _request(
    by_pod: dict[str, list[dict[str, object]]], namespace: str, service_of: Callable[[str], str], seen: Seen
) -> dict[str, object]:
    resource_spans = []
    for pod in sorted(by_pod):
        attributes = [
            ("service.name", service_of(pod)),
            ("k8s.namespace.name", namespace),
            ("k8s.pod.name", pod),
        ]
        if pod in seen.nodes:
            attributes.append(("k8s.node.name", seen.nodes[pod]))
        resource_spans.append(
            {
                "resource": {"attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes]},
                "scopeSpans": [{"scope": {"name": "nezha-import"}, "spans": by_pod[pod]}],
            }
        )
    return {"resourceSpans": resource_spans}


def read_logs(files: list[Path], keep: Keep, seen: Seen) -> dict[str, list[str]]:
    """pod → its kept lines in time order; every row's pod, node and container is noted in `seen`."""
    lines: dict[str, dict[tuple[int, str], None]] = defaultdict(dict)  # ordered set: files overlap
    for path in files:
        for number, row in _rows(path):
            try:
                when, stamp, pod = int(row["TimeUnixNano"]), row["Timestamp"].strip(), row["PodName"]
            except (KeyError, TypeError, ValueError) as exc:
                raise DatasetError(f"{path}:{number}: {exc} (expected the Nezha log columns)") from None
            if row.get("Node"):
                seen.nodes.setdefault(pod, row["Node"])
            if row.get("Container"):
                seen.containers.setdefault(pod, row["Container"])
            if keep(when):
                lines[pod][(when, f"{stamp} {message_of(row.get('Log') or '')}")] = None
    return {pod: [text for _, text in sorted(entries)] for pod, entries in lines.items()}


def write_logs(lines: dict[str, list[str]], folder: Path, seen: Seen) -> None:
    """logs/<pod>.log for every pod with lines."""
    for pod, texts in lines.items():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{pod}.log").write_text("".join(text + "\n" for text in texts), encoding="utf-8")
        seen.lines += len(texts)


def message_of(raw: str) -> str:
    """The application's line out of the runtime's JSON record, on one line."""
    try:
        doc = json.loads(raw)
        text = str(doc["log"]) if isinstance(doc, dict) and "log" in doc else raw
    except json.JSONDecodeError:
        text = raw
    return text.rstrip("\n").replace("\r", "").replace("\n", " ")


def coverage_end(
    files: list[Path], column: str, lo_ns: int, hi_ns: int, gap_ns: int = 60 * 10**9
) -> int | None:
    """Where the data recorded from `lo` on stops, looking no further than `hi`: the end of the files'
    time ranges chained from `lo` without a gap longer than `gap_ns` (minute files after a hole belong
    to something else, such as the next fault's lead-in)."""
    ranges = []
    for path in files:
        times = []
        for number, row in _rows(path):
            try:
                value = int(row[column])
            except (KeyError, TypeError, ValueError):
                raise DatasetError(f"{path}:{number}: {column} is not a time in nanoseconds") from None
            if lo_ns < value <= hi_ns:
                times.append(value)
        if times:
            ranges.append((min(times), max(times)))
    end: int | None = None
    for first, last in sorted(ranges):
        if first - (lo_ns if end is None else end) > gap_ns:
            break
        end = last if end is None else max(end, last)
    return end
