"""Nezha's Train Ticket data as published (IntelligentDDS/Nezha): days, faults, metric tables, minute files.

SRC holds `rca_data/<day>/` (and optionally `construct_data/<day>/`, a fault-free stretch in the same
layout). A day folder has `<day>-fault_list.json`, `metric/<pod>_metric.csv` (60 s rows),
`metric/front_service.csv` (the entry's success rate and latency percentiles), and one file per minute
of spans (`trace/HH_MM_trace.csv`) and logs (`log/HH_MM_log.csv`).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from evals.recordings.importers.common import DatasetError

FRONT = "front_service.csv"
_TIME = re.compile(r"^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d{1,6})?)\d*\s*(Z|[+-]\d\d:?\d\d)?")
_MINUTE = re.compile(r"^(\d\d)_(\d\d)_")


@dataclass(frozen=True)
class Fault:
    at: datetime  # injection, UTC
    pod: str
    type: str
    where: str  # the fault list's file name and the entry, for provenance

    @property
    def service(self) -> str:
        return workload_of(self.pod)


def workload_of(pod: str) -> str:
    """A Deployment pod's workload: its name without the ReplicaSet hash and the pod suffix
    (`ts-contacts-service-866bd68c97-xcqfx` → `ts-contacts-service`)."""
    parts = pod.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else pod


@dataclass(frozen=True)
class Day:
    name: str  # the folder name, YYYY-MM-DD
    folder: Path  # rca_data/<day>
    construct: Path | None  # construct_data/<day>, when present
    fault_list: Path

    @property
    def date(self) -> date:
        try:
            return date.fromisoformat(self.name)
        except ValueError:
            raise DatasetError(f"{self.folder}: a day folder is named YYYY-MM-DD") from None


@dataclass(frozen=True)
class Table:
    """One metric CSV: sample times (unix s) and one float column per metric."""

    path: Path
    label: str  # PodName (or ServiceName of the front file)
    times: npt.NDArray[np.float64]
    columns: dict[str, npt.NDArray[np.float64]]


def find_days(src: Path) -> list[Day]:
    """Every `rca_data/<day>/` with a fault list (SRC may also be the rca_data folder itself)."""
    if not src.is_dir():
        raise DatasetError(f"{src}: not a folder (expected the Nezha data folder holding rca_data/)")
    rca = src / "rca_data" if (src / "rca_data").is_dir() else src
    days = []
    for folder in sorted(p for p in rca.iterdir() if p.is_dir()):
        lists = sorted(folder.glob("*fault_list.json"))
        if lists:
            construct = rca.parent / "construct_data" / folder.name
            days.append(Day(folder.name, folder, construct if construct.is_dir() else None, lists[0]))
    if not days:
        raise DatasetError(
            f"{src}: no rca_data/<day>/<day>-fault_list.json (the Nezha layout: "
            "rca_data/2023-01-29/2023-01-29-fault_list.json, metric/, trace/, log/)"
        )
    return days


def read_faults(day: Day) -> list[Fault]:
    """The day's faults in injection order. `inject_time` is read as UTC (`inject_timestamp` is wrong
    in most published entries)."""
    try:
        doc = json.loads(day.fault_list.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{day.fault_list}: not readable JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise DatasetError(f"{day.fault_list}: expected {{hour: [faults]}}")
    faults = []
    for hour, entries in doc.items():
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            where = f"{day.fault_list}: [{hour!r}][{index}]"
            try:
                at = parse_time(str(entry["inject_time"]))
                entry_name = f"{day.fault_list.name}[{hour!r}][{index}]"
                faults.append(Fault(at, str(entry["inject_pod"]), str(entry["inject_type"]), entry_name))
            except (KeyError, TypeError) as exc:
                raise DatasetError(
                    f"{where}: field {exc} missing (inject_time, inject_pod, inject_type)"
                ) from None
            except ValueError as exc:
                raise DatasetError(f"{where}.inject_time: {exc}") from None
    return sorted(faults, key=lambda f: f.at)


def parse_time(text: str) -> datetime:
    """`2023-01-29 08:43:04`, `2023-01-29 08:41:09.043078357 +0000 UTC m=+0.1`, RFC 3339; no zone = UTC."""
    found = _TIME.match(text.strip())
    if not found:
        raise ValueError(f"{text!r} is not a date and time")
    zone = found[2] or "+00:00"
    stamp = datetime.fromisoformat(found[1].replace(" ", "T") + ("+00:00" if zone == "Z" else zone))
    return stamp.astimezone(UTC)


def read_table(path: Path, label_column: str) -> Table:
    """A metric CSV: `Time` (or `TimeStamp`), a label column, then numeric columns ('' and NaN = none)."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror}") from None
    if not rows:
        raise DatasetError(f"{path}: no rows")
    names = [n for n in rows[0] if n not in ("Time", "TimeStamp", label_column)]
    times, values = [], []
    for number, row in enumerate(rows, start=2):
        try:
            when = parse_time(row["Time"]).timestamp() if row.get("Time") else float(row["TimeStamp"])
            values.append([float(row[n]) if row[n] not in ("", None) else np.nan for n in names])
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(
                f"{path}:{number}: {exc} (expected Time, {label_column} and numbers)"
            ) from None
        times.append(when)
    order = np.argsort(times, kind="stable")
    matrix = np.asarray(values, dtype=np.float64)[order]
    return Table(
        path=path,
        label=rows[0].get(label_column) or path.stem,
        times=np.asarray(times, dtype=np.float64)[order],
        columns={n: matrix[:, i] for i, n in enumerate(names)},
    )


def pod_tables(day: Day) -> list[Table]:
    """Every `metric/<pod>_metric.csv` of the day."""
    return [read_table(p, "PodName") for p in sorted((day.folder / "metric").glob("*_metric.csv"))]


def front_table(day: Day) -> Table | None:
    path = day.folder / "metric" / FRONT
    return read_table(path, "ServiceName") if path.is_file() else None


def minute_files(
    folders: list[Path], part: str, day: date, start: datetime | None = None, end: datetime | None = None
) -> list[Path]:
    """`<folder>/<part>/HH_MM_<part>.csv` files that may hold rows in [start, end] (all without bounds).
    A file named for minute M holds roughly the minute before M; two minutes of slack either side keep
    every row (rows are filtered by their own timestamps). A file whose name says no minute is read."""
    chosen = []
    for folder in folders:
        for path in sorted((folder / part).glob("*.csv")):
            found = _MINUTE.match(path.name)
            if found and start is not None and end is not None:
                minute = datetime(day.year, day.month, day.day, int(found[1]), int(found[2]), tzinfo=UTC)
                if minute < start - timedelta(minutes=2) or minute > end + timedelta(minutes=2):
                    continue
            chosen.append(path)
    return chosen
