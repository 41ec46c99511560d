"""PetShop's `metrics.csv` and `graph.csv` as published (amazon-science/petshop-root-cause-analysis).

`metrics.csv`: three header rows (node, metric, statistic), then rows of `unix_timestamp,values...`
(pandas also writes an index-name row, `unix_timestamp,,,...`, which is skipped). Values may be
empty. A row is one CloudWatch period, stamped with the period's start.
`graph.csv`: an adjacency matrix, row = caller, column = callee, 1 = edge.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from evals.recordings.importers.common import DatasetError

Column = tuple[str, str, str]  # (node, metric, statistic)


@dataclass(frozen=True)
class Table:
    path: Path
    columns: list[Column]
    starts: npt.NDArray[np.float64]  # period starts, unix seconds, ascending
    values: npt.NDArray[np.float64]  # rows × columns, NaN where empty

    @property
    def step(self) -> float:
        """The period length: the most common gap between rows (300 s in the published data)."""
        if len(self.starts) < 2:
            raise DatasetError(f"{self.path}: fewer than two rows; the period length cannot be told")
        gaps, counts = np.unique(np.diff(self.starts), return_counts=True)
        return float(gaps[np.argmax(counts)])

    def column(self, node: str, metric: str, statistic: str) -> int | None:
        try:
            return self.columns.index((node, metric, statistic))
        except ValueError:
            return None


def read_table(path: Path) -> Table:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror}") from None
    if len(rows) < 4 or len({len(r) for r in rows[:3]}) != 1:
        raise DatasetError(f"{path}: expected three header rows (node, metric, statistic) then data rows")
    nodes, metrics, stats = (r[1:] for r in rows[:3])
    columns = list(zip(nodes, metrics, stats, strict=True))
    starts: list[float] = []
    values: list[list[float]] = []
    for number, row in enumerate(rows[3:], start=4):
        try:
            start = float(row[0])
        except (ValueError, IndexError):
            continue  # the index-name row pandas writes under the headers
        if len(row) != len(columns) + 1:
            raise DatasetError(f"{path}:{number}: {len(row) - 1} values for {len(columns)} columns")
        try:
            values.append([float(v) if v.strip() else np.nan for v in row[1:]])
        except ValueError as exc:
            raise DatasetError(f"{path}:{number}: not a number: {exc}") from None
        starts.append(start)
    if not starts:
        raise DatasetError(f"{path}: no data rows (rows start with a unix timestamp)")
    order = np.argsort(starts, kind="stable")
    return Table(
        path=path,
        columns=columns,
        starts=np.asarray(starts, dtype=np.float64)[order],
        values=np.asarray(values, dtype=np.float64).reshape(len(starts), len(columns))[order],
    )


def read_graph(path: Path) -> dict[str, list[str]]:
    """caller → callees, every node of the matrix a key."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror}") from None
    if not rows or len(rows[0]) < 2:
        raise DatasetError(f"{path}: expected an adjacency matrix with a header row of callee names")
    callees = rows[0][1:]
    graph: dict[str, list[str]] = {name: [] for name in callees}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(callees) + 1:
            raise DatasetError(f"{path}:{number}: {len(row) - 1} cells for {len(callees)} columns")
        caller = row[0]
        edges = graph.setdefault(caller, [])
        for callee, cell in zip(callees, row[1:], strict=True):
            try:
                linked = float(cell or 0) != 0
            except ValueError:
                raise DatasetError(f"{path}:{number}: cell for {callee!r} is {cell!r}, not 0 or 1") from None
            if linked and callee != caller:
                edges.append(callee)
    return graph
