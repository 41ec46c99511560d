"""Tiny data sets in the published layouts of Sock Shop (RCD), PetShop and Nezha, written by the tests.

Each has one unmistakable fault, realistic noise and the quirks of the real layout: Sock Shop's normal
segment recorded days before (and once after) the fault; PetShop's three header rows, pandas'
index-name row and empty cells; Nezha's wrong `inject_timestamp`, UTC+8 times inside log lines,
minute files that hold the minute before their name, and a fault-free construct stretch.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np


def write_csv(path: Path, rows: Sequence[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


# --- Sock Shop (RCD): <service>-<cpu|mem>/<run>/{normal,anomalous}.csv, 1 s rows -------------------
SOCK_COLUMNS = [
    "web_cpu",
    "store_cpu",
    "store-db_cpu",
    "web_mem",
    "store_mem",
    "store-db_mem",
    "web_lod",
    "web_lat_50",
    "web_lat_99",
]


def _sock_rows(start: float, n: int, rng: np.random.Generator, fault: str | None) -> list[list[float]]:
    rows = []
    for i in range(n):
        base = {
            "web_cpu": 0.2,
            "store_cpu": 0.1,
            "store-db_cpu": 0.05,
            "web_mem": 2e8,
            "store_mem": 3e8,
            "store-db_mem": 5e8,
            "web_lod": 40.0,
            "web_lat_50": 0.01,
            "web_lat_99": 0.05,
        }
        values = {c: v * (1 + 0.03 * rng.standard_normal()) for c, v in base.items()}
        if fault == "store-mem":
            values["store_mem"] *= 1.0 + 0.01 * i  # a leak
        if fault == "web-cpu":
            values["web_cpu"] *= 4.0
        rows.append([start + i, *(values[c] for c in SOCK_COLUMNS)])
    return rows


def write_sockshop(root: Path) -> Path:
    """Two cases: `store-mem/1` (normal recorded two days before) and `web-cpu/1` (normal after)."""
    rng = np.random.default_rng(7)
    for folder, normal_at, fault_at in (
        ("store-mem", 1_650_000_000, 1_650_172_800),
        ("web-cpu", 1_650_400_000, 1_650_300_000),
    ):
        run = root / folder / "1"
        write_csv(run / "normal.csv", [["time", *SOCK_COLUMNS], *_sock_rows(normal_at, 200, rng, None)])
        write_csv(run / "anomalous.csv", [["time", *SOCK_COLUMNS], *_sock_rows(fault_at, 150, rng, folder)])
    return root


# --- PetShop: <scenario>/graph.csv, noissue/metrics.csv, <split>/issue_<n>/{metrics.csv,target.json} --
FRONT, SEARCH, DB = "Front", "Search_AWS::ECS::Fargate", "Items_AWS::DynamoDB::Table"
SEARCH_CLIENT, LB = "Search_client", "lb-search.example.com_remote"
PET_NODES = [FRONT, SEARCH, DB, SEARCH_CLIENT, LB]
PET_GRAPH = {FRONT: [SEARCH, LB], SEARCH: [DB], SEARCH_CLIENT: [SEARCH]}
PET_STATS = [("latency", "Average"), ("latency", "p99"), ("requests", "Sum"), ("availability", "Average")]
STEP = 300.0
ISSUE_T = 1_681_855_803.0  # the SLO violation; its window starts 483 s before (as the real issue_0)
HEALTHY_START = 1_692_608_400.0  # noissue was recorded months after the issues


def _pet_value(
    node: str, metric: str, statistic: str, rng: np.random.Generator, delay: float, errors: float
) -> str:
    if metric == "requests":
        return f"{300 * (1 + 0.05 * rng.standard_normal()):.1f}"
    if metric == "availability":
        hit = errors if node in (SEARCH, SEARCH_CLIENT, FRONT) else 0.0
        return f"{100.0 - hit:.3f}"
    base = {"Average": 0.03, "p99": 0.08}[statistic] * (1 + 0.05 * rng.standard_normal())
    slow = delay if node in (SEARCH, SEARCH_CLIENT, FRONT, LB) else 0.0
    return f"{base + slow:.5f}"


def _pet_table(
    path: Path,
    starts: Sequence[float],
    rng: np.random.Generator,
    delay_from: float | None,
    errors_from: float | None,
) -> None:
    columns = [(n, m, s) for n in PET_NODES for m, s in PET_STATS]
    rows: list[list[object]] = [
        ["microservice", *(c[0] for c in columns)],
        ["metric", *(c[1] for c in columns)],
        ["statistic", *(c[2] for c in columns)],
        ["unix_timestamp", *([""] * len(columns))],
    ]
    for k, start in enumerate(starts):
        delay = 1.0 if delay_from is not None and start + STEP > delay_from else 0.0
        errors = 2.0 if errors_from is not None and start + STEP > errors_from else 0.0
        cells = [_pet_value(n, m, s, rng, delay, errors) for n, m, s in columns]
        if k % 7 == 3:
            cells[columns.index((DB, "latency", "p99"))] = ""  # CloudWatch leaves periods empty
        rows.append([f"{start:.1f}", *cells])
    write_csv(path, rows)


def write_petshop(root: Path, healthy_rows: int = 300) -> Path:
    """`low/`: noissue, a latency issue in train and an availability issue in test; `temporal/`: one
    latency issue and no noissue."""
    rng = np.random.default_rng(11)
    for scenario, with_healthy in (("low", True), ("temporal", False)):
        folder = root / scenario
        nodes = PET_NODES
        write_csv(
            folder / "graph.csv",
            [
                ["", *nodes],
                *([n, *(1.0 if c in PET_GRAPH.get(n, []) else 0.0 for c in nodes)] for n in nodes),
            ],
        )
        if with_healthy:
            _pet_table(
                folder / "noissue" / "metrics.csv",
                [HEALTHY_START + STEP * i for i in range(healthy_rows)],
                rng,
                None,
                None,
            )
        issues = [("train", "issue_0", "latency", ISSUE_T)]
        if with_healthy:
            issues.append(("test", "issue_0", "availability", ISSUE_T + 2 * 86400))
        for split, name, metric, at in issues:
            issue = folder / split / name
            starts = [at - 483 + STEP * i for i in range(5)]
            _pet_table(
                issue / "metrics.csv",
                starts,
                rng,
                at if metric == "latency" else None,
                at if metric == "availability" else None,
            )
            target = {
                "target": {"node": FRONT, "metric": metric, "agg": "Average", "timestamp": int(at)},
                "root_cause": {"node": SEARCH, "metric": None},
                "metadata": {"reproducibility": {"command": "put-parameter --name '/x/searchdelay'"}},
            }
            (issue / "target.json").write_text(json.dumps(target))
    return root


# --- Nezha: rca_data/<day>/{<day>-fault_list.json, metric/, trace/, log/}, construct_data/<day>/ ---
NEZHA_DAY = "2031-05-06"
MIDNIGHT = datetime(2031, 5, 6, tzinfo=UTC)
GW, BEE, SEA = "gw-svc-5d8f9c7b6-a1b2c", "bee-svc-6c7d8e9f5-b2k4p", "sea-svc-7f9b8c6d4-m8n9q"
NEZHA_NODES = {GW: "10.0.0.1", BEE: "10.0.0.1", SEA: "10.0.0.2"}
BEE_FAULT = MIDNIGHT + timedelta(hours=9, minutes=20, seconds=30)  # bee: CPU contention
SEA_FAULT = MIDNIGHT + timedelta(hours=9, minutes=28, seconds=40)  # sea: exceptions (logs)
CONSTRUCT_MINUTE = MIDNIGHT + timedelta(hours=9, minutes=10)
OVERFLOWED_NS = -6795364578871345152
FIRST_ROW = MIDNIGHT + timedelta(hours=8, seconds=9)  # metric rows at :09 of every minute, 08:00 to 10:00
POD_COLUMNS = [
    "CpuUsage(m)",
    "CpuUsageRate(%)",
    "MemoryUsage(Mi)",
    "MemoryUsageRate(%)",
    "SyscallRead",
    "PodServerLatencyP99(s)",
    "PodClientLatencyP99(s)",
    "PodWorkload(Ops)",
    "PodSuccessRate(%)",
    "NodeCpuUsageRate(%)",
]


def _time_cell(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.123456789 +0000 UTC m=+1.5")


def _nezha_metrics(folder: Path, rng: np.random.Generator) -> None:
    times = [FIRST_ROW + timedelta(minutes=i) for i in range(121)]
    for pod in NEZHA_NODES:
        rows = []
        for t in times:
            hog = pod == BEE and BEE_FAULT < t < BEE_FAULT + timedelta(minutes=3, seconds=30)
            cpu = (480.0 if hog else 100.0) * (1 + 0.03 * rng.standard_normal())
            latency = 0.02 * (1 + 0.05 * rng.standard_normal())
            rows.append(
                [
                    _time_cell(t),
                    int(t.timestamp()),
                    pod,
                    cpu,
                    cpu / 5,
                    400.0,
                    20.0 + 0.1 * rng.standard_normal(),
                    120,
                    latency,
                    0.03,
                    1.5,
                    0,
                    40.0,
                ]
            )
        write_csv(folder / f"{pod}_metric.csv", [["Time", "TimeStamp", "PodName", *POD_COLUMNS], *rows])
    front = [[_time_cell(t), int(t.timestamp()), "Frontend", 0, 0.1, 0.3, 0.4, 0.5] for t in times]
    write_csv(
        folder / "front_service.csv",
        [
            [
                "Time",
                "TimeStamp",
                "ServiceName",
                "SuccessRate(%)",
                "LatencyP50(s)",
                "LatencyP90(s)",
                "LatencyP95(s)",
                "LatencyP99(s)",
            ],
            *front,
        ],
    )


def app_line(at: datetime, level: str, text: str) -> str:
    """A Java service's line: its own clock is UTC+8."""
    return f"{(at + timedelta(hours=8)).strftime('%H:%M:%S.%f')[:12]} {level}  c.e.Service#42 {text}\n"


def nezha_minute_files(folder: Path, minute: datetime, failing_from: datetime | None = None) -> None:
    """Spans and logs of the minute file named for `minute`: rows from 51 s before it to 8 s after."""
    name = minute.strftime("%H_%M")
    spans, logs = [], []
    for k, offset in enumerate(range(-51, 9, 3)):
        start = minute + timedelta(seconds=offset)
        ns = int(start.timestamp() * 1e9)
        trace = f"{int(minute.timestamp()):016x}{k:016x}"
        ids = [f"{int(minute.timestamp()) % 65536:04x}{k:04x}{i:08x}" for i in range(3)]
        for i, pod in enumerate((GW, BEE, SEA)):
            parent = "root" if i == 0 else ids[i - 1]
            spans.append(
                [trace, ids[i], parent, pod, f"GET /op{i}", ns + i * 1000, ns + 20_000_000 - i * 1000, 20000]
            )
            at_ns = ns + i * 1000 + 500
            at = datetime.fromtimestamp(at_ns / 1e9, UTC)
            broken = failing_from is not None and pod == SEA and at > failing_from
            text = app_line(
                at,
                "ERROR" if broken else "INFO",
                f"handled request {ids[i]}" + (" failed: boom" if broken else ""),
            )
            stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
            record = json.dumps({"log": text, "stream": "stdout", "time": stamp})
            stamped_ns = OVERFLOWED_NS if (k, i) == (0, 1) else at_ns  # a few published rows say year 1754
            logs.append([stamp, stamped_ns, NEZHA_NODES[pod], pod, "server", trace, ids[i], record])
    write_csv(
        folder / "trace" / f"{name}_trace.csv",
        [
            [
                "TraceID",
                "SpanID",
                "ParentID",
                "PodName",
                "OperationName",
                "StartTimeUnixNano",
                "EndTimeUnixNano",
                "Duration",
            ],
            *spans,
        ],
    )
    write_csv(
        folder / "log" / f"{name}_log.csv",
        [["Timestamp", "TimeUnixNano", "Node", "PodName", "Container", "TraceID", "SpanID", "Log"], *logs],
    )


def write_nezha(root: Path) -> Path:
    """One day, two faults (the fault list's `inject_timestamp` 8 h off, as published), a construct minute."""
    rng = np.random.default_rng(5)
    day = root / "rca_data" / NEZHA_DAY
    wrong = lambda t: str(int((t - timedelta(hours=8)).timestamp()))  # noqa: E731
    faults = {"09": [
        {"inject_time": BEE_FAULT.strftime("%Y-%m-%d %H:%M:%S"), "inject_timestamp": wrong(BEE_FAULT), "inject_pod": BEE, "inject_type": "cpu_contention"},
        {"inject_time": SEA_FAULT.strftime("%Y-%m-%d %H:%M:%S"), "inject_timestamp": wrong(SEA_FAULT), "inject_pod": SEA, "inject_type": "exception"},
    ]}  # fmt: skip
    day.mkdir(parents=True)
    (day / f"{NEZHA_DAY}-fault_list.json").write_text(json.dumps(faults))
    _nezha_metrics(day / "metric", rng)
    for fault in (BEE_FAULT, SEA_FAULT):
        first = fault.replace(second=0) + timedelta(minutes=1)
        for minute in (first, first + timedelta(minutes=1), first + timedelta(minutes=2)):
            nezha_minute_files(day, minute, failing_from=SEA_FAULT if fault == SEA_FAULT else None)
    construct = root / "construct_data" / NEZHA_DAY
    _nezha_metrics(construct / "metric", rng)
    nezha_minute_files(construct, CONSTRUCT_MINUTE)
    return root
