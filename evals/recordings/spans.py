"""A recording's spans/*.jsonl (OTLP JSON lines, the OpenTelemetry Collector file exporter's format),
checked and copied for replay where the `otlp-file` trace backend reads them.

Every span needs a `traceId` and a `spanId` (hex, or base64 as protobuf's JSON mapping writes them)
and its start and end times; a problem is one `RecordingError` naming the file, the line and the span.
A span that ended after as_of is dropped: a collector exports a span when it ends, so at as_of it
was not visible yet.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from evals.recordings.manifest import RecordingError
from tools.traces.otlp_json import MalformedOtlp, normalize_id

# The keys of the two nesting levels, current and pre-1.0 OTLP (the trace backend reads both).
_RESOURCE_SPANS = "resourceSpans"
_SCOPE_KEYS = ("scopeSpans", "instrumentationLibrarySpans")


@dataclass
class SpanStats:
    spans: int = 0
    dropped: int = 0  # ended after as_of


def copy_spans(files: Sequence[Path], as_of: datetime, out_dir: Path | None) -> SpanStats:
    """Check every file and write the spans that ended by `as_of` to `out_dir`, one file per input
    (with `out_dir` None, only check)."""
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    limit_ns = int(as_of.timestamp()) * 1_000_000_000 + as_of.microsecond * 1000
    stats = SpanStats()
    for path in files:
        number = 0
        try:
            with path.open(encoding="utf-8") as lines, _output(out_dir, path.name) as out:
                for number, line in enumerate(lines, start=1):
                    if line.strip():
                        out.write(_kept(path, number, line.rstrip("\n"), limit_ns, stats))
        except UnicodeDecodeError:
            raise _error(path, number + 1, "not UTF-8 text") from None
        except OSError as exc:
            raise RecordingError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    return stats


def _output(out_dir: Path | None, name: str) -> IO[str]:
    return (out_dir / name).open("w", encoding="utf-8") if out_dir is not None else open(os.devnull, "w")


def _kept(path: Path, number: int, line: str, limit_ns: int, stats: SpanStats) -> str:
    """The line as it is when no span of it ended after as_of, else rewritten without those ("" when
    none is left)."""
    try:
        document = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _error(path, number, f"not JSON ({exc.msg}, column {exc.colno})") from None
    if not isinstance(document, dict) or not isinstance(document.get(_RESOURCE_SPANS), list):
        raise _error(path, number, f"expected an OTLP JSON object with `{_RESOURCE_SPANS}` per line")
    before = stats.dropped
    _filter(path, number, document, limit_ns, stats)
    if stats.dropped == before:
        return line + "\n"
    if any(_spans(document)):
        return json.dumps(document, separators=(",", ":")) + "\n"
    return ""


def _spans(document: Mapping[str, Any]) -> list[list[Any]]:
    """The `spans` lists of a document, in order (empty ones included)."""
    found = []
    for resource in _items(document.get(_RESOURCE_SPANS)):
        for key in _SCOPE_KEYS:
            for scope in _items(resource.get(key)):
                spans = scope.get("spans")
                if isinstance(spans, list):
                    found.append(spans)
    return found


def _filter(path: Path, number: int, document: dict[str, Any], limit_ns: int, stats: SpanStats) -> None:
    for r, resource in enumerate(_items(document[_RESOURCE_SPANS])):
        for key in _SCOPE_KEYS:
            for s, scope in enumerate(_items(resource.get(key))):
                spans = scope.get("spans")
                if not isinstance(spans, list):
                    continue
                where = f"{_RESOURCE_SPANS}[{r}].{key}[{s}].spans"
                kept = [
                    span
                    for i, span in enumerate(spans)
                    if _ended_by(path, number, f"{where}[{i}]", span, limit_ns)
                ]
                stats.spans += len(kept)
                stats.dropped += len(spans) - len(kept)
                scope["spans"] = kept


def _ended_by(path: Path, number: int, where: str, span: Any, limit_ns: int) -> bool:
    if not isinstance(span, dict):
        raise _error(path, number, f"{where}: expected a span object")
    for field, size in (("traceId", 16), ("spanId", 8)):
        if not span.get(field):
            raise _error(path, number, f"{where}: no {field} (every span needs traceId and spanId)")
        try:
            normalize_id(span[field], size)
        except MalformedOtlp as exc:
            raise _error(path, number, f"{where}.{field}: {exc}") from None
    times = []
    for field in ("startTimeUnixNano", "endTimeUnixNano"):
        try:
            times.append(int(str(span[field])))
        except (KeyError, ValueError):
            raise _error(
                path,
                number,
                f"{where}.{field}: required, nanoseconds since the epoch (got {span.get(field)!r})",
            ) from None
    return times[1] <= limit_ns


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _error(path: Path, number: int, problem: str) -> RecordingError:
    return RecordingError(f"{path}:{number}: {problem} (see the README's Recordings)")
