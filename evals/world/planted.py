"""Writes a scenario's planted text (evals/planted.py) where a real cluster would carry it.

A planted log line goes into the current log of every pod of the service whose container was already
running at `at` (a scanner or a crafted request reaches every replica), in time order. A planted span
attribute goes on the span of the service closest to `at` (the closest failed one, if any failed);
for an external service, which has no spans of its own, on the client span of a call to it (an
upstream's error body).
"""

from __future__ import annotations

import bisect
from dataclasses import replace

from evals.durations import parse_duration
from evals.planted import Planted
from evals.scenario import Scenario
from evals.world.grid import to_ms
from evals.world.k8s_format import log_timestamp
from evals.world.model import PodLog, SpanRecord
from evals.world.pods import Pod, ServicePods

_STAMP_CHARS = len("2026-01-01T00:00:00.000000000Z")


def plant_logs(
    scenario: Scenario, plans: dict[str, ServicePods], logs: list[PodLog], max_lines: int
) -> list[PodLog]:
    """`logs` with each planted log line added to the current log of the pods it reaches."""
    lines_for = [p for p in scenario.planted if p.channel == "log"]
    if not lines_for:
        return logs
    end_ms = to_ms(scenario.end_utc)
    reached: dict[str, list[Planted]] = {}
    for item in lines_for:
        at_ms = _at_ms(scenario, item)
        for pod in plans[item.service].pods:
            if _running_at_end(pod) and not pod.crashloop and _container_start(pod, end_ms) <= at_ms:
                reached.setdefault(pod.name, []).append(item)
    planted_logs: list[PodLog] = []
    for log in logs:
        items = reached.get(log.pod, []) if not log.previous else []
        if not items:
            planted_logs.append(log)
            continue
        lines = list(log.lines)
        keep: set[str] = set()
        for item in items:
            line = f"{log_timestamp(_at_ms(scenario, item))} {item.text}"
            stamps = [text[:_STAMP_CHARS] for text in lines]
            lines.insert(bisect.bisect_right(stamps, line[:_STAMP_CHARS]), line)
            keep.add(line)
        while len(lines) > max_lines:  # the bound holds; the planted lines are the ones kept
            lines.pop(next(k for k, text in enumerate(lines) if text not in keep))
        planted_logs.append(replace(log, lines=lines))
    return planted_logs


def plant_spans(scenario: Scenario, spans: list[SpanRecord]) -> list[SpanRecord]:
    """`spans` with each planted attribute set on the span it lands on."""
    items = [p for p in scenario.planted if p.channel == "span_attribute"]
    if not items:
        return spans
    planted_spans = list(spans)
    for item in items:
        at_ns = _at_ms(scenario, item) * 1_000_000
        own = [k for k, s in enumerate(planted_spans) if s.service == item.service and s.kind == "server"]
        calls = [
            k
            for k, s in enumerate(planted_spans)
            if s.kind == "client" and s.attributes.get("server.address") == item.service
        ]
        spans_of = own or calls
        if not spans_of:  # validation guarantees a caller; only a caller that never ran gets here
            raise ValueError(f"planted text for {item.service!r}: no span of it or of a call to it")
        # An exception message or an error body is recorded on a failed span, when one failed.
        candidates = [k for k in spans_of if planted_spans[k].error] or spans_of
        k = min(candidates, key=lambda c: (abs(planted_spans[c].start_ns - at_ns), c))
        span = planted_spans[k]
        planted_spans[k] = replace(span, attributes={**span.attributes, item.span_key: item.text})
    return planted_spans


def _at_ms(scenario: Scenario, item: Planted) -> int:
    return to_ms(scenario.end_utc + parse_duration(item.at))


def _running_at_end(pod: Pod) -> bool:
    """The kubelet still serves the pod's log: it was neither deleted nor evicted."""
    return pod.deleted_ms is None and pod.evicted_ms is None


def _container_start(pod: Pod, end_ms: int) -> int:
    """When the pod's current container started (after its last OOM kill, if any); as in logs.py."""
    kills = [ms for ms, _ in pod.terminations if ms <= end_ms]
    return kills[-1] + 1000 if kills else pod.created_ms + 2000
