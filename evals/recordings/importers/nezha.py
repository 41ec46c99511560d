"""`medic import nezha SRC DEST`: each labelled fault of Nezha's Train Ticket data as a recording.

For every day under SRC (`nezha_layout`) and every fault of its fault list, in injection order:
- the fault's window runs from its injection for `fault_window` (5 min: faults last about 3), or to
  the next injection if sooner. Earlier faults' windows are left out of everything written, so the
  history before each fault is fault-free (a gap, never another fault's symptoms); each metric
  series goes stale where one begins (`gauges.MetricsFile.write`), as a stopped scrape does;
- the alert is the first firing of one rule on the entry service (`nezha_alert`); as_of is that
  instant. When it does not fire inside the window, a question is asked instead, at the end of the
  fault's recorded spans and logs (or of its window), and the provenance says so;
- metrics over `history` before as_of (`nezha_metrics`), spans and logs over `span_history`
  (`nezha_spans`), all cut at as_of; Pods and Nodes as kube objects (`DayData.pod_objects`) and
  nothing else: the data names no Deployment and records no rollout;
- services: every pod's workload; calls from the spans (the fault-free stretch's and the window's);
  the entry is the service owning most root spans;
- expect: the injected pod's workload; the kind when the fault type names one medic knows (CPU →
  `cpu_hog`, delay → `dependency_latency`, loss → `packet_loss`), otherwise null; remediation [].
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from agent.diagnosis import FaultKind
from evals.durations import format_duration
from evals.recordings.importers import gauges
from evals.recordings.importers.common import Imported, clock, expectation, kebab, utc
from evals.recordings.importers.nezha_alert import AlertRule, EntrySignals, Firing, first_firing
from evals.recordings.importers.nezha_day import DayData, load_day
from evals.recordings.importers.nezha_layout import find_days, minute_files, workload_of
from evals.recordings.importers.nezha_metrics import PodInfo, add_front, add_pod, front_p99, front_success
from evals.recordings.importers.nezha_spans import Seen, coverage_end, read_logs, write_logs, write_spans
from evals.recordings.importers.writing import write_kube_list, write_recording
from evals.recordings.manifest import Manifest, Provenance, RecordedAlert, RecordedService

SOURCE = "Nezha Train Ticket data (IntelligentDDS/Nezha), imported by `medic import nezha`"
_KIND_WORDS: tuple[tuple[str, FaultKind], ...] = (
    ("cpu", "cpu_hog"), ("delay", "dependency_latency"), ("latency", "dependency_latency"), ("loss", "packet_loss"),
)  # fmt: skip


@dataclass(frozen=True)
class NezhaOptions:
    namespace: str = "train-ticket"
    history: timedelta = timedelta(hours=1)  # metrics before as_of
    span_history: timedelta = timedelta(hours=1)  # spans and logs: a trace store keeps hours
    fault_window: timedelta = timedelta(minutes=5)
    rule: AlertRule = field(default_factory=AlertRule)


def import_nezha(src: Path, dest: Path, options: NezhaOptions | None = None) -> Iterator[Imported]:
    options = options or NezhaOptions()
    for day in find_days(src):
        data = load_day(day, options.namespace)
        for index in range(len(data.faults)):
            yield _import_fault(data, index, dest, options)


def fault_kind(fault_type: str) -> tuple[FaultKind | None, str | None]:
    """(medic kind, None), or (None, the dataset's type) when no medic kind fits it."""
    words = fault_type.lower()
    kind = next((k for word, k in _KIND_WORDS if word in words), None)
    return kind, None if kind else fault_type


@dataclass(frozen=True)
class _Window:
    """[start, end] (unix s) minus the earlier faults' windows."""

    start: float
    end: float
    out: tuple[tuple[float, float], ...]

    def mask(self, times: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        kept = (times >= self.start) & (times <= self.end)
        for lo, hi in self.out:
            kept &= ~((times >= lo) & (times < hi))
        return kept

    def keep_ns(self, ns: int) -> bool:
        t = ns / 1e9
        return self.start <= t <= self.end and not any(lo <= t < hi for lo, hi in self.out)


def _import_fault(data: DayData, index: int, dest: Path, options: NezhaOptions) -> Imported:
    began = time.perf_counter()
    fault = data.faults[index]
    injected, span = fault.at.timestamp(), options.fault_window.total_seconds()
    until = min([injected + span, *(f.at.timestamp() for f in data.faults[index + 1 :] if f.at > fault.at)])
    out = tuple(
        (f.at.timestamp(), min(f.at.timestamp() + span, injected))
        for f in data.faults[:index]
        if f.at < fault.at
    )
    firing = _firing(data, options.rule, _Window(float("-inf"), float("inf"), out), injected, until)
    as_of = firing.at if firing else _question_time(data, injected, until)
    recent = _Window(as_of - options.span_history.total_seconds(), as_of, out)
    folders = [data.day.folder, *([data.day.construct] if data.day.construct else [])]
    seen = Seen(
        edges=set(data.seen.edges), nodes=dict(data.seen.nodes), containers=dict(data.seen.containers)
    )
    logs = read_logs(
        minute_files(folders, "log", data.day.date, utc(recent.start), utc(as_of)), recent.keep_ns, seen
    )
    history = _Window(as_of - options.history.total_seconds(), as_of, out)
    metrics = _metrics(data, history, seen, options.namespace)
    gaps = [lo for lo, _ in out if history.start < lo <= as_of]  # where left-out stretches begin
    recording_id = kebab("nezha", data.day.name, fault.at.strftime("%H%M%S"))

    def fill(work: Path) -> Manifest:
        traces = minute_files(folders, "trace", data.day.date, utc(recent.start), utc(as_of))
        write_spans(
            traces, recent.keep_ns, work / "spans" / "nezha.jsonl", options.namespace, workload_of, seen
        )
        write_logs(logs, work / "logs", seen)
        metrics.write(work / "metrics" / "nezha.om", gaps)
        write_kube_list(work / "kube" / "pods.json", data.pod_objects(seen))
        nodes = sorted(set(seen.nodes.values()))
        if nodes:
            node_objects: list[dict[str, object]] = [
                {"apiVersion": "v1", "kind": "Node", "metadata": {"name": n}} for n in nodes
            ]
            write_kube_list(work / "kube" / "nodes.json", node_objects)
        return _manifest(data, index, recording_id, as_of, firing, options, seen, len(out))

    folder = write_recording(dest, recording_id, fill)
    trigger = (
        f"alert {firing.alertname} at {clock(utc(as_of))}" if firing else f"question at {clock(utc(as_of))}"
    )
    return Imported(recording_id, folder, time.perf_counter() - began, trigger, fault_kind(fault.type)[1])


def _firing(
    data: DayData, rule: AlertRule, everywhere: _Window, injected: float, until: float
) -> Firing | None:
    if data.front is None:
        return None
    front = data.front
    signals = EntrySignals(front.times, front_p99(front), front_success(front), everywhere.mask(front.times))
    return first_firing(rule, signals, injected, until)


def _question_time(data: DayData, injected: float, until: float) -> float:
    """Where the fault's recorded spans and logs end inside its window (the next whole second), else
    the window's end."""
    folders, lo, hi = [data.day.folder], int(injected * 1e9), int(until * 1e9)
    ends = [
        coverage_end(minute_files(folders, part, data.day.date, utc(injected), utc(until)), column, lo, hi)
        for part, column in (("trace", "EndTimeUnixNano"), ("log", "TimeUnixNano"))
    ]
    found = [e for e in ends if e is not None]
    return min(float(math.ceil(max(found) / 1e9)), until) if found else until


def _metrics(data: DayData, window: _Window, seen: Seen, namespace: str) -> gauges.MetricsFile:
    metrics = gauges.MetricsFile()
    reporters: dict[str, str] = {}  # node → the pod whose table writes the node's gauges
    for table in data.pods:
        pod, service = table.label, workload_of(table.label)
        node = seen.nodes.get(pod)
        reports = node is not None and reporters.setdefault(node, pod) == pod
        info = PodInfo(service, seen.containers.get(pod) or service, node, reports)
        add_pod(metrics, table, window.mask(table.times), info, namespace)
    if data.front is not None:
        add_front(metrics, data.front, window.mask(data.front.times), data.entry, namespace)
    return metrics


def _manifest(
    data: DayData, index: int, recording_id: str, as_of: float, firing: Firing | None,
    options: NezhaOptions, seen: Seen, left_out: int,
) -> Manifest:  # fmt: skip
    fault, namespace = data.faults[index], options.namespace
    kind, _ = fault_kind(fault.type)
    calls: dict[str, list[str]] = {
        s: [] for s in sorted(data.services() | {c for e in seen.edges for c in e})
    }
    for caller, callee in sorted(seen.edges):
        calls[caller].append(callee)
    alert, question = None, None
    if firing is not None:
        what = (
            f"p99 {firing.value:.2f}s, above {options.rule.latency_factor:g}x its baseline {firing.baseline:.2f}s"
            if firing.baseline is not None
            else f"success ratio {firing.value:.2f}, below {options.rule.success_below:g}"
        )
        alert = RecordedAlert(
            labels={
                "alertname": firing.alertname,
                "severity": "page",
                "namespace": namespace,
                "service": data.entry,
            },
            annotations={"summary": f"{data.entry} {what} for {options.rule.for_samples} minutes"},
            starts_at=utc(as_of),
        )
    else:
        question = f"Something looks wrong in {namespace} (requests come in through {data.entry}); what is the cause?"
    how = (
        f"the alert {firing.alertname} fired at {clock(utc(as_of))}"
        if firing
        else f"the rule did not fire within the fault's window, so a question is asked at {clock(utc(as_of))}, "
        "where the fault's recorded spans and logs end (or its window does, without any)"
    )
    notes = (
        f"Fault {index + 1} of {len(data.faults)} on {data.day.name}: {fault.type} injected into pod {fault.pod} at "
        f"{clock(fault.at)} ({fault.where}). Alert rule: {options.rule.describe()}; {how}. "
        f"{left_out} earlier faults' windows ({format_duration(options.fault_window)} from each injection) "
        f"are left out of the history. Metrics cover {format_duration(options.history)}, spans and logs "
        f"{format_duration(options.span_history)} "
        f"before as_of; {seen.spans} spans, {seen.lines} log lines. Spans carry no status (the data has none); "
        "pod nodes and containers come from the logs, limits from usage and usage-of-limit ratios."
    )
    return Manifest(
        id=recording_id,
        title=f"Nezha {data.day.name}: incident {index + 1} of {len(data.faults)}",
        as_of=utc(as_of),
        namespace=namespace,
        nodes=sorted(set(seen.nodes.values())),
        services={name: RecordedService(calls=callees) for name, callees in calls.items()},
        alert=alert,
        question=question,
        expect=expectation(fault.service, kind),
        provenance=Provenance(source=SOURCE, notes=notes),
    )
