"""The 50 Sock Shop fault cases (azamikram/rcd data) in the common case model.

Layout: `<service>-<cpu|mem>/<run>/{normal,anomalous}.csv`, columns `time` (unix seconds, 1 s rows)
then `<service>_<metric>`. A case is the normal segment followed by the anomalous one; the injection
is the first anomalous timestamp. The two files are not contiguous (hours or days apart), and in one case
(`orders-mem/5`) the normal segment was recorded *after* the fault: every normal segment is re-based
to end one step before the injection, as if recorded just before it, so that "baseline = before the
injection" holds for every method and an onset search does not walk through days of nothing. Nothing
fires an alert in this data, so `latest` is the end of the anomalous segment.

Columns in the shipped tool's vocabulary (`tools/anomaly/incident_rank.py` RANKED_SIGNALS), where
the column means the same thing:
- `lat_99` → `latency_p99`; `lat_50`, `lat_90` → `latency_p50`, `latency_p90` (latency, not ranked);
- `lod` (requests per second) → `request_rate` (traffic, not ranked);
- `mem` (working set) → `memory_vs_limit` and `cpu` → `cpu_vs_limit`: the limits are not recorded and
  are constant over a case, and a series' robust score does not change when divided by a constant;
- and, as the tool's fetch derives it (`tools.anomaly.signals.cpu_per_request`, the load floored at its
  median), `cpu_per_request` for the services that report a load (three of them; the load of the two segments often differs, as they were recorded at
  different times).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np

from evals.bench.rca.case_model import CaseWindow, FloatArray, RcaCase, Source, matrix_from_rows
from evals.topology import load_shipped
from tools.anomaly.rank import SeriesKey, SignalKind, SignalMatrix
from tools.anomaly.signals import cpu_per_request, metric_key

FAULT_TYPES = ("cpu", "mem")
# What the data set's column suffixes measure, in the shipped tool's names (see the docstring).
COLUMN_SIGNALS: dict[str, tuple[str, SignalKind]] = {
    "mem": ("memory_vs_limit", "resource"),
    "lod": ("request_rate", "traffic"),
    "lat_50": ("latency_p50", "latency"),
    "lat_90": ("latency_p90", "latency"),
    "lat_99": ("latency_p99", "latency"),
    "cpu": ("cpu_vs_limit", "resource"),
}
LAYOUT = "<service>-<cpu|mem>/<run>/{normal,anomalous}.csv (the sockshop-rcd data set)"


def sock_shop_calls() -> dict[str, list[str]]:
    """Caller -> callees of the shipped Sock Shop topology (the same services as the data set)."""
    return {name: list(spec.calls) for name, spec in load_shipped("sock-shop").services.items()}


def _read_csv(path: Path) -> tuple[list[str], FloatArray, FloatArray]:
    with path.open(newline="") as handle:
        header = next(csv.reader(handle))
    if not header or header[0] != "time":
        raise ValueError(f"{path}: expected a first column named 'time', got {header[:1]}")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return header[1:], table[:, 0], table[:, 1:]


def raw_matrix(case_dir: Path) -> tuple[SignalMatrix, float, bool]:
    """The case's own columns (entity = the service prefix, signal = the rest), the injection time, and
    whether the normal segment was recorded after the fault."""
    normal_cols, normal_t, normal_v = _read_csv(case_dir / "normal.csv")
    anomal_cols, anomal_t, anomal_v = _read_csv(case_dir / "anomalous.csv")
    if normal_cols != anomal_cols:
        raise ValueError(f"{case_dir}: normal.csv and anomalous.csv have different columns")
    injected = float(anomal_t[0])
    recorded_after = bool(normal_t[-1] >= injected)
    step = float(np.median(np.diff(normal_t))) if normal_t.size > 1 else 1.0
    normal_t = normal_t - normal_t[-1] + injected - step
    keys = []
    for column in normal_cols:
        entity, _, signal = column.partition("_")
        kind = COLUMN_SIGNALS[signal][1] if signal in COLUMN_SIGNALS else None
        keys.append(SeriesKey(entity=entity, signal=signal or entity, kind=kind))
    values = np.ascontiguousarray(np.vstack([normal_v, anomal_v]).T)
    return SignalMatrix(np.concatenate([normal_t, anomal_t]), keys, values), injected, recorded_after


def in_vocabulary(raw: SignalMatrix) -> SignalMatrix:
    """The columns under the shipped tool's signal names (module docstring)."""
    load = {k.entity: raw.values[i] for i, k in enumerate(raw.keys) if k.signal == "lod"}
    rows: list[tuple[SeriesKey, FloatArray]] = []
    for i, key in enumerate(raw.keys):
        if key.signal == "cpu" and key.entity in load:
            per_request = cpu_per_request(raw.values[i], load[key.entity])
            rows.append((metric_key(key.entity, "cpu_per_request", "resource"), per_request))
        signal, kind = COLUMN_SIGNALS.get(key.signal, (key.signal, None))
        rows.append((metric_key(key.entity, signal, kind), raw.values[i]))
    return matrix_from_rows(raw.times, rows)


def load_window(case_dir: Path, sources: frozenset[Source]) -> CaseWindow:
    """One case's window (metrics only: the data set has no traces or logs)."""
    raw, injected, _ = raw_matrix(case_dir)
    return CaseWindow(
        matrix=in_vocabulary(raw),
        raw=raw,
        calls=sock_shop_calls(),
        injected=injected,
        latest=float(raw.times[-1]),
    )


def healthy_window(case_dir: Path, sources: frozenset[Source]) -> CaseWindow:
    """The case's normal segment alone, its second half taken as the window in which nothing happened."""
    whole = load_window(case_dir, sources)
    before = whole.raw.times < whole.injected
    times = whole.raw.times[before]

    def normal(m: SignalMatrix) -> SignalMatrix:
        return SignalMatrix(times=times, keys=list(m.keys), values=m.values[:, before])

    return CaseWindow(
        matrix=normal(whole.matrix),
        raw=normal(whole.raw),
        calls=whole.calls,
        injected=float(times[times.size // 2]),
        latest=float(times[-1]),
    )


def case_folders(root: Path) -> list[Path]:
    """Every `<service>-<fault>/<run>` folder holding both files, sorted by service, fault and run."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder (expected {LAYOUT})")
    folders = sorted(
        (p for p in root.glob("*-*/*") if (p / "normal.csv").is_file() and (p / "anomalous.csv").is_file()),
        key=lambda p: (p.parent.name, int(p.name) if p.name.isdigit() else 0),
    )
    if not folders:
        raise FileNotFoundError(f"no Sock Shop cases under {root} (expected {LAYOUT})")
    return folders


def _label(case_dir: Path) -> tuple[str, str]:
    service, _, fault = case_dir.parent.name.rpartition("-")
    if fault not in FAULT_TYPES or not service:
        raise ValueError(f"{case_dir}: folder {case_dir.parent.name!r} is not '<service>-<cpu|mem>'")
    return service, fault


def sockshop_cases(data_dir: Path) -> Iterator[RcaCase]:
    """Every fault case under `data_dir`."""
    for folder in case_folders(data_dir):
        service, fault = _label(folder)
        yield RcaCase(f"{service}-{fault}/{folder.name}", service, fault, partial(load_window, folder))


def sockshop_healthy(data_dir: Path) -> Iterator[RcaCase]:
    """One healthy window per case: its normal segment."""
    for folder in case_folders(data_dir):
        service, fault = _label(folder)
        yield RcaCase(
            f"{service}-{fault}/{folder.name}/normal", None, "healthy", partial(healthy_window, folder)
        )
