"""Nezha's log lines keep the span they were written in, so a request's statements can be told from its
spans: the failing service's requests stop writing their usual statement, and only its row says so."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from evals.bench.rca.case_model import ALL_SOURCES
from evals.bench.rca.cases_nezha import nezha_cases
from evals.bench.rca.nezha_minutes import read_logs
from tests.evals.bench.rca_fixtures import NEZHA_DAY, SEA_FAULT, write_csv, write_nezha

HEADER = ["Timestamp", "TimeUnixNano", "Node", "PodName", "Container", "TraceID", "SpanID", "Log"]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_nezha(tmp_path_factory.mktemp("nezha"))


def test_each_line_keeps_its_span_id_from_the_column(root: Path) -> None:
    minute = (SEA_FAULT.replace(second=0) + timedelta(minutes=1)).strftime("%H_%M")
    logs = read_logs(root / "rca_data" / NEZHA_DAY / "log" / f"{minute}_log.csv")
    assert len(logs.span_ids) == len(logs.lines)
    # the fixture's lines say "handled request <their span id>"
    assert all(
        message.endswith(span_id)
        for (_, _, message), span_id in zip(logs.lines, logs.span_ids, strict=True)
        if "failed" not in message
    )


def test_an_empty_span_column_falls_back_to_the_id_the_text_names(tmp_path: Path) -> None:
    text = "18:11:32.395 INFO  v.c.VerifyCodeController#54 TraceID: {t} SpanID: {s} [verifyCode]\n"
    trace, span = "b6a787e7e012bccec69372d757581aef", "501b606205ce49f9"
    rows = [
        ["2023-01-29T10:11:32.395Z", 1674987092395824771, "n", "vc-svc-7b6dc75c45-2z9p2", "server", "", "",
         json.dumps({"log": text.format(t=trace, s=span)})],
        ["2023-01-29T10:11:33.395Z", 1674987093395824771, "n", "vc-svc-7b6dc75c45-2z9p2", "server", "", "",
         json.dumps({"log": "18:11:33.395 INFO  v.c.Scheduler#9 [cleanup]\n"})],
    ]  # fmt: skip
    path = tmp_path / "10_12_log.csv"
    write_csv(path, [HEADER, *rows])
    assert read_logs(path).span_ids == (span, "")


def test_the_failing_service_alone_stops_writing_its_usual_statement(root: Path) -> None:
    sea = next(case for case in nezha_cases(root) if case.cause == "sea-svc")
    window = sea.load(frozenset(ALL_SOURCES))
    statements = {
        k.entity: window.matrix.values[i]
        for i, k in enumerate(window.matrix.keys)
        if k.signal.startswith("trace_log_statements")
    }
    assert set(statements) == {"gw-svc", "bee-svc", "sea-svc"}  # each writes one statement per request
    times = window.matrix.times
    before, after = times <= SEA_FAULT.timestamp(), times >= SEA_FAULT.timestamp() + 60
    row = statements["sea-svc"]
    assert np.nanmin(row[before]) == 1.0 and np.nanmax(row[after]) == 0.0  # it logs an error instead
    assert all(np.nanmin(statements[s][after]) == 1.0 for s in ("gw-svc", "bee-svc"))
