"""The 50 Sock Shop fault cases (azamikram/rcd data) as one time-ordered series per case.

Layout: `<service>-<cpu|mem>/<run>/{normal,anomalous}.csv`, columns `time` (unix seconds) then
`<service>_<metric>`. A case is the normal segment followed by the anomalous one; the fault time is
the first anomalous timestamp. The two files are not contiguous, and in one case (`orders-mem/5`)
the normal segment was recorded *after* the fault: its timestamps are re-based to end one step
before the fault, so that "baseline = before the fault time" holds for every method.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from tools.anomaly.rank import SeriesKey, SignalKind, SignalMatrix

FaultType = Literal["cpu", "mem"]
FAULT_TYPES: tuple[FaultType, ...] = ("cpu", "mem")
# What the data set's column suffixes measure. Tagged here, not guessed by the product: `lod` (load,
# requests per second) is this data set's own abbreviation, and product code must not know it.
COLUMN_KINDS: dict[str, SignalKind] = {
    "cpu": "resource",
    "mem": "resource",
    "lod": "traffic",
    "lat_50": "latency",
    "lat_90": "latency",
    "lat_99": "latency",
}


@dataclass(frozen=True)
class RcaCase:
    """One fault case: `values[t, c]` is column `columns[c]` at `times[t]`."""

    service: str
    fault: FaultType
    run: int
    columns: tuple[str, ...]
    times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    fault_time: float
    rebased: bool  # the normal segment was moved before the fault (recorded after it)

    @property
    def name(self) -> str:
        return f"{self.service}-{self.fault}/{self.run}"

    def signal_matrix(self) -> SignalMatrix:
        """The case as ranking input: entity = the service prefix, signal = the rest of the column, kind
        from `COLUMN_KINDS` (an unknown suffix is left to the ranking's name-based guess)."""
        keys = []
        for column in self.columns:
            entity, _, signal = column.partition("_")
            keys.append(SeriesKey(entity=entity, signal=signal or entity, kind=COLUMN_KINDS.get(signal)))
        return SignalMatrix(times=self.times, keys=keys, values=np.ascontiguousarray(self.values.T))


def _read_csv(path: Path) -> tuple[tuple[str, ...], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    with path.open(newline="") as handle:
        header = next(csv.reader(handle))
    if not header or header[0] != "time":
        raise ValueError(f"{path}: expected a first column named 'time', got {header[:1]}")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return tuple(header[1:]), table[:, 0], table[:, 1:]


def load_case(case_dir: Path) -> RcaCase:
    """Read one `<service>-<fault>/<run>` folder."""
    service, _, fault = case_dir.parent.name.rpartition("-")
    if fault not in FAULT_TYPES or not service:
        raise ValueError(f"{case_dir}: folder {case_dir.parent.name!r} is not '<service>-<cpu|mem>'")
    fault_type: FaultType = "cpu" if fault == "cpu" else "mem"
    normal_cols, normal_t, normal_v = _read_csv(case_dir / "normal.csv")
    anomal_cols, anomal_t, anomal_v = _read_csv(case_dir / "anomalous.csv")
    if normal_cols != anomal_cols:
        raise ValueError(f"{case_dir}: normal.csv and anomalous.csv have different columns")
    fault_time = float(anomal_t[0])
    rebased = bool(normal_t[-1] >= fault_time)
    if rebased:
        step = float(np.median(np.diff(normal_t))) if normal_t.size > 1 else 1.0
        normal_t = normal_t - normal_t[-1] + fault_time - step
    return RcaCase(
        service=service,
        fault=fault_type,
        run=int(case_dir.name),
        columns=normal_cols,
        times=np.concatenate([normal_t, anomal_t]),
        values=np.vstack([normal_v, anomal_v]),
        fault_time=fault_time,
        rebased=rebased,
    )


def load_cases(data_dir: Path | str) -> list[RcaCase]:
    """Every case under `data_dir`, sorted by service, fault type and run."""
    root = Path(data_dir)
    folders = sorted(
        (p for p in root.glob("*-*/*") if (p / "normal.csv").is_file() and (p / "anomalous.csv").is_file()),
        key=lambda p: (p.parent.name, int(p.name) if p.name.isdigit() else 0),
    )
    if not folders:
        raise FileNotFoundError(
            f"no Sock Shop cases under {root} (expected <service>-<cpu|mem>/<run>/{{normal,anomalous}}.csv;"
            " the sockshop-rcd data set: see the README, Benchmarks)"
        )
    return [load_case(p) for p in folders]
