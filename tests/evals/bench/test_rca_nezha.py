"""Nezha cases from the published layout: injection read from `inject_time`, earlier faults blanked,
metric columns in the tool's vocabulary, spans and log lines handed to the builders as they take them,
trace and log rows joined on the metrics' grid, and healthy windows clear of every fault."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from evals.bench.rca.case_model import ALL_SOURCES, CaseWindow, Source
from evals.bench.rca.cases_nezha import FAULT_WINDOW_S, nezha_cases, nezha_healthy
from evals.bench.rca.methods import METHODS
from evals.bench.rca.nezha_minutes import read_logs, read_spans
from tests.evals.bench.rca_fixtures import BEE_FAULT, NEZHA_DAY, SEA_FAULT, write_nezha

METRICS: frozenset[Source] = frozenset({"metrics"})
EVERYTHING: frozenset[Source] = frozenset(ALL_SOURCES)


def _row(window: CaseWindow, signal: str) -> np.ndarray:
    """The first row of `signal` in the window's matrix."""
    return next(window.matrix.values[i] for i, k in enumerate(window.matrix.keys) if k.signal == signal)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_nezha(tmp_path_factory.mktemp("nezha"))


def test_faults_come_from_inject_time_read_as_utc_not_the_wrong_timestamp(root: Path) -> None:
    cases = list(nezha_cases(root))
    assert [(c.name, c.cause, c.fault) for c in cases] == [
        (f"{NEZHA_DAY}/092030-bee-svc", "bee-svc", "cpu_contention"),
        (f"{NEZHA_DAY}/092840-sea-svc", "sea-svc", "exception"),
    ]
    window = cases[0].load(METRICS)
    assert window.injected == BEE_FAULT.timestamp()
    assert window.injected < window.latest <= window.injected + FAULT_WINDOW_S


def test_metric_columns_carry_the_shipped_signal_names_on_the_tools_grid(root: Path) -> None:
    window = next(iter(nezha_cases(root))).load(METRICS)
    kinds = {(k.entity, k.signal): k.kind for k in window.matrix.keys}
    assert (
        kinds[("bee-svc", "latency_p99")] == "latency"
        and kinds[("bee-svc", "outbound_latency_p99")] == "latency"
    )
    assert (
        kinds[("bee-svc", "cpu_per_request")] == "resource"
        and kinds[("bee-svc", "memory_vs_limit")] == "resource"
    )
    assert kinds[("bee-svc", "request_rate")] == "traffic" and ("bee-svc", "syscall_read") in kinds
    assert ("bee-svc", "error_ratio") not in kinds  # the success rate is 0 throughout: not reported
    assert not any(k.signal.startswith("node") for k in window.matrix.keys)
    # the metrics alone: a point per sample (a row a minute), as the tool ranks them
    assert np.all(np.diff(window.matrix.times) == 60.0) and window.matrix.times[-1] <= window.latest
    memory = _row(window, "memory_vs_limit")
    assert np.isfinite(memory).all() and len(set(memory[:8].tolist())) == 8
    per_request = next(
        window.matrix.values[i]
        for i, k in enumerate(window.matrix.keys)
        if k.signal == "cpu_per_request" and k.entity == "bee-svc"
    )
    assert per_request[0] == pytest.approx(0.1 / 1.5, rel=0.1)  # 100 millicores at 1.5 ops/s
    assert {k.source for k in window.matrix.keys} == {"metrics"}
    assert window.calls == {
        "gw-svc": ["bee-svc"],
        "bee-svc": ["sea-svc"],
    }  # from the spans, even metrics-only


def test_an_earlier_faults_window_is_blank_in_every_row(root: Path) -> None:
    window = list(nezha_cases(root))[1].load(EVERYTHING)
    times = window.matrix.times
    inside = (times > BEE_FAULT.timestamp()) & (times - 15 < BEE_FAULT.timestamp() + FAULT_WINDOW_S)
    assert inside.sum() == 20  # the 15-s points of the 300 s after the injection
    assert np.isnan(window.matrix.values[:, inside]).all()
    metrics = [i for i, k in enumerate(window.matrix.keys) if k.source == "metrics"]
    # elsewhere the rows are there, but for the points before the first sample taken after the blank
    after = times > BEE_FAULT.timestamp() + FAULT_WINDOW_S + 60
    outside = (times <= BEE_FAULT.timestamp()) | after
    assert np.isfinite(window.matrix.values[metrics][:, outside]).any(axis=0).all()


def test_trace_and_log_rows_join_the_metrics_on_one_grid_with_unread_minutes_missing(root: Path) -> None:
    window = list(nezha_cases(root))[1].load(EVERYTHING)
    sources = {k.source for k in window.matrix.keys}
    assert sources == {"metrics", "traces", "logs"}
    logs = [i for i, k in enumerate(window.matrix.keys) if k.source == "logs" and k.entity == "sea-svc"]
    assert logs
    read = np.asarray(np.isfinite(window.matrix.values[logs]).any(axis=0), dtype=bool)
    # lines exist only in the fault's minute files (and the construct minute): elsewhere not read, not zero
    assert read[window.matrix.times > SEA_FAULT.timestamp()].any()
    assert not read[window.matrix.times < BEE_FAULT.timestamp() - 15 * 60].any()
    assert window.reference is not None and {k.source for k in window.reference.keys} == {"traces", "logs"}
    # spans and logs counted per 15 s, as the tool counts them when they join; a metric row a minute
    # holds its 4 points
    assert np.all(np.diff(window.matrix.times) == 15.0)
    memory = _row(window, "memory_vs_limit")
    assert len(set(memory[:8].tolist())) == 2


def test_spans_and_log_lines_are_what_the_builders_take(root: Path) -> None:
    day = root / "rca_data" / NEZHA_DAY
    minute = (SEA_FAULT.replace(second=0) + timedelta(minutes=1)).strftime("%H_%M")
    spans = read_spans(day / "trace" / f"{minute}_trace.csv").spans
    roots = [s for s in spans if s.parent_span_id is None]
    assert roots and all(s.service == "gw-svc" for s in roots)  # `root` parent → none; pod → workload
    assert {s.service for s in spans} == {"gw-svc", "bee-svc", "sea-svc"}
    assert all(len(s.trace_id) == 32 and len(s.span_id) == 16 for s in spans)
    logs = read_logs(day / "log" / f"{minute}_log.csv")
    service, at, message = next(line for line in logs.lines if line[0] == "sea-svc" and "ERROR" in line[2])
    assert service == "sea-svc" and "ERROR" in message and not message.endswith("\n")
    # the time is the runtime's UTC stamp; the UTC+8 clock inside the message is left as text
    assert SEA_FAULT.timestamp() < at < SEA_FAULT.timestamp() + 180
    local = (SEA_FAULT + timedelta(hours=8)).strftime("%H:")
    assert message.startswith(local)
    assert logs.first <= at <= logs.last
    # the row whose TimeUnixNano overflowed is read at its Timestamp, so it does not stretch the coverage
    assert SEA_FAULT.timestamp() - 60 < logs.first < SEA_FAULT.timestamp()
    assert len(logs.lines) == 60


def test_metrics_only_has_no_trace_or_log_rows(root: Path) -> None:
    window = list(nezha_cases(root))[1].load(METRICS)
    assert {k.source for k in window.matrix.keys} == {"metrics"} and window.reference is None


def test_healthy_windows_lie_clear_of_every_fault(root: Path) -> None:
    healthy = list(nezha_healthy(root))
    assert healthy and all(c.healthy for c in healthy)
    faults = [BEE_FAULT.timestamp(), SEA_FAULT.timestamp()]
    for case in healthy:
        onset = float(case.name.rsplit("-", 1)[1])
        assert all(
            not (t - 600 < onset + FAULT_WINDOW_S and onset < t + 2 * FAULT_WINDOW_S + 600) for t in faults
        )
    window = healthy[0].load(METRICS)
    assert window.latest == window.injected + FAULT_WINDOW_S
    # asked for every source where the lookback holds no span and no line: the metrics alone, a point
    # per sample, as the tool ranks them
    everything = healthy[0].load(EVERYTHING)
    assert {k.source for k in everything.matrix.keys} == {"metrics"}
    assert np.all(np.diff(everything.matrix.times) == 60.0)


def test_the_cpu_hog_is_ranked_first(root: Path) -> None:
    window = next(iter(nezha_cases(root))).load(METRICS)
    assert METHODS["medic-given"](window).ranked[0] == "bee-svc"
