"""Which healthy operation a PetShop scenario is compared with: its own `noissue/`, or a sibling's.

Why: some scenarios of the data set ship no `noissue/` data, and their issue windows hold only one or
two rows before the violation, so with nothing to compare with no method can judge them. The same
application's healthy operation at other load patterns is there, in the sibling scenarios. An SRE
team with no baseline for a system at one load compares with the nearest healthy data of the same
system; so does this, by a rule that reads no label:

- a scenario with `noissue/metrics.csv` uses its own (unchanged);
- otherwise a sibling: a folder beside it (same parent) with `graph.csv` and `noissue/metrics.csv`
  whose call graph holds at least half of the scenario's nodes (the same application). The one
  chosen is the sibling whose healthy request volume is nearest, in |log ratio|, to the volume of
  the scenario's own issue rows before their violation (the rows a method may read as "before").
  Volume: the median over rows of the per-row sum of the `requests`/`Sum` columns both sides have
  (a column only one side has would tilt the sum). Ties go to the first name;
- no such sibling, or no issue row before a violation to measure: no reference.

A sibling's rows are kept only for the nodes the scenario itself has (its graph and issue tables): a
node the reference lacks is simply absent from the history, a node the scenario lacks is not added.

One function for every reader: the bench (`evals/bench/rca/cases_petshop.py`: the ranking's history
and the anomaly-traversal peer's fit) and the importer (`medic import petshop`: the recordings'
history, which the whole-agent replay reads), so medic, its peers and the replay see the same
reference. Healthy windows for specificity are cut from a scenario's OWN `noissue/` only: a
sibling's data is not that scenario's healthy operation.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from evals.recordings.importers.common import DatasetError
from evals.recordings.importers.petshop_table import Column, Table, read_graph, read_table

NOISSUE = Path("noissue") / "metrics.csv"
SAME_APPLICATION = 0.5  # share of the scenario's graph nodes a sibling's graph must hold
VOLUME = ("requests", "Sum")
Rows = npt.NDArray[np.intp]  # row indexes of a table
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class HealthyReference:
    table: Table  # noissue rows (a sibling's: only the columns of the scenario's nodes)
    scenario: Path  # whose noissue/ it is
    own: bool

    @property
    def label(self) -> str:
        """`own` or `sibling:<folder name>`, as the bench and the recordings' provenance say it."""
        return "own" if self.own else f"sibling:{self.scenario.name}"


@lru_cache(maxsize=8)
def healthy_reference(scenario: Path) -> HealthyReference | None:
    """The healthy rows `scenario`'s history and fits come from (module docstring), or None."""
    own = scenario / NOISSUE
    if own.is_file():
        return HealthyReference(read_table(own), scenario, own=True)
    nodes = set(read_graph(scenario / "graph.csv"))
    before = _rows_before_violation(scenario)
    nodes |= {column[0] for table, _ in before for column in table.columns}
    if not any(rows.size for _, rows in before):
        return None
    best: tuple[float, str, Table] | None = None
    for sibling in _siblings(scenario, nodes):
        healthy = read_table(sibling / NOISSUE)
        distance = _volume_distance(before, healthy)
        if distance is not None and (best is None or (distance, sibling.name) < best[:2]):
            best = (distance, sibling.name, healthy)
    if best is None:
        return None
    return HealthyReference(_only_nodes(best[2], nodes), scenario.parent / best[1], own=False)


def _siblings(scenario: Path, nodes: set[str]) -> list[Path]:
    """Folders beside `scenario` in the same layout, with healthy data, of the same application."""
    found = []
    for folder in sorted(scenario.parent.iterdir()):
        if folder == scenario or not (folder / "graph.csv").is_file() or not (folder / NOISSUE).is_file():
            continue
        shared = len(nodes & set(read_graph(folder / "graph.csv")))
        if shared >= SAME_APPLICATION * len(nodes):
            found.append(folder)
    return found


def _rows_before_violation(scenario: Path) -> list[tuple[Table, Rows]]:
    """Each issue table of every split, with the indexes of its rows before the violated period (the
    first lying mostly after `target.timestamp`, where the alert fires)."""
    issues = [
        issue
        for split in sorted(p for p in scenario.iterdir() if p.is_dir() and p.name != "noissue")
        for issue in sorted(split.iterdir())
        if (issue / "target.json").is_file() and (issue / "metrics.csv").is_file()
    ]
    found = []
    for issue in issues:
        table = read_table(issue / "metrics.csv")
        at = _violation(issue / "target.json")
        found.append((table, np.flatnonzero(table.starts < at - table.step / 2)))
    return found


def _violation(path: Path) -> float:
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["target"]["timestamp"])
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: not readable JSON: {exc}") from None
    except (KeyError, TypeError, ValueError):
        raise DatasetError(f"{path}: field target.timestamp missing or not a number") from None


def _volume_distance(before: list[tuple[Table, Rows]], healthy: Table) -> float | None:
    """|log(volume of the issue rows before violation / healthy volume)|, summing the same columns on
    both sides: the request counts the healthy table and every measured issue table have."""
    measured = [(table, rows) for table, rows in before if rows.size]
    shared = {c for c in healthy.columns if c[1:] == VOLUME}
    for table, _ in measured:
        shared &= set(table.columns)
    issue_volume = _median(np.concatenate([_row_sums(table, shared)[rows] for table, rows in measured]))
    healthy_volume = _median(_row_sums(healthy, shared))
    if not (issue_volume > 0 and healthy_volume > 0):
        return None
    return abs(math.log(issue_volume / healthy_volume))


def _row_sums(table: Table, columns: set[Column]) -> Floats:
    """Per row, the sum of `columns` the table has; NaN where all of them are empty."""
    index = [i for i, c in enumerate(table.columns) if c in columns]
    if not index:
        return np.full(table.starts.size, np.nan)
    values = table.values[:, index]
    return np.where(np.isnan(values).all(axis=1), np.nan, np.nansum(values, axis=1))


def _median(values: Floats) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else math.nan


def _only_nodes(table: Table, nodes: set[str]) -> Table:
    keep = [i for i, c in enumerate(table.columns) if c[0] in nodes]
    return replace(table, columns=[table.columns[i] for i in keep], values=table.values[:, keep])
