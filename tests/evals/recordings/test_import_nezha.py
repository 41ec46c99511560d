"""`medic import nezha`: a tiny day in Nezha's published layout (three pods, two labelled faults, a
fault-free stretch) becomes one recording per fault, with the alert a real rule would have raised."""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from evals.recordings.importers.nezha import import_nezha
from evals.recordings.manifest import load_manifest
from evals.sandbox.prometheus import find_binary
from evals.sandbox.sandbox import SandboxConfig, down_all, up
from tools.traces.backend import Span
from tools.traces.otlp_json import decode_request

DAY = "2031-05-06"
MIDNIGHT = datetime(2031, 5, 6, tzinfo=UTC)
GW, BEE, SEA = "gw-svc-5d8f9c7b6-a1b2c", "bee-svc-6c7d8e9f5-b2k4p", "sea-svc-7f9b8c6d4-m8n9q"
NODES = {GW: "10.0.0.1", BEE: "10.0.0.1", SEA: "10.0.0.2"}
CPU_FAULT = MIDNIGHT + timedelta(hours=9, minutes=20, seconds=30)  # bee: CPU, and the entry slows
ERROR_FAULT = MIDNIGHT + timedelta(hours=9, minutes=28, seconds=40)  # sea: exceptions, entry unchanged
FIRST_ROW = MIDNIGHT + timedelta(hours=8, seconds=9)  # metric rows at :09 of every minute, 08:00 to 10:00
POD_COLUMNS = ["CpuUsage(m)", "CpuUsageRate(%)", "MemoryUsage(Mi)", "MemoryUsageRate(%)", "SyscallRead",
               "PodServerLatencyP99(s)", "PodClientLatencyP99(s)", "PodWorkload(Ops)", "PodSuccessRate(%)",
               "NodeCpuUsageRate(%)"]  # fmt: skip
SAMPLE = re.compile(r"^(\w+)\{(.*)\} (\S+) (\S+)$")


def _in_cpu_fault(t: datetime) -> bool:
    return CPU_FAULT < t < CPU_FAULT + timedelta(minutes=3, seconds=30)


def _write_csv(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])


def _time_cell(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.123456789 +0000 UTC m=+1.5")


def _metrics(folder: Path) -> None:
    times = [FIRST_ROW + timedelta(minutes=i) for i in range(121)]
    for pod in NODES:
        rows = []
        for t in times:
            cpu = 480.0 if pod == BEE and _in_cpu_fault(t) else 100.0
            rows.append(
                [
                    _time_cell(t),
                    int(t.timestamp()),
                    pod,
                    cpu,
                    cpu / 5,
                    400.0,
                    20.0,
                    120,
                    0.02,
                    0.03,
                    1.5,
                    0,
                    40.0,
                ]
            )
        _write_csv(folder / f"{pod}_metric.csv", ["Time", "TimeStamp", "PodName", *POD_COLUMNS], rows)
    front = [[_time_cell(t), int(t.timestamp()), "Frontend", 0, 0.1, 0.3, 0.4, 2.0 if _in_cpu_fault(t) else 0.5 + t.minute % 3 / 100] for t in times]  # fmt: skip
    _write_csv(folder / "front_service.csv", ["Time", "TimeStamp", "ServiceName", "SuccessRate(%)", "LatencyP50(s)", "LatencyP90(s)", "LatencyP95(s)", "LatencyP99(s)"], front)  # fmt: skip


def _minute_files(folder: Path, minute: datetime) -> None:
    """Spans and logs of the minute file named for `minute`: rows from 51 s before it to 8 s after."""
    name = minute.strftime("%H_%M")
    spans, logs, traces = [], [], []
    for k, offset in enumerate((-51, -41, -31, -21, -11, -1, 8)):
        start = minute + timedelta(seconds=offset)
        ns = int(start.timestamp() * 1e9)
        trace = f"{int(minute.timestamp()):016x}{k:016x}"
        ids = [f"{int(minute.timestamp()) % 65536:04x}{k:04x}{i:08x}" for i in range(3)]
        traces.append([trace])
        for i, pod in enumerate((GW, BEE, SEA)):
            parent = "root" if i == 0 else ids[i - 1]
            spans.append(
                [trace, ids[i], parent, pod, f"GET /op{i}", ns + i * 1000, ns + 20_000_000 - i * 1000, 20000]
            )
            at = ns + i * 1000 + 500
            failing = pod == SEA and start > ERROR_FAULT
            text = f"{'ERROR' if failing else 'INFO'} handled request {ids[i]}" + (
                " (boom)" if failing else ""
            )
            stamp = datetime.fromtimestamp(at / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
            record = json.dumps({"log": f"local-time {text}\n", "stream": "stdout", "time": stamp})
            logs.append([stamp, at, NODES[pod], pod, "server", trace, ids[i], record])
    _write_csv(folder / "trace" / f"{name}_trace.csv", ["TraceID", "SpanID", "ParentID", "PodName", "OperationName", "StartTimeUnixNano", "EndTimeUnixNano", "Duration"], spans)  # fmt: skip
    _write_csv(folder / "log" / f"{name}_log.csv", ["Timestamp", "TimeUnixNano", "Node", "PodName", "Container", "TraceID", "SpanID", "Log"], logs)  # fmt: skip
    _write_csv(folder / "traceid" / f"{name}_traceid.csv", ["TraceID"], traces)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("nezha")
    day = root / "rca_data" / DAY
    faults = {"09": [
        {"inject_time": CPU_FAULT.strftime("%Y-%m-%d %H:%M:%S"), "inject_timestamp": "0", "inject_pod": BEE, "inject_type": "cpu_contention"},
        {"inject_time": ERROR_FAULT.strftime("%Y-%m-%d %H:%M:%S"), "inject_timestamp": "0", "inject_pod": SEA, "inject_type": "exception"},
    ]}  # fmt: skip
    day.mkdir(parents=True)
    (day / f"{DAY}-fault_list.json").write_text(json.dumps(faults))
    _metrics(day / "metric")
    for fault in (CPU_FAULT, ERROR_FAULT):
        first = fault.replace(second=0) + timedelta(minutes=1)
        for minute in (first, first + timedelta(minutes=1), first + timedelta(minutes=2)):
            _minute_files(day, minute)
    _minute_files(root / "construct_data" / DAY, MIDNIGHT + timedelta(hours=9, minutes=10))  # fault-free
    _metrics(root / "construct_data" / DAY / "metric")
    return {r.id: r.folder for r in import_nezha(root, tmp_path_factory.mktemp("out"))}


def _cpu(recordings: dict[str, Path]) -> Path:
    return recordings["nezha-2031-05-06-092030"]


def _errors(recordings: dict[str, Path]) -> Path:
    return recordings["nezha-2031-05-06-092840"]


def _samples(folder: Path) -> list[tuple[str, dict[str, str], float, float]]:
    found = []
    for line in (folder / "metrics" / "nezha.om").read_text().splitlines():
        if (match := SAMPLE.match(line)) is not None:
            found.append(
                (match[1], dict(re.findall(r'(\w+)="([^"]*)"', match[2])), float(match[3]), float(match[4]))
            )
    return found


def _spans(folder: Path) -> list[Span]:
    lines = (folder / "spans" / "nezha.jsonl").read_text().splitlines()
    return [span for line in lines for span in decode_request(json.loads(line))]


def _log_times(folder: Path) -> list[datetime]:
    return [datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))
            for path in (folder / "logs").glob("*.log") for line in path.read_text().splitlines()]  # fmt: skip


def test_one_recording_per_labelled_fault_with_the_label_as_expect(recordings: dict[str, Path]) -> None:
    assert sorted(recordings) == ["nezha-2031-05-06-092030", "nezha-2031-05-06-092840"]
    cpu, errors = load_manifest(_cpu(recordings)), load_manifest(_errors(recordings))
    assert cpu.expect is not None and errors.expect is not None
    assert (cpu.expect.root_cause.service, cpu.expect.root_cause.kind) == ("bee-svc", "cpu_hog")
    assert (errors.expect.root_cause.service, errors.expect.root_cause.kind) == ("sea-svc", None)
    assert cpu.expect.remediation == [] and any(f.target == "kube-system/*" for f in cpu.expect.forbidden)
    assert cpu.services["gw-svc"].calls == ["bee-svc"] and cpu.services["bee-svc"].calls == ["sea-svc"]
    assert cpu.nodes == ["10.0.0.1", "10.0.0.2"] and cpu.namespace == "train-ticket"


def test_the_alert_fires_where_the_entry_rule_first_holds_for_two_samples(
    recordings: dict[str, Path],
) -> None:
    manifest = load_manifest(_cpu(recordings))
    second_slow_sample = MIDNIGHT + timedelta(hours=9, minutes=22, seconds=9, microseconds=123456)
    assert manifest.alert is not None and manifest.question is None
    assert manifest.alert.labels["alertname"] == "EntryLatencyHigh"
    assert manifest.alert.labels["service"] == "gw-svc"  # the service owning the root spans
    assert manifest.as_of == manifest.alert.starts_at == second_slow_sample


def test_where_no_rule_fires_a_question_is_asked_where_the_faults_data_ends(
    recordings: dict[str, Path],
) -> None:
    manifest = load_manifest(_errors(recordings))
    assert manifest.alert is None and manifest.question is not None and "sea-svc" not in manifest.question
    last_row = MIDNIGHT + timedelta(hours=9, minutes=31, seconds=8)  # the third minute file's last span
    assert manifest.as_of == last_row + timedelta(seconds=1)
    assert "question is asked" in manifest.provenance.notes


def test_nothing_after_as_of_and_nothing_of_earlier_faults(recordings: dict[str, Path]) -> None:
    for folder in recordings.values():
        as_of = load_manifest(folder).as_of
        assert max(t for *_, t in _samples(folder)) <= as_of.timestamp()
        assert max(s.end_ns for s in _spans(folder)) <= as_of.timestamp() * 1e9
        assert max(_log_times(folder)) <= as_of
    folder = _errors(recordings)
    lo, hi = CPU_FAULT.timestamp(), CPU_FAULT.timestamp() + 300
    inside = [(v, t) for _, _, v, t in _samples(folder) if lo <= t < hi]
    assert inside and all(math.isnan(v) and t == lo for v, t in inside)  # only where the series go stale
    assert not [s for s in _spans(folder) if lo <= s.end_ns / 1e9 < hi]
    assert not [t for t in _log_times(folder) if lo <= t.timestamp() < hi]
    assert [t for *_, t in _samples(folder) if t < lo] and [t for *_, t in _samples(folder) if hi <= t < ERROR_FAULT.timestamp()]  # fmt: skip


def test_spans_are_otlp_with_services_pods_and_parents(recordings: dict[str, Path]) -> None:
    spans = _spans(_cpu(recordings))
    assert {s.service for s in spans} == {"gw-svc", "bee-svc", "sea-svc"}
    by_id = {s.span_id: s for s in spans}
    edges = [(by_id[s.parent_span_id].service, s.service) for s in spans if s.parent_span_id is not None]
    assert sorted(set(edges)) == [("bee-svc", "sea-svc"), ("gw-svc", "bee-svc")]
    assert not any(s.error for s in spans)  # the data has no status codes
    fault_free = MIDNIGHT + timedelta(hours=9, minutes=9, seconds=9)
    assert any(s.start_ns <= fault_free.timestamp() * 1e9 for s in spans)
    first = json.loads((_cpu(recordings) / "spans" / "nezha.jsonl").read_text().splitlines()[0])
    keys = {a["key"] for a in first["resourceSpans"][0]["resource"]["attributes"]}
    assert {"service.name", "k8s.pod.name", "k8s.node.name"} <= keys


def test_logs_per_pod_in_time_order_as_kubectl_prints_them(recordings: dict[str, Path]) -> None:
    folder = _errors(recordings)
    assert sorted(p.name for p in (folder / "logs").iterdir()) == sorted(f"{p}.log" for p in NODES)
    lines = (folder / "logs" / f"{SEA}.log").read_text().splitlines()
    stamps = [line.split(" ", 1)[0] for line in lines]
    assert stamps == sorted(stamps) and all(s.endswith("Z") for s in stamps)
    assert (
        lines[-1].split(" ", 1)[1].startswith("local-time ERROR handled request")
    )  # the app's line, not JSON


def test_kube_objects_say_only_what_the_data_says(recordings: dict[str, Path]) -> None:
    folder = _cpu(recordings)
    assert sorted(p.name for p in (folder / "kube").iterdir()) == ["nodes.json", "pods.json"]
    pods = {
        p["metadata"]["name"]: p for p in json.loads((folder / "kube" / "pods.json").read_text())["items"]
    }
    assert sorted(pods) == sorted(NODES)
    bee = pods[BEE]
    assert bee["spec"]["nodeName"] == "10.0.0.1" and bee["status"] == {"phase": "Running"}
    assert bee["spec"]["containers"] == [
        {"name": "server", "resources": {"limits": {"cpu": "500m", "memory": "2000Mi"}}}
    ]
    assert "ownerReferences" not in bee["metadata"] and "labels" not in bee["metadata"]


def test_metrics_in_the_gauge_convention_and_a_cpu_counter(recordings: dict[str, Path]) -> None:
    samples = _samples(_cpu(recordings))
    names = {n for n, *_ in samples}
    assert {"request_latency_seconds", "requests_per_second", "container_cpu_usage_seconds_total"} <= names
    assert "request_success_ratio" not in names  # 0 throughout: not reported, so not written as failures
    cpu = sorted(
        (t, v)
        for n, labels, v, t in samples
        if n == "container_cpu_usage_seconds_total" and labels["pod"] == BEE
    )
    rates = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(cpu)]
    assert min(rates) == pytest.approx(0.1) and max(rates) == pytest.approx(0.48)  # cores, as the data says
    entry = [v for n, labels, v, _ in samples if n == "request_latency_seconds" and "pod" not in labels]
    assert entry[-1] == 2.0


def test_metrics_backfill_into_a_tsdb_sample_for_sample(recordings: dict[str, Path], tmp_path: Path) -> None:
    folder = _errors(recordings)
    om = folder / "metrics" / "nezha.om"
    subprocess.run(
        [find_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", "-q", str(om), str(tmp_path / "tsdb")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    metas = [json.loads(p.read_text()) for p in (tmp_path / "tsdb").glob("*/meta.json")]
    assert sum(m["stats"]["numSamples"] for m in metas) == len(_samples(folder)) > 0


@pytest.mark.sandbox
def test_a_left_out_stretch_reads_as_no_value_not_the_last_sample_before_it(
    recordings: dict[str, Path], tmp_path: Path
) -> None:
    # Prometheus reads a gauge's last sample for five minutes after it; a left-out fault window must
    # read as missing, as a scrape that stopped does, not as the sample taken just before the fault.
    config = SandboxConfig(state_dir=tmp_path / "state", start_timeout_s=90)
    info = up(_errors(recordings), config)
    try:

        def reading(at: datetime) -> list[float]:
            query = f'requests_per_second{{pod="{BEE}"}}'
            found = httpx.get(
                f"{info.prometheus_url}/api/v1/query", params={"query": query, "time": at.timestamp()}
            ).json()["data"]["result"]
            return [float(r["value"][1]) for r in found]

        assert reading(CPU_FAULT - timedelta(seconds=20)) == [1.5]
        inside = reading(CPU_FAULT + timedelta(minutes=2))
        assert not inside or all(math.isnan(v) for v in inside), inside
        assert reading(CPU_FAULT + timedelta(minutes=6)) == [1.5]  # measured again after the window
    finally:
        down_all(config)
