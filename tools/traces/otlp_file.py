"""The `otlp-file` backend: traces from files in the OpenTelemetry Collector file exporter's format.

Each line is one ExportTraceServiceRequest as OTLP JSON (`resourceSpans` → `scopeSpans` → `spans`, hex
ids, nanosecond times as strings). This is what the sandbox writes, and what a collector with a
`file` exporter writes on a real cluster. Files are re-read only when their size or mtime changes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from tools.errors import BackendError
from tools.traces.backend import Span, Trace, TraceQuery
from tools.traces.otlp_json import MalformedOtlp, decode_request

_SUFFIXES = (".json", ".jsonl", ".ndjson")


class OtlpFileBackend:
    """Reads every `*.json`/`*.jsonl`/`*.ndjson` file under `path` (or the one file `path`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._traces: dict[str, Trace] = {}

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        if self.path.is_dir():
            return sorted(p for p in self.path.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)
        raise BackendError(f"otlp-file: {self.path} does not exist")

    def _load(self) -> dict[str, Trace]:
        files = self._files()
        stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        if stamp == self._stamp:
            return self._traces
        spans: dict[str, dict[str, Span]] = defaultdict(dict)
        for file in files:
            for span in _read_file(file):
                spans[span.trace_id][span.span_id] = span  # a re-exported span replaces the earlier copy
        self._traces = {tid: Trace(trace_id=tid, spans=list(by_id.values())) for tid, by_id in spans.items()}
        self._stamp = stamp
        return self._traces

    def services(self) -> list[str]:
        return sorted({s.service for t in self._load().values() for s in t.spans})

    def search(self, query: TraceQuery) -> list[Trace]:
        found = [t for t in self._load().values() if query.matches(t)]
        found.sort(key=lambda t: t.start_ns, reverse=True)
        return found[: query.limit]

    def get_trace(self, trace_id: str) -> Trace | None:
        return self._load().get(trace_id.lower().zfill(32))


def _read_file(file: Path) -> list[Span]:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise BackendError(f"otlp-file: cannot read {file}: {exc}") from exc
    try:  # one pretty-printed document (hand-written fixtures, `otel-cli` dumps)
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        return _decode(whole, f"{file}")
    lines = text.splitlines()
    out: list[Span] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines) and not text.endswith("\n"):
                continue  # the exporter is still writing the last line
            raise BackendError(f"otlp-file: {file}:{number}: not JSON: {exc}") from exc
        out.extend(_decode(doc, f"{file}:{number}"))
    return out


def _decode(doc: object, where: str) -> list[Span]:
    if not isinstance(doc, dict):
        raise BackendError(f"otlp-file: {where}: expected a JSON object per line")
    try:
        return list(decode_request(doc))
    except MalformedOtlp as exc:
        raise BackendError(f"otlp-file: {where}: not OTLP JSON: {exc}") from exc
