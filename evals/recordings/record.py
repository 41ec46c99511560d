"""Recording an investigation (`medic investigate --record DIR`, `medic triage --record DIR`).

A `Recorder` wraps the ToolContext's backends (`open_agent(config, wrap=recorder.wrap)`): each wrapper
forwards every call unchanged and remembers what was read, so no tool knows it is being recorded.
`write` then makes the recording (evals/recordings/manifest.py): the raw samples of every series a
query selected over [earliest window start, as_of], the spans of every trace read, pod logs and
Kubernetes objects as read, secrets redacted as the tools redact them, and a manifest.

    with open_recorder(folder, config.tools) as recorder:  # None when folder is None
        with open_agent(config, wrap=recorder.wrap if recorder else None) as agent:
            values = agent.run(...)
        stats = recorder.write(folder, manifest)
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from pydantic import BaseModel

from evals.recordings.manifest import Manifest, RecordingError, write_manifest
from evals.recordings.record_kube import KubeCapture, RawKube, RecordingKube
from evals.recordings.record_kube_files import Redactor, write_logs, write_objects
from evals.recordings.record_metrics import MetricsLog, RecordingMetrics
from evals.recordings.record_prometheus import fetch_series, write_openmetrics
from evals.recordings.record_traces import RecordingTraces, TraceCapture, write_spans
from tools.backends import kube_api_client
from tools.config import ToolsConfig
from tools.context import ToolContext

METRICS_FILE = "metrics/recorded.om"
SPANS_FILE = "spans/recorded.jsonl"
FETCH_TIMEOUT_S = 60.0  # the raw samples of a long window are a bigger answer than any tool's query


class RecordingStats(BaseModel):
    """What a recording holds and what writing it cost (the investigation's own time excluded)."""

    folder: Path
    queries: int
    selectors: int
    series: int
    samples: int
    spans: int
    logs: int
    objects: dict[str, int]
    bytes: int
    write_s: float
    problems: list[str]


class Recorder:
    """Captures what an investigation reads through the backends `wrap` replaces."""

    def __init__(self, tools: ToolsConfig) -> None:
        self.tools = tools
        self.metrics = MetricsLog()
        self.kube = KubeCapture()
        self.traces = TraceCapture()
        self._api = kube_api_client(tools)  # its own client: raw JSON reads, closed by `close`
        self._raw = RawKube(self._api, tools.timeout_s) if self._api is not None else None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._api is not None:
            self._api.close()

    def wrap(self, ctx: ToolContext) -> ToolContext:
        """`ctx` with every configured backend wrapped by its recording twin."""
        return dataclasses.replace(
            ctx,
            metrics=RecordingMetrics(ctx.metrics, self.metrics) if ctx.metrics is not None else None,
            kube=RecordingKube(ctx.kube, self._raw, self.kube) if ctx.kube is not None else None,
            traces=RecordingTraces(ctx.traces, self.traces) if ctx.traces is not None else None,
        )

    def namespaces(self) -> Counter[str]:
        """Namespaces of the objects read, by how many objects each."""
        return Counter(ns for (_, ns, _) in self.kube.objects if ns)

    def write(self, folder: Path, manifest: Manifest) -> RecordingStats:
        """Fetch the raw samples, write every part and the manifest into `folder` (empty or new)."""
        started = time.perf_counter()
        check_destination(folder)
        as_of = manifest.as_of
        series = samples = 0
        if self.metrics.starts and self.tools.prometheus_url:
            found = fetch_series(self.tools.prometheus_url, self.metrics.starts, as_of, FETCH_TIMEOUT_S)
            series, samples = len(found.series), found.count
            if found.series:
                write_openmetrics(found, folder / METRICS_FILE)
        traces = self.traces.traces(as_of)
        spans = write_spans(traces, folder / SPANS_FILE) if traces else 0
        objects = write_objects(self.kube, folder, Redactor())
        logs = write_logs(self.kube, folder, as_of)
        problems = self.metrics.problems + self.kube.problems
        if problems:  # the manifest says what a replay will miss
            notes = f"{manifest.provenance.notes} " if manifest.provenance.notes else ""
            notes += "not recorded: " + "; ".join(problems)
            provenance = manifest.provenance.model_copy(update={"notes": notes})
            manifest = manifest.model_copy(update={"provenance": provenance})
        write_manifest(folder, manifest)
        return RecordingStats(
            folder=folder,
            queries=self.metrics.queries,
            selectors=len(self.metrics.starts),
            series=series,
            samples=samples,
            spans=spans,
            logs=logs,
            objects=objects,
            bytes=sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
            write_s=time.perf_counter() - started,
            problems=problems,
        )


def check_destination(folder: Path) -> None:
    """Refuse a folder that already holds files: a recording is never merged into another."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise RecordingError(f"{folder}: exists and is not an empty folder; record into a new one")


@contextlib.contextmanager
def open_recorder(folder: Path | None, tools: ToolsConfig) -> Iterator[Recorder | None]:
    """A Recorder when `folder` is given (checked to be new or empty before anything runs), else None."""
    if folder is None:
        yield None
        return
    check_destination(folder)
    with Recorder(tools) as recorder:
        yield recorder


def describe(stats: RecordingStats) -> str:
    """One line for a person: where the recording is, what it holds, what it cost."""
    objects = sum(stats.objects.values())
    line = (
        f"recording: {stats.folder} ({stats.series} series, {stats.samples} samples, {stats.spans} spans, "
        f"{stats.logs} logs, {objects} objects; {stats.bytes / 1e6:.1f} MB, written in {stats.write_s:.1f}s)"
    )
    return line + (
        f"; not recorded: {len(stats.problems)} reads (see its manifest)" if stats.problems else ""
    )
