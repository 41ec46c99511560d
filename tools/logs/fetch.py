"""The pod logs of a namespace, as the lines `log_signals` turns into ranking rows.

Each pod's log is read through the Kubernetes reader with its timestamps (the last `lines_per_pod`
lines; every container of a pod with several), cut to [start, as_of] (a replay must not read the
future), redacted, and attributed to the pod's workload (`owner_of`): the ranking's entity is the
service, not the pod. Reads run a few at a time, each bounded by the reader's timeout.

A pod whose log cannot be read (gone, pending, forbidden, slow) is skipped and named in `skipped`:
one unreadable pod never costs the ranking its other logs. A pod whose tail was cut by the line
limit, or whose container restarted, has lines only from its first line read on: `covered_from`
says so per service, and the rows are NaN before it rather than a false quiet. The total is bounded
too: pods share `total_lines`, and a pod's budget is at most `lines_per_pod`. Pods start with equal
shares; what the quiet ones leave unread goes to the ones cut, read once more with a longer tail (a
namespace's few busy services write most of its lines, and their history is the ranking's baseline).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from tools.anomaly.signals import owner_of
from tools.errors import ToolError
from tools.kube.client import KubeReader
from tools.kube.logs import parse_timestamp
from tools.kube.models import Pod
from tools.logs.signals import LogLine
from tools.redact import redact

_STAMPED = re.compile(r"^(\S+) (.*)$", re.DOTALL)
READERS = 4  # pod logs read at once


@dataclass(frozen=True)
class LogFetchLimits:
    lines_per_pod: int = 2_000  # the tail read per container
    total_lines: int = 40_000  # shared by every pod of the namespace
    max_line_chars: int = 2_000  # longer lines are cut (a template is told by its start)


DEFAULT_LOG_LIMITS = LogFetchLimits()


@dataclass
class FetchedLogs:
    """The lines (service, unix seconds, redacted message) and what was and was not read."""

    lines: list[LogLine] = field(default_factory=list)
    covered_from: dict[str, float] = field(default_factory=dict)  # service -> lines complete from
    pod_service: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # pod -> why its log was not read
    cut: list[str] = field(default_factory=list)  # pods whose tail was cut by the line limit
    reason: str | None = None  # why nothing could be read (the pods could not be listed)


@dataclass(frozen=True)
class _PodLog:
    pod: str
    lines: list[tuple[float, str]]
    cut: bool
    error: str | None = None
    read: int = 0  # raw lines read, of the budget


def fetch_pod_logs(
    kube: KubeReader,
    namespace: str,
    start: datetime,
    as_of: datetime,
    workloads: Collection[str] | None = None,
    limits: LogFetchLimits = DEFAULT_LOG_LIMITS,
) -> FetchedLogs:
    """The logs of the namespace's pods over [start, as_of], attributed to `workloads` (default: the
    namespace's Deployments; a pod of none keeps its own name). Never raises a backend error: a
    failed listing is `reason`, a failed pod is in `skipped`."""
    try:
        pods = kube.list_pods(namespace)
        names = (
            list(workloads) if workloads is not None else [d.name for d in kube.list_deployments(namespace)]
        )
    except ToolError as exc:
        return FetchedLogs(reason=f"cannot list the pods of {namespace}: {exc}")
    out = FetchedLogs()
    if not pods:
        return out
    budget = max(1, min(limits.lines_per_pod, limits.total_lines // len(pods)))
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        logs = list(pool.map(lambda p: _read(kube, p, budget, start, as_of, limits), pods))
        cut = [i for i, log in enumerate(logs) if log.cut and log.error is None]
        left = limits.total_lines - sum(log.read for i, log in enumerate(logs) if i not in cut)
        tails = sum(max(1, len(pods[i].containers)) for i in cut)  # a tail is read per container
        more = min(limits.lines_per_pod, left // tails) if cut else 0
        if more > budget:
            again = pool.map(lambda i: _read(kube, pods[i], more, start, as_of, limits), cut)
            for i, log in zip(cut, again, strict=True):
                logs[i] = log
    for pod, log in zip(pods, logs, strict=True):
        service = owner_of(pod.name, names) or pod.name
        out.pod_service[pod.name] = service
        if log.error is not None:
            out.skipped[pod.name] = log.error
            continue
        restarted = any(c.restart_count > 0 for c in pod.containers)
        if log.lines and (log.cut or restarted):
            first = log.lines[0][0]
            out.covered_from[service] = max(out.covered_from.get(service, first), first)
        if log.cut:
            out.cut.append(pod.name)
        out.lines.extend(LogLine(service, when, message) for when, message in log.lines)
    out.lines.sort(key=lambda line: line.time)
    del out.lines[limits.total_lines :]
    return out


def _read(
    kube: KubeReader, pod: Pod, tail: int, start: datetime, as_of: datetime, limits: LogFetchLimits
) -> _PodLog:
    containers: list[str | None] = [c.name for c in pod.containers] if len(pod.containers) > 1 else [None]
    lines: list[tuple[float, str]] = []
    cut, count = False, 0
    for container in containers:
        try:
            raw = kube.read_pod_log(pod.namespace, pod.name, container, False, tail)
        except ToolError as exc:
            return _PodLog(pod.name, [], False, str(exc))
        read = raw.splitlines()
        cut, count = cut or len(read) >= tail, count + len(read)
        lines.extend(_timed(read, start, as_of, limits.max_line_chars))
    lines.sort(key=lambda line: line[0])
    return _PodLog(pod.name, lines, cut, read=count)


def _timed(raw: list[str], start: datetime, as_of: datetime, max_chars: int) -> list[tuple[float, str]]:
    """(unix seconds, redacted message) of the lines stamped within [start, as_of]; an unstamped
    line (the rest of a multi-line message) takes the time of the line before it."""
    out: list[tuple[float, str]] = []
    when: datetime | None = None
    for line in raw:
        match = _STAMPED.match(line)
        stamp = parse_timestamp(match.group(1)) if match else None
        if stamp is not None and match is not None:
            when, message = stamp, match.group(2)
        else:
            message = line
        if when is None or when < start or when > as_of:
            continue
        out.append((when.timestamp(), redact(message[:max_chars])))
    return out
