"""The sandbox's trace file read directly as OTLP JSON lines (the Collector file exporter's format),
without medic's own trace backend, so a bug there cannot hide a bug in what the sandbox wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

SPAN_KIND_SERVER, SPAN_KIND_CLIENT = 2, 3
STATUS_ERROR = 2


@dataclass(frozen=True)
class FileSpan:
    trace_id: str
    service: str  # the resource's service.name
    pod: str  # k8s.pod.name
    kind: int  # OTLP SpanKind
    server_address: str  # client spans: the callee
    start_ns: int
    end_ns: int
    error: bool

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9

    def after(self, moment: datetime) -> bool:
        return self.start_ns >= moment.timestamp() * 1e9


def _attributes(items: list[dict[str, dict[str, object]]]) -> dict[str, object]:
    return {a["key"]: next(iter(a["value"].values()), None) for a in items}  # type: ignore[misc]


def read_spans(traces_dir: Path) -> list[FileSpan]:
    """Every span of every `*.jsonl` file under the sandbox's traces directory."""
    spans: list[FileSpan] = []
    for file in sorted(traces_dir.glob("*.jsonl")):
        for line in file.read_text().splitlines():
            for resource_spans in json.loads(line)["resourceSpans"]:
                resource = _attributes(resource_spans["resource"]["attributes"])
                for scope in resource_spans["scopeSpans"]:
                    for span in scope["spans"]:
                        attrs = _attributes(span.get("attributes", []))
                        spans.append(
                            FileSpan(
                                trace_id=span["traceId"],
                                service=str(resource["service.name"]),
                                pod=str(attrs.get("k8s.pod.name", "")),
                                kind=int(span["kind"]),
                                server_address=str(attrs.get("server.address", "")),
                                start_ns=int(span["startTimeUnixNano"]),
                                end_ns=int(span["endTimeUnixNano"]),
                                error=span.get("status", {}).get("code") == STATUS_ERROR,
                            )
                        )
    if not spans:
        raise AssertionError(f"no spans under {traces_dir}")
    return spans


def servers(spans: list[FileSpan], service: str | None = None) -> list[FileSpan]:
    return [s for s in spans if s.kind == SPAN_KIND_SERVER and (service is None or s.service == service)]


def clients(spans: list[FileSpan], callee: str) -> list[FileSpan]:
    return [s for s in spans if s.kind == SPAN_KIND_CLIENT and s.server_address == callee]


def failing_services(spans: list[FileSpan]) -> set[str]:
    """Services with at least one failing server span."""
    return {s.service for s in servers(spans) if s.error}
